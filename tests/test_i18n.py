"""Messages in Chinese and English: the catalog covers every message, keeps every field, and is what runs.

The catalog is src/paperkit/locale/zh_CN/LC_MESSAGES/paperkit.po (`make i18n` adds new messages to it; `make`
compiles it). These tests read the code's messages the way `make i18n` does (Babel's extractor) and compare.
"""

from __future__ import annotations

import ast
import gettext
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from paperkit import i18n
from paperkit.cli.clickwords import click_message, translate_help

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "paperkit"
PO = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "paperkit.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"\{[^}]*\}|--[\w-]+|`[^`]*`|[\w./-]+\.(?:yaml|pdf|csv|xlsx|json|docx)")
CODE = re.compile(r"\{[^}]*\}|--[\w-]+|`[^`]*`|[\w./-]+\.(?:yaml|pdf|csv|xlsx|json|docx)")


def _extracted() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault(key, (f"{filename}:{lineno}",))
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def _strings(entry) -> list[str]:
    return list(entry.string) if isinstance(entry.string, (tuple, list)) else [entry.string]


def _fields(text: str) -> set[str]:
    """The {fields} of a message; a message with a lone brace is not a format string (it is never formatted)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


def test_every_message_in_the_code_has_a_chinese_translation(catalog) -> None:
    missing = []
    for message, (where,) in sorted(_extracted().items()):
        entry = catalog.get(message)
        if entry is None or entry.fuzzy or not all(_strings(entry)):
            missing.append(f"{where}: {message!r}")
    assert not missing, (
        f"{len(missing)} messages without a Chinese translation (run `make i18n`, then translate):\n"
        + ("\n".join(missing[:40]))
    )


def test_the_catalog_has_no_message_the_code_no_longer_uses(catalog) -> None:
    used = set(_extracted())
    stale = sorted(entry.id if isinstance(entry.id, str) else entry.id[0] for entry in catalog if entry.id)
    assert [message for message in stale if message not in used] == []


def test_every_translation_keeps_the_fields_of_its_message(catalog) -> None:
    wrong = []
    for entry in catalog:
        if not entry.id:
            continue
        source = entry.id if isinstance(entry.id, str) else entry.id[0]
        for text in _strings(entry):
            if text and _fields(text) != _fields(source):
                wrong.append(f"{source!r} -> {text!r}")
            # an untranslated copy of the English (allowed only for texts with no words left once code is taken out)
            words = re.search(r"[A-Za-z]{3,}", CODE.sub("", source))
            if text and words and CJK.search(text) is None and CJK.search(source) is None:
                wrong.append(f"{source!r} is not translated: {text!r}")
    assert wrong == []


def test_the_compiled_catalog_is_the_one_in_git(catalog) -> None:
    assert MO.exists(), "the compiled catalog is missing; `make` compiles it"
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in catalog:
        if not entry.id or entry.fuzzy:
            continue
        if isinstance(entry.id, str):
            assert compiled.gettext(entry.id) == entry.string, entry.id
        else:
            assert compiled.ngettext(entry.id[0], entry.id[1], 2) == _strings(entry)[0], entry.id


# -- the code asks for translations the way the catalog can hold them ---------------------------

CALLS = {"_", "N_", "ngettext"}


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """paperkit's own error classes (a user reads their message), found by their bases."""
    names = {"PaperkitError", "Problem", "FigureProblem"}
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


@pytest.fixture(scope="module")
def trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def _is_text(node: ast.AST) -> bool:
    """An English sentence written in place: an f-string, or a literal with a word in it."""
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and re.search(r"[A-Za-z]{2,}", str(part.value)) for part in node.values
        )
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", node.value) is not None
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return False


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_messages_are_literal_text_with_named_fields(trees) -> None:
    wrong = []
    for path, tree in trees.items():
        # the messages that are formatted: _(…).format(…) and ngettext(…).format(…)
        formatted = {
            id(node.func.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS:
                for arg in node.args[: 2 if node.func.id == "ngettext" else 1]:
                    # a variable holds a message marked with N_ where it is defined; built text is never in the catalog
                    if isinstance(arg, (ast.JoinedStr, ast.BinOp, ast.Call)) or (
                        node.func.id == "N_" and not _literal(arg)
                    ):
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}() of built text")
                    elif not _literal(arg):
                        continue
                    elif id(node) in formatted and any(name == "" or name[0].isdigit() for name in _fields(arg.value)):
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: positional field in {arg.value!r}")
    assert wrong == []


def test_no_error_message_bypasses_the_catalog(trees) -> None:
    """Every paperkit error and located problem is built from _(…): an f-string or sentence there is English only."""
    errors = _error_classes(trees)
    wrong = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            shown = name in errors or name in {"warn", "echo", "secho"}
            if shown and any(_is_text(arg) for arg in [*node.args, *(k.value for k in node.keywords)]):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}(…) of text not from the catalog")
    assert wrong == [], "\n".join(wrong)


