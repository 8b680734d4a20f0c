"""A declarative schema for JSON that paperkit reads back (a manifest): every field's type, size and range.

A schema is a tree of nodes (`Record`, `Table`, `Items`, `Whole`, `Number`, `Text`, `Flag`); `check` walks a
decoded value against it and raises a UsageError naming the first field that is wrong by its path
(`papers.A.points[3]`), what was expected and what arrived. `read_json` decodes JSON so that what no schema
takes (NaN, Infinity, a number too long to be one) arrives as an `Unreadable` value the walk names, instead of a
ValueError or an OverflowError in whatever reads it later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paperkit.errors import UsageError
from paperkit.flags import MAX_DIGITS
from paperkit.i18n import _, ngettext


@dataclass(frozen=True)
class Unreadable:
    """A JSON value no schema takes (NaN, ±Infinity, 1e999, a 5,000-digit number), kept to be named where it is."""

    shown: str


@dataclass(frozen=True)
class Whole:
    """A whole number (not a bool, not 2.0) from low to high."""

    low: int
    high: int

    @property
    def expected(self) -> str:
        """What a message says was expected."""
        return _("a whole number from {low} to {high}").format(low=self.low, high=self.high)


@dataclass(frozen=True)
class Number:
    """A finite number (whole or not) from low to high."""

    low: float
    high: float

    @property
    def expected(self) -> str:
        """What a message says was expected."""
        return _("a number from {low:g} to {high:g}").format(low=self.low, high=self.high)


@dataclass(frozen=True)
class Text:
    """A string of `least` to `most` characters; optionally one of `choices`, or matching `pattern` (`what` says
    what that is, in the current language: `lambda: _("a question id like 2.1.q1")`)."""

    most: int
    least: int = 0
    choices: tuple[str, ...] = ()
    pattern: str = ""
    what: Callable[[], str] | None = None


@dataclass(frozen=True)
class Flag:
    """true or false."""


@dataclass(frozen=True)
class Items:
    """A list of `least` to `most` items (None: as many as the file holds), each of the `item` schema."""

    item: Node
    most: int | None
    least: int = 0


@dataclass(frozen=True)
class Table:
    """An object with free keys (variant letters, question ids), each key of `key` and each value of `value`."""

    key: Text
    value: Node
    most: int | None = None
    least: int = 0


@dataclass(frozen=True)
class Record:
    """An object with named fields; other keys are left alone (a newer paperkit may add some)."""

    required: Mapping[str, Node]
    optional: Mapping[str, Node] = field(default_factory=dict)


Node = Whole | Number | Text | Flag | Items | Table | Record


def read_json(text: str) -> Any:
    """JSON text decoded for `check`: NaN, ±Infinity, non-finite floats and numbers longer than MAX_DIGITS arrive
    as Unreadable. json.JSONDecodeError and RecursionError (nesting Python cannot follow) are the caller's."""

    def whole(digits: str) -> int | Unreadable:
        # int() refuses 4,300 digits with a ValueError; no field takes more than MAX_DIGITS.
        size = len(digits.lstrip("-"))
        return int(digits) if size <= MAX_DIGITS else Unreadable(_("a {size}-digit number").format(size=size))

    def real(digits: str) -> float | Unreadable:
        value = float(digits)
        return value if math.isfinite(value) else Unreadable(digits if len(digits) <= 20 else _("an infinite number"))

    return json.loads(text, parse_int=whole, parse_float=real, parse_constant=Unreadable)


def check(value: Any, node: Node, path: str = "", ranges: bool = True) -> None:
    """`value` against `node`; the first problem is a UsageError `path: expected …, got …`.

    With `ranges` False only types and sizes are checked (what makes every later read safe); with True the
    ranges, choices and patterns too.
    """
    if isinstance(node, Record):
        if not isinstance(value, dict):
            raise _wrong(path, _("an object"), value)
        for name, child in node.required.items():
            if name not in value:
                raise UsageError(_("{path}: missing").format(path=_at(path, name)))
            check(value[name], child, _at(path, name), ranges)
        for name, child in node.optional.items():
            if name in value:
                check(value[name], child, _at(path, name), ranges)
    elif isinstance(node, Table):
        if not isinstance(value, dict):
            raise _wrong(path, _("an object"), value)
        _check_size(path, len(value), node.least if ranges else 0, node.most, "entries")
        for key, item in value.items():
            check(key, node.key, _at(path, key), ranges)
            check(item, node.value, _at(path, key), ranges)
    elif isinstance(node, Items):
        if not isinstance(value, list):
            raise _wrong(path, _("a list"), value)
        _check_size(path, len(value), node.least if ranges else 0, node.most, "items")
        for index, item in enumerate(value):
            check(item, node.item, f"{path}[{index}]", ranges)
    elif isinstance(node, Whole):
        if type(value) is not int or (ranges and not node.low <= value <= node.high):
            raise _wrong(path, node.expected, value)
    elif isinstance(node, Number):
        if type(value) not in (int, float) or (ranges and not node.low <= value <= node.high):
            raise _wrong(path, node.expected, value)
    elif isinstance(node, Flag):
        if type(value) is not bool:
            raise _wrong(path, _("true or false"), value)
    else:
        _check_text(value, node, path, ranges)


def _check_text(value: Any, node: Text, path: str, ranges: bool) -> None:
    if not isinstance(value, str):
        raise _wrong(path, _("text"), value)
    if "\0" in value:
        raise UsageError(_("a field holds a NUL character"))
    _check_size(path, len(value), node.least if ranges else 0, node.most, "characters")
    if not ranges:
        return
    if node.choices and value not in node.choices:
        raise _wrong(path, _("one of {choices}").format(choices=", ".join(node.choices)), value)
    if node.pattern and not re.fullmatch(node.pattern, value):
        raise _wrong(path, node.what() if node.what is not None else "", value)


def _check_size(path: str, size: int, least: int, most: int | None, noun: str) -> None:
    if most is not None and size > most:
        raise UsageError(
            _("{path}: expected at most {count}, got {size}").format(path=path, count=_count(most, noun), size=size)
        )
    if size < least:
        raise UsageError(
            _("{path}: expected at least {count}, got {size}").format(
                path=path, count=_count(least, noun), size=size or _("none")
            )
        )


def _count(number: int, noun: str) -> str:
    """`3 entries`, `1 item`, `40 characters`: how many of `noun` ("entries", "items" or "characters")."""
    if noun == "entries":
        return ngettext("{count} entry", "{count} entries", number).format(count=number)
    if noun == "items":
        return ngettext("{count} item", "{count} items", number).format(count=number)
    return ngettext("{count} character", "{count} characters", number).format(count=number)


def _at(path: str, name: str) -> str:
    shown = name if len(name) <= 32 else f"{name[:32]}…"
    return f"{path}.{shown}" if path else shown


def _wrong(path: str, expected: str, value: Any) -> UsageError:
    return UsageError(_("{path}: expected {expected}, got {got}").format(path=path, expected=expected, got=got(value)))


def got(value: Any) -> str:
    """A value as a message shows what arrived: short, one line, JSON's own words for true, false and null."""
    if isinstance(value, Unreadable):
        return value.shown
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else f"{value[:40]}…")
    return repr(value)
