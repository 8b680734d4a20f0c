"""One YAML file read safely: its size and characters checked, syntax errors explained with a quoting hint,
and a mapping read against its field table into plain values with the line of every field."""

from __future__ import annotations

import difflib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paperkit.content.models import Origin
from paperkit.errors import Problem
from paperkit.i18n import _
from paperkit.paths import file_kind
from paperkit.text.figures import FIGURE, FigureProblem, check_raster, keep, parse_options, read_figure

# A handbook file is a few hundred lines; anything this large is a mistake (or a YAML bomb).
MAX_FILE_BYTES = 2 * 1024 * 1024

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL = "tag:yaml.org,2002:null"
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
}


@dataclass(frozen=True)
class Field:
    """One allowed key of a mapping: its kind (text, int, flag, texts, records) and whether it is required."""

    name: str
    kind: str
    required: bool = True
    record: tuple[Field, ...] = ()


def display_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory when inside it."""
    try:
        shown = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if shown.startswith("..") else shown


class FileReader:
    """Turns one YAML file's node tree into plain values, collecting problems instead of raising."""

    def __init__(
        self, file: str, problems: list[Problem], figures: Path | None = None, notes: list[str] | None = None
    ) -> None:
        self.file = file
        self.problems = problems
        self.figures = figures  # the source folder figures are read from (None: a file that has no figures)
        self.notes = notes if notes is not None else []  # warnings: what prints, but not as well as it should
        self._seen: set[int] = set()

    def problem(self, node: yaml.Node | None, path: str, message: str) -> None:
        """Record one problem at a node's line and column."""
        line = node.start_mark.line + 1 if node is not None else 0
        column = node.start_mark.column + 1 if node is not None else 0
        self.problems.append(Problem(self.file, line, path, message, column))

    def mapping(self, node: yaml.Node, path: str, fields: tuple[Field, ...]) -> tuple[dict[str, Any], Origin] | None:
        """Read a mapping against its allowed fields; None if it is not a mapping at all."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node, path or "(top level)", _("expected a mapping of fields, got {what}").format(what=_describe(node))
            )
            return None
        if not self._first_visit(node, path):
            return None
        allowed = {f.name: f for f in fields}
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        columns: dict[str, int] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            field_path = _join(path, str(key))
            if key is None:
                self.problem(
                    key_node,
                    path or "(top level)",
                    _("expected a field name, got {what}").format(what=_describe(key_node)),
                )
                continue
            if key in first_line:
                self.problem(
                    key_node,
                    field_path,
                    _("duplicate field (first given on line {line})").format(line=first_line[key]),
                )
                continue
            first_line[key] = key_node.start_mark.line + 1
            spec = allowed.get(key)
            if spec is None:
                self.problem(key_node, field_path, _unknown_field(key, allowed))
                continue
            lines[key] = value_node.start_mark.line + 1
            columns[key] = value_node.start_mark.column + 1
            value = self.value(value_node, field_path, spec, (lines, columns), key)
            if value is not None:
                values[key] = value
        for spec in fields:
            if spec.required and spec.name not in first_line:
                self.problem(node, _join(path, spec.name), _("missing (required field)"))
        origin = Origin(self.file, path, node.start_mark.line + 1, lines, node.start_mark.column + 1, columns)
        return values, origin

    def value(
        self, node: yaml.Node, path: str, spec: Field, places: tuple[dict[str, int], dict[str, int]], key: str
    ) -> Any:
        """Read one field's value by its kind."""
        if spec.kind == "text":
            return self.text(node, path, required=True)
        if spec.kind == "int":
            return self.integer(node, path)
        if spec.kind == "flag":
            return self.flag(node, path)
        items = self.sequence(node, path, required=spec.required)
        if items is None:
            return None
        if spec.kind == "texts":
            out = []
            for index, item in enumerate(items):
                places[0][f"{key}[{index}]"] = item.start_mark.line + 1
                places[1][f"{key}[{index}]"] = item.start_mark.column + 1
                text = self.text(item, f"{path}[{index}]", required=True)
                if text is not None:
                    out.append(text)
            return tuple(out)
        records = []
        for index, item in enumerate(items):
            record = self.mapping(item, f"{path}[{index}]", spec.record)
            if record is not None and self.complete(item, record[0], spec.record):
                records.append(record)
        return records

    def complete(self, node: yaml.Node, values: dict[str, Any], fields: tuple[Field, ...]) -> bool:
        """Whether a mapping read with problems can still be built and checked: every required field and every
        field it gives were read. A record that cannot is left out (its problems are reported); one that can is
        kept, so the checks after reading (kinds, glyphs, ids) still see it and the teacher sees all in one run."""
        given = {key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
        wanted = {f.name for f in fields if f.required} | (given & {f.name for f in fields})
        return wanted <= values.keys()

    def text(self, node: yaml.Node, path: str, required: bool) -> str | None:
        """A text value: any plain scalar taken verbatim, so `2.10` or `yes` stay as written."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(
                node, path, _("expected text, got {what}{hint}").format(what=_describe(node), hint=_text_hint(node))
            )
            return None
        if node.tag == _NULL or not node.value.strip():
            if required:
                self.problem(node, path, _("must not be empty"))
            return None
        if node.tag not in _PLAIN_TAGS:
            self.problem(node, path, _("expected text, got a value tagged {tag}").format(tag=node.tag))
            return None
        if len(node.value) > MAX_TEXT:
            self.problem(
                node,
                path,
                _("{count} characters; a text may be at most {limit} long").format(
                    count=len(node.value), limit=MAX_TEXT
                ),
            )
            return None
        control = _CONTROL.search(node.value)
        if control:
            self.problem(node, path, _control_message(control.group(0), node.style == '"'))
            return None
        value = node.value.strip()
        return self.with_figures(node, path, value) if "![" in value else value

    def with_figures(self, node: yaml.Node, path: str, text: str) -> str:
        """The text with each figure reference checked and pointed at the figure's kept bytes (text.figures)."""

        code = [span.span() for span in _CODE_SPAN.finditer(text)]

        def one(match: re.Match[str]) -> str:
            if (match.start() and text[match.start() - 1] == "\\") or any(a < match.start() < b for a, b in code):
                return match.group(0)  # escaped, or shown as code: an image's syntax, not a figure
            where = f"{self.file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {path}"
            try:
                if self.figures is None:
                    raise FigureProblem(_("figures are allowed in handbook and module files only"))
                placement = parse_options(match["options"] or "")
                data, kind = read_figure(self.figures, match["src"])
                soft = check_raster(data, kind, placement, match["src"]) if kind != "svg" else ""
            except FigureProblem as problem:
                self.problem(node, path, str(problem))
                return match.group(0)
            if soft:
                self.notes.append(f"{where}: {soft}")
            options = f"{{{match['options']}}}" if match["options"] else ""
            return f"![{match['caption']}]({keep(data, kind)}){options}"

        return FIGURE.sub(one, text)

    def integer(self, node: yaml.Node, path: str) -> int | None:
        """A whole number up to MAX_INTEGER (quoted digits are accepted too; only the ASCII digits 0–9)."""
        value = node.value.strip() if isinstance(node, yaml.ScalarNode) and node.tag != _NULL else None
        if value is not None and value.isascii() and value.isdigit():
            if len(value) > len(str(MAX_INTEGER)) or int(value) > MAX_INTEGER:
                self.problem(
                    node,
                    path,
                    _("expected a whole number from 0 to {limit}, got {value}…").format(
                        limit=MAX_INTEGER, value=value[:12]
                    ),
                )
                return None
            return int(value)
        shown = repr(value[:40]) if value is not None else _describe(node)
        self.problem(node, path, _("expected a whole number, got {value}").format(value=shown))
        return None

    def flag(self, node: yaml.Node, path: str) -> bool | None:
        """A yes/no value: YAML's true/false (yes/no)."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on", "y")
        shown = repr(node.value[:40]) if isinstance(node, yaml.ScalarNode) else _describe(node)
        self.problem(node, path, _("expected true or false, got {value}").format(value=shown))
        return None

    def sequence(self, node: yaml.Node, path: str, required: bool) -> list[yaml.Node] | None:
        """A list's item nodes; an empty list is a problem when the field is required."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            if required:
                self.problem(node, path, _("must list at least one item"))
            return [] if not required else None
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, path, _("expected a list, got {what}").format(what=_describe(node)))
            return None
        if not self._first_visit(node, path):
            return None
        if required and not node.value:
            self.problem(node, path, _("must list at least one item"))
        if len(node.value) > MAX_ITEMS:
            self.problem(
                node,
                path,
                _("{count} items; a list may hold at most {limit}").format(count=len(node.value), limit=MAX_ITEMS),
            )
            return None
        return list(node.value)

    def _first_visit(self, node: yaml.Node, path: str) -> bool:
        # Aliases make one node appear in many places; refusing them also defuses "billion laughs".
        if id(node) in self._seen:
            self.problem(node, path, _("YAML aliases (*name) are not supported; write the content out"))
            return False
        self._seen.add(id(node))
        return True


