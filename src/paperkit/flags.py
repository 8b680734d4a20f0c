"""Flag text into typed values: every message names the flag, what arrived and what would be right.

The CLI and the preview's query string pass text; the options objects (`ExamOptions`, `HandbookOptions`)
are built from it here, once, at the edge.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from paperkit.errors import UsageError


def parse_whole(flag: str, text: str, low: int, high: int | None = None, why: str = "") -> int:
    """A whole number in [low, high] from a flag's text; anything else is a UsageError naming the range."""
    stripped = text.strip()
    value = int(stripped) if re.fullmatch(r"[+-]?\d+", stripped) else None
    if value is None or value < low or (high is not None and value > high):
        expected = f"a whole number from {low} to {high}" if high is not None else f"a whole number ≥ {low}"
        raise UsageError(f"{flag} {text}: expected {expected}{why}")
    return value


def parse_module_list(text: str) -> tuple[int, ...]:
    """`2,3,8` into module ids in ascending order (whether they exist is checked against the content)."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not re.fullmatch(r"\d+", item) for item in items):
        raise UsageError(
            f"--modules {text}: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"
        )
    ids = [int(item) for item in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise UsageError(f"--modules {text}: module {repeated[0]} is listed twice; list each module once")
    return tuple(sorted(ids))


def parse_date(text: str) -> datetime.date | None:
    """`2026-06-20` into a date that exists ('' means none); 2026-02-30 is a UsageError."""
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise UsageError(f"--date {text}: expected a date like 2026-06-20")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text}: no such day; expected a real date like 2026-06-20") from None


def parse_choice(flag: str, text: str, choices: Sequence[str], noun: str = "mode") -> str:
    """One of a flag's words (`--answers end`); anything else is a UsageError listing them."""
    if text not in choices:
        raise UsageError(f"{flag} {text}: unknown {noun}; choose one of {', '.join(choices)}")
    return text
