"""Flag text into typed values: every message names the flag, what arrived and what would be right.

The CLI and the preview's query string pass text; the options objects (`ExamOptions`, `HandbookOptions`)
are built from it here, once, at the edge. Limits first: Python's int() refuses more than 4,300 digits with a
ValueError, a number that fits can still overflow what is built from it, and a 100,000-character title takes
minutes to lay out; so every number is parsed by `parse_number` (at most MAX_DIGITS digits, in its range), every
text option is measured by `check_length`, and a message quotes what arrived with `quoted`, one readable line.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from paperkit.errors import UsageError
from paperkit.i18n import _

# No range paperkit takes needs more digits (a seed has 18); a longer number is refused before int() sees it.
MAX_DIGITS = 40
# A value is quoted whole up to this many characters (a pasted 240-digit seed still reads back in full).
MAX_QUOTED = 256
# The longest text any other option takes (a list of modules, a blueprint's parts, a paper name).
MAX_OPTION_TEXT = 1000

_NUMBER = re.compile(rf"[+-]?\d{{1,{MAX_DIGITS}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quoted(text: str) -> str:
    """`text` for a message: whole when short, else its start and its length; control characters escaped."""
    if len(text) > MAX_QUOTED:
        text = _("{start}… ({count} characters)").format(start=text[:32], count=len(text))
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def parse_number(flag: str, text: str, low: int, high: int | None = None, why: str = "") -> int:
    """A whole number in [low, high] from a flag's text; anything else is a UsageError naming the flag and the range.

    `high` None is for a number the content bounds later (an exam's --count against its pool); it is still at
    most MAX_DIGITS digits long.
    """
    stripped = text.strip()
    value = int(stripped) if _NUMBER.fullmatch(stripped) else None
    if value is None or value < low or (high is not None and value > high):
        if high is not None:
            expected = _("a whole number from {low} to {high}").format(low=low, high=high)
        elif len(stripped) > MAX_DIGITS:
            expected = _("a whole number ≥ {low} of at most {digits} digits").format(low=low, digits=MAX_DIGITS)
        else:
            expected = _("a whole number ≥ {low}").format(low=low)
        raise UsageError(
            _("{flag} {value}: expected {expected}{why}").format(
                flag=flag, value=quoted(text), expected=expected, why=_number_why(why)
            )
        )
    return value


def check_length(flag: str, text: str, limit: int, why: str = "are allowed") -> str:
    """`text` if it has at most `limit` characters; else a UsageError naming the flag and the limit."""
    if len(text) > limit:
        if why == "are allowed":
            message = _("{flag} is {length} characters long; at most {limit} are allowed")
        elif why == "fit on a paper":
            message = _("{flag} is {length} characters long; at most {limit} fit on a paper")
        else:  # a reason the caller words (and translates) itself
            message = _("{flag} is {length} characters long; at most {limit} {why}")
        raise UsageError(message.format(flag=flag, length=len(text), limit=limit, why=why))
    return text


def _number_why(why: str) -> str:
    """What follows a number's range in parse_number's message, in the current language (callers pass English)."""
    if why == " minutes":
        return _(" minutes")
    if why == " (one paper per letter A–Z)":
        return _(" (one paper per letter A–Z)")
    return why


def parse_module_list(text: str) -> tuple[int, ...]:
    """`2,3,8` into module ids in ascending order (whether they exist is checked against the content)."""
    items = [item.strip() for item in text.split(",")]
    too_long = len(text) > MAX_OPTION_TEXT or any(len(item) > MAX_DIGITS for item in items)
    if too_long or not text.strip() or any(not re.fullmatch(r"\d+", item) for item in items):
        raise UsageError(
            _(
                "--modules {value}: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"
            ).format(value=quoted(text))
        )
    ids = [int(item) for item in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise UsageError(
            _("--modules {value}: module {module} is listed twice; list each module once").format(
                value=text, module=repeated[0]
            )
        )
    return tuple(sorted(ids))


def parse_date(text: str) -> datetime.date | None:
    """`2026-06-20` into a date that exists ('' means none); 2026-02-30 is a UsageError."""
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise UsageError(_("--date {value}: expected a date like 2026-06-20").format(value=text))
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            _("--date {value}: no such day; expected a real date like 2026-06-20").format(value=text)
        ) from None


def parse_choice(flag: str, text: str, choices: Sequence[str], noun: str = "mode") -> str:
    """One of a flag's words (`--answers end`); anything else is a UsageError listing them."""
    if text not in choices:
        messages = {
            "mode": _("{flag} {value}: unknown mode; choose one of {choices}"),
            "answer mode": _("{flag} {value}: unknown answer mode; choose one of {choices}"),
            "pool": _("{flag} {value}: unknown pool; choose one of {choices}"),
            "rule": _("{flag} {value}: unknown rule; choose one of {choices}"),
        }
        message = messages.get(noun, _("{flag} {value}: unknown {noun}; choose one of {choices}"))
        raise UsageError(message.format(flag=flag, value=text, noun=noun, choices=", ".join(choices)))
    return text