# Control characters other than line breaks never belong in content; in double-quoted YAML they are what
# TeX becomes ("\frac" is a form feed and "rac", "\theta" a tab and "heta").
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_ESCAPES = {
    "\t": "\\t (\\theta, \\tau, \\text…)",
    "\f": "\\f (\\frac…)",
    "\v": "\\v (\\vec…)",
    "\b": "\\b (\\beta, \\bar…)",
    "\a": "\\a (\\alpha…)",
    "\r": "\\r (\\rho, \\right…)",
}


def _control_message(char: str, double_quoted: bool) -> str:
    unnamed = _("control character")
    name = f"U+{ord(char):04X} ({unicodedata.name(char, unnamed).lower()})"
    if double_quoted and char in _ESCAPES:
        return _(
            "contains the control character {name}: in double quotes YAML reads {escape} as an escape; "
            "write the text in single quotes or as a | block"
        ).format(name=name, escape=_ESCAPES[char])
    return _(
        "contains the control character {name}; remove it (write the text in single quotes or as a | block)"
    ).format(name=name)


def _text_hint(node: yaml.Node) -> str:
    """Why YAML read a text as a mapping or a list, when it was most likely meant as text."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        return _(" (a ': ' inside a text makes YAML read a field, as in 1 : 4; {quote})").format(quote=_quote_hint())
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style:
        return _(" (a text starting with {{ or [ is read as YAML data; {quote})").format(quote=_quote_hint())
    return ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return _("a mapping")
    if isinstance(node, yaml.SequenceNode):
        return _("a list")
    if node.tag == _NULL:
        return _("nothing")
    return _("text {value!r}").format(value=node.value)


# The names other formats and teachers give our fields (an exported bank's `explanation`, a Word bank's 【解析】):
# spelling alone would never suggest `why` for `explanation`.
SYNONYMS = {
    "explanation": "why",
    "analysis": "why",
    "rationale": "why",
    "解析": "why",
    "question": "q",
    "stem": "q",
    "prompt": "q",
    "题干": "q",
    "choices": "options",
    "选项": "options",
    "key": "answer",
    "correct": "answer",
    "答案": "answer",
    "score": "points",
    "分值": "points",
    "level": "difficulty",
    "难度": "difficulty",
}


def _unknown_field(key: str, allowed: dict[str, Field]) -> str:
    meant = SYNONYMS.get(key.strip().lower())
    close = [meant] if meant in allowed else difflib.get_close_matches(key, list(allowed), n=1)
    if close:
        return _("unknown field (did you mean '{name}'?)").format(name=close[0])
    return _("unknown field (expected one of: {names})").format(names=", ".join(allowed))


def parse_yaml_file(path: Path, problems: list[Problem]) -> yaml.Node | None:
    """Read and parse one YAML file into its node tree, or record why it cannot be."""
    file = display_path(path)
    try:
        # The type and size are checked before reading: a file linked to /dev/zero or a named pipe would
        # otherwise be read without end (or wait forever for a writer).
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            problems.append(
                Problem(file, 0, "", _("is {kind}, not a file; give a YAML file").format(kind=file_kind(path)))
            )
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        problems.append(Problem(file, 0, "", _("cannot be read: {reason}").format(reason=error.strerror)))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            Problem(
                file,
                0,
                "",
                _("file is {size:.1f} MB; a content file may be at most {limit} MB").format(
                    size=info.st_size / 1e6, limit=MAX_FILE_BYTES // 1024 // 1024
                ),
            )
        )
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(
            Problem(
                file,
                line,
                "",
                _("not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8").format(byte=data[error.start]),
            )
        )
        return None
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        problems.append(_syntax_problem(file, error, text))
        return None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow at all (a raw control character)
        # The reader's own position is counted in its buffer, not in the text: find the character again.
        found = _NOT_YAML.search(text)
        line = text[: found.start()].count("\n") + 1 if found else 0
        code = ord(found.group(0)) if found else int(error.character)
        problems.append(
            Problem(
                file,
                line,
                "",
                _(
                    "the control character U+{code:04X} cannot be in a YAML file; delete it "
                    "(it is invisible in most editors: retype the line)"
                ).format(code=code),
            )
        )
        return None
    if not nodes or nodes[0] is None:
        problems.append(Problem(file, 1, "", _("file is empty; expected a mapping of fields")))
        return None
    if len(nodes) > 1:
        problems.append(
            Problem(
                file,
                nodes[1].start_mark.line + 1,
                "",
                _("more than one YAML document (---); put one module per file"),
            )
        )
        return None
    quiet = _silent_losses(file, text)
    if quiet:
        problems.extend(quiet)
        return None
    return nodes[0]


def _quote_hint() -> str:
    """How to keep YAML from reading a text as something else (a clause of several messages)."""
    return _("put the whole text in single quotes ('…', with '' for a ')")


def _silent_losses(file: str, text: str) -> list[Problem]:
    """What YAML would drop without a word: an anchor (`- &copy …`) or the rest of a line after ` #`."""
    problems: list[Problem] = []
    lines = text.splitlines()
    for event in yaml.parse(text, Loader=_Loader):
        start, end = event.start_mark, event.end_mark
        if start is None or end is None:
            continue
        anchor = getattr(event, "anchor", None)
        line = start.line + 1
        if anchor and isinstance(event, yaml.ScalarEvent):
            problems.append(
                Problem(
                    file,
                    line,
                    "",
                    _("'&{anchor}' starts a YAML anchor and is dropped from the text; {quote}").format(
                        anchor=anchor, quote=_quote_hint()
                    ),
                )
            )
        plain = isinstance(event, yaml.ScalarEvent) and not event.style  # None, or '' from the C parser
        if plain and end.line < len(lines):
            rest = lines[end.line][end.column :]
            if rest.lstrip().startswith("#") and rest[:1].isspace():
                problems.append(
                    Problem(
                        file,
                        end.line + 1,
                        "",
                        _("the text stops before '{rest}': YAML reads ' #' as the start of a comment; {quote}").format(
                            rest=rest.strip()[:20], quote=_quote_hint()
                        ),
                    )
                )
    return problems


def _syntax_problem(file: str, error: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    problem = error.problem or _("invalid YAML")
    bad_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    if "\t" in bad_line[: len(bad_line) - len(bad_line.lstrip())]:
        return Problem(file, line, "", _("YAML syntax: tab character; indent with spaces, not tabs"), column)
    context = ""
    if error.context:
        if error.context_mark and error.context_mark.line + 1 != line:
            context = _(" ({context} that starts on line {line})").format(
                context=error.context, line=error.context_mark.line + 1
            )
        else:
            context = _(" ({context})").format(context=error.context)
    return Problem(
        file,
        line,
        "",
        _("YAML syntax: {problem}{context}{hint}").format(
            problem=problem, context=context, hint=_syntax_hint(problem, bad_line)
        ),
        column,
    )


def _syntax_hint(problem: str, line: str) -> str:
    """What an author can do about the parser's complaint."""
    if "mapping values are not allowed" in problem:
        return _("; a ': ' inside a text starts a new field — {quote}").format(quote=_quote_hint())
    value = line.split(": ", 1)[-1].lstrip("- ").lstrip()
    if value[:1] in ("*", "&", "!", "%", "@", "`", "{", "[", "|", ">"):
        return _("; a text starting with {char} means something else to YAML — {quote}").format(
            char=value[:1], quote=_quote_hint()
        )
    return ""


# What YAML does not allow anywhere in a file (its "printable" set, inverted).
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

# Bounds that keep the work a file can cause in proportion (a 2 MB file of one-character bullets drove a build
# to 5 GB): the longest list (modules' sections, a section's bullets or items) and the longest text.
MAX_ITEMS = 500
MAX_TEXT = 20_000

# The largest whole number a field takes (module ids, points, lines): bigger ones are typing mistakes.
MAX_INTEGER = 9999
