"""The command-line framework's own words (usage errors, help headings) in paperkit's language.

Typer's vendored Click writes its messages as plain English f-strings, so they cannot go through gettext. Its
usage errors are matched by their text and rewritten from our catalog; its help is rewritten line by line. In
English both come out unchanged; tests/test_i18n.py fails if a Typer upgrade changes a phrase we translate.
"""

from __future__ import annotations

import re

from paperkit.i18n import N_, _, current_language

# (pattern on Click's message, our message with the pattern's fields). Order matters: the first match wins.
_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"No such option: (?P<option>\S+) \(Possible options: (?P<options>.+)\)"),
        N_("No such option: {option} (did you mean {options}?)"),
    ),
    (re.compile(r"No such option: (?P<option>\S+)"), N_("No such option: {option}")),
    (re.compile(r"No such command '(?P<name>.*)'\."), N_("No such command {name!r}.")),
    (re.compile(r"Missing command\."), N_("Missing command.")),
    (re.compile(r"Missing option (?P<name>.+?)\.(?: .*)?"), N_("Missing option {name}.")),
    (re.compile(r"Missing argument (?P<name>.+?)\.(?: .*)?"), N_("Missing argument {name}.")),
    (re.compile(r"Invalid value for (?P<name>.+?): (?P<reason>.+)"), N_("Invalid value for {name}: {reason}")),
    (
        re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((?P<words>.*)\)"),
        N_("Got unexpected extra argument(s): {words}"),
    ),
    (re.compile(r"Option '(?P<option>.+?)' does not take a value\."), N_("Option {option} does not take a value.")),
    (re.compile(r"Option '(?P<option>.+?)' requires an argument\."), N_("Option {option} requires a value.")),
    (
        re.compile(r"Option '(?P<option>.+?)' requires (?P<count>\d+) arguments\."),
        N_("Option {option} requires {count} values."),
    ),
]

# Help lines: section headings and the [default]/[required] marks; then the help and completion options' texts.
_HELP: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<indent>\s*)Usage: "), N_("Usage: ")),
    (re.compile(r"^(?P<indent>\s*)Options:$"), N_("Options:")),
    (re.compile(r"^(?P<indent>\s*)Commands:$"), N_("Commands:")),
    (re.compile(r"^(?P<indent>\s*)Arguments:$"), N_("Arguments:")),
]
_PHRASES = [
    N_("Show this message and exit."),
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
]
_MARKS = re.compile(r"\[(?P<word>default|required)(?P<rest>:\s[^\]]*)?\]")


def click_message(error: BaseException) -> str:
    """A Click usage error's message in the current language."""
    message = error.format_message()  # type: ignore[attr-defined]
    if current_language() == "en":
        return message
    for pattern, template in _ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return _(template).format(**found.groupdict())
    return message


def translate_help(text: str) -> str:
    """Click's help page with the framework's words in the current language (our own texts are already)."""
    if current_language() == "en":
        return text
    text = _MARKS.sub(_mark, text)  # a mark may be wrapped over two lines
    lines = []
    for line in text.split("\n"):
        for pattern, heading in _HELP:
            found = pattern.match(line)
            if found:
                line = (
                    found["indent"] + _(heading) + line[found.end() :]
                    if heading == "Usage: "
                    else found["indent"] + _(heading)
                )
                break
        lines.append(line)
    return "\n".join(lines)


def _mark(found: re.Match[str]) -> str:
    word = _("default") if found["word"] == "default" else _("required")  # the marks after an option's help
    return f"[{word}{found['rest'] or ''}]"


_WIDE = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_TOKENS = re.compile(rf"\s+|[{_WIDE}]|[^\s{_WIDE}]+")
_NO_LINE_START = set("，。、；：？！）」』》〉”’,.;:?!)]")
_NO_LINE_END = set("（「『《〈“‘([")


def _cells(text: str) -> int:
    return sum(2 if re.match(rf"[{_WIDE}]", char) else 1 for char in text)


def wrap_wide(text: str, width: int, first_indent: str = "", next_indent: str = "") -> list[str]:
    """Lines of `text` at most `width` terminal cells wide, counting a Chinese character as two and breaking
    between Chinese characters as well as at spaces; no line starts with a closing mark or ends with an opening one."""
    words: list[str] = []
    for token in _TOKENS.findall(text):
        if words and not words[-1].isspace() and (token[0] in _NO_LINE_START or words[-1][-1] in _NO_LINE_END):
            words[-1] += token
        else:
            words.append(token)
    lines: list[str] = []
    line, indent, space = "", first_indent, False
    for word in words:
        if word.isspace():
            space = bool(line)
            continue
        joined = line + (" " if space else "") + word
        if line and _cells(indent + joined) > width:
            lines.append(indent + line)
            line, indent = word, next_indent
        else:
            line = joined
        space = False
    if line:
        lines.append(indent + line)
    return lines


def install() -> None:
    """Route every help page (`--help`, a command run without arguments) through translate_help, and wrap its
    Chinese lines by their width on the terminal (Click breaks only at spaces and counts a character as one)."""
    from typer._click import _textwrap
    from typer._click.core import Context

    class WideTextWrapper(_textwrap.TextWrapper):
        def wrap(self, text: str) -> list[str]:
            if current_language() == "en":
                return super().wrap(text)
            return wrap_wide(text, self.width, self.initial_indent, self.subsequent_indent)

    _textwrap.TextWrapper = WideTextWrapper  # type: ignore[misc]

    original = Context.get_help
    if getattr(original, "_paperkit", False):
        return

    def get_help(self: Context) -> str:
        # The framework's option texts are translated before Click wraps them into lines.
        for param in self.command.get_params(self):
            if getattr(param, "help", None) in _PHRASES:
                param.help = _(param.help)  # type: ignore[attr-defined]
        return translate_help(original(self))

    get_help._paperkit = True  # type: ignore[attr-defined]
    Context.get_help = get_help  # type: ignore[method-assign]
