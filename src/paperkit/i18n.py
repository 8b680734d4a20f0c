"""The language paperkit speaks: Simplified Chinese or English, from message catalogs kept with gettext.

Every message a user reads is written in English in the code as `_("… {name} …").format(name=…)` (named fields,
so a translation may put them in another order) and translated from `locale/<lang>/LC_MESSAGES/paperkit.mo`, which
`make` compiles from the `.po` kept in git (`make i18n` extracts and updates it; see docs/architecture.md).
File:line:field prefixes, option names, YAML field names and kind names are never translated: scripts read them.

The language is chosen once per process, in this order: `--lang` (the CLI sets it), PAPERKIT_LANG, then the
POSIX locale variables LC_ALL, LC_MESSAGES, LANG (LANGUAGE's first entry before them, as gettext does).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "paperkit"
LANGUAGES = ("zh", "en")

_chosen: str | None = None
_catalog: gettext.NullTranslations | None = None


def language_from(value: str) -> str | None:
    """`zh`, `zh_CN.UTF-8`, `zh-Hans` → "zh"; `en`, `en_US.UTF-8`, `C`, `POSIX` → "en"; anything else None."""
    head = value.strip().lower().replace("-", "_").split(".")[0].split("@")[0]
    if head.startswith("zh"):
        return "zh"
    if head.startswith("en") or head in ("c", "posix"):
        return "en"
    return None


def language_from_environment(environ: dict[str, str] | None = None) -> str:
    """The language the environment asks for: PAPERKIT_LANG, then LANGUAGE, LC_ALL, LC_MESSAGES, LANG; else English."""
    env = os.environ if environ is None else environ
    for name in ("PAPERKIT_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if name == "LANGUAGE":
            value = value.split(":")[0]
        if value:
            found = language_from(value)
            if found is not None:
                return found
            if name == "PAPERKIT_LANG":
                continue  # a misspelt PAPERKIT_LANG falls through to the locale; the CLI warns about it
            return "en"  # the first locale variable set decides, as gettext does (LANG=fr_FR: English)
    return "en"


def language_in_argv(argv: list[str]) -> str | None:
    """The language `--lang X` / `--lang=X` asks for on a command line (read before the help texts are made)."""
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and index + 1 < len(argv):
            return language_from(argv[index + 1])
        if word.startswith("--lang="):
            return language_from(word.split("=", 1)[1])
    return None


def set_language(language: str | None) -> None:
    """Speak `language` ("zh" or "en") from now on; None chooses again from the environment."""
    global _chosen, _catalog
    _chosen = language
    _catalog = None


def current_language() -> str:
    """The language messages are in now."""
    global _chosen
    if _chosen is None:
        _chosen = language_from_environment()
    return _chosen


def _translations() -> gettext.NullTranslations:
    global _catalog
    if _catalog is None:
        if current_language() == "zh":
            _catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=["zh_CN"], fallback=True)
        else:
            _catalog = gettext.NullTranslations()
    return _catalog


def catalog_missing() -> bool:
    """Whether Chinese was asked for but its compiled catalog is not installed (`make` compiles it)."""
    return current_language() == "zh" and not isinstance(_translations(), gettext.GNUTranslations)


def _(message: str) -> str:
    """`message` in the current language (itself when it has no translation)."""
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for `count`, in the current language."""
    return _translations().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` for the catalog where it is defined; it is translated with _() where it is shown."""
    return message