# -- choosing the language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh"),
        ({"PAPERKIT_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"PAPERKIT_LANG": "zh", "LANG": "C"}, "zh"),
        ({"PAPERKIT_LANG": "klingon", "LANG": "zh_CN.UTF-8"}, "zh"),
    ],
)
def test_the_language_follows_paperkit_lang_then_the_locale(environ: dict[str, str], expected: str) -> None:
    assert i18n.language_from_environment(environ) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["exam", "--lang", "zh"], "zh"),
        (["--lang=en", "exam"], "en"),
        (["--lang", "zh_CN.UTF-8"], "zh"),
        (["exam", "--", "--lang", "zh"], None),
        (["exam"], None),
    ],
)
def test_lang_is_read_from_the_command_line_before_help_is_made(argv: list[str], expected: str | None) -> None:
    assert i18n.language_in_argv(argv) == expected


@pytest.fixture
def chinese():
    i18n.set_language("zh")
    yield
    i18n.set_language(None)


def test_a_message_is_chinese_when_chinese_is_asked_for(chinese) -> None:
    from paperkit.errors import ContentError, Problem

    error = ContentError([Problem("source/modules/01.yaml", 3, "q", "x")], "source/")
    assert CJK.search(error.summary())
    assert "source/" in error.summary()
    assert str(error.problems[0]).startswith("source/modules/01.yaml:3: q: ")  # the prefix stays machine-readable


def test_english_is_the_code_itself() -> None:
    from paperkit.errors import ContentError, Problem

    assert (
        ContentError([Problem("f", 1, "q", "x")] * 2, "source/").summary() == "2 errors in source/; nothing was built."
    )


# -- the framework's own words ------------------------------------------------------------------


def _click_error(argv: list[str]) -> BaseException:
    from paperkit.cli import app

    with pytest.raises(Exception) as caught:
        app(argv, standalone_mode=False, prog_name="paperkit")
    return caught.value


@pytest.mark.parametrize(
    "argv",
    [
        ["exam", "--no-such-flag"],
        ["exam", "--modul", "2"],
        ["no-such-command"],
        ["scoresheet"],
        ["validate", "extra"],
        ["exam", "--modules"],
        ["handbook", "--allow-overflow=yes"],
    ],
)
def test_every_usage_error_the_parser_raises_is_translated(argv: list[str], chinese) -> None:
    error = _click_error(argv)
    message = click_message(error)
    assert CJK.search(message), (error.format_message(), message)  # type: ignore[attr-defined]


def test_help_pages_have_no_english_framework_words_left(chinese) -> None:
    from typer.testing import CliRunner

    from paperkit.cli import app

    for argv in (["--help"], ["exam", "--help"], ["bank"]):
        page = CliRunner().invoke(app, argv).output
        for phrase in ("Usage:", "Options:", "Commands:", "Show this message", "[default:", "completion for"):
            assert phrase not in page, (argv, phrase)
        assert translate_help("Usage: x") != "Usage: x"


def test_chinese_help_lines_fit_the_terminal_and_break_between_characters() -> None:
    from paperkit.cli.clickwords import _cells, wrap_wide

    text = "从哪些模块抽题，如 2,3,8（见 `paperkit list`）。不小于 0 的整数；随机种子相同，试卷永远相同。" * 3
    lines = wrap_wide(text, 40, "  ", "    ")
    assert len(lines) > 3
    assert all(_cells(line) <= 40 for line in lines), lines
    assert all(line.strip()[0] not in "，。；：）、" for line in lines)
    assert all(line.rstrip()[-1] not in "（「" for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert lines[0].startswith("  ") and not lines[0].startswith("   ") and lines[1].startswith("    ")


def test_chinese_without_its_compiled_catalog_is_english_and_says_so(tmp_path, monkeypatch) -> None:
    from paperkit.errors import ContentError, Problem

    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)  # as after an install that skipped `make`
    i18n.set_language("zh")
    try:
        assert i18n.catalog_missing()
        assert ContentError([Problem("f", 1, "q", "x")], "s/").summary() == "1 error in s/; nothing was built."
    finally:
        i18n.set_language(None)
    assert not i18n.catalog_missing()  # English needs no catalog
