"""组合题 (group): one number, a shared stem (a 材料, a figure, a data table), then sub-questions (1)(2)…, each
an item of its own kind with its own points, answer space, key and scoring.

The loader makes a group's sub-questions the section's items (each points back to its `Group`), so every
kind-generic path (checking, views, answer sheets, scoring, the score sheet) sees them as the items they are.
What is left for this module is the group as a *part* of a paper (`--parts group:2x15`): its name, its
instruction, and how its points are shared out over its sub-questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from paperkit.content.models import Exercise
from paperkit.questions.kind import Kind, scaled_rubric

GROUP_KIND = "group"  # a 组合题: a part of a paper (--parts group:2x15), not a kind of item (its parts have kinds)


def _part_only(*_args: Any) -> NoReturn:
    raise TypeError("a group is a part of a paper, not an item: ask its sub-questions' kinds")


GROUP = Kind(
    name=GROUP_KIND,
    required=("parts",),
    allowed=("parts", "points", "difficulty"),
    check=_part_only,
    paper_view=_part_only,
    key_view=_part_only,
    answer_texts=_part_only,
    shown_texts=_part_only,
    interaction=_part_only,
    sheet_field=_part_only,
    printed_key=_part_only,
    heading_label="part_heading_group",
)


def shared_points(parts: Sequence[Exercise], total: int) -> list[int]:
    """A group's points shared over its sub-questions in proportion to their own (largest remainder, so they
    add up to `total`; the author's own when they already do); equally where none are given, the remainder to
    the last ones (they come later, not easier)."""
    if any(p.points is None for p in parts) or any(p.points == 0 for p in parts):
        base, extra = divmod(total, len(parts))
        return [base] * (len(parts) - extra) + [base + 1] * extra
    return scaled_rubric(tuple(p.points or 0 for p in parts), total)
