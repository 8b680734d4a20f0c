"""简答题 (short): a question answered in writing on ruled lines; the key gives the answer and its 给分点.

Every worked example of the handbook is a short item. A typed cell holds the points a marker gave.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.kind import Interaction, Item, Kind, Layout, area_field, common_view, scaled_rubric
from paperkit.text.markup import math_spans, visible_text

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

# Handwriting needs about twice the width of printed body text per character.
HANDWRITING_FACTOR = 2.0
MIN_LINES, MAX_LINES = 2, 10


def _check(item: Item) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    total = sum(point.points for point in item.rubric)
    if item.rubric and item.points is not None and total != item.points:
        problems.append(
            (
                "rubric",
                _("scoring points add up to {total}, but the item has points: {points}").format(
                    total=total, points=item.points
                ),
            )
        )
    for index, point in enumerate(item.rubric):
        if point.points < 1:
            problems.append(
                (f"rubric[{index}].points", _("expected a whole number ≥ 1, got {value}").format(value=point.points))
            )
    return problems


def formula_width(tex: str) -> int:
    """About how many characters wide a formula prints: each command or symbol one, braces and spaces none."""
    return max(2, len(re.sub(r"[{}\s]", "", re.sub(r"\\[A-Za-z]+", "x", tex))))


def answer_lines(answer: str, chars_per_line: int) -> int:
    """Ruled lines for an answer: its printed length at handwriting size plus one spare, within 2–10."""
    length = len(re.sub(r"\s+", "", visible_text(answer))) + sum(formula_width(tex) for tex in math_spans(answer))
    needed = -(-int(length * HANDWRITING_FACTOR) // chars_per_line) + 1
    return max(MIN_LINES, min(MAX_LINES, needed))


def points_lines(points: int) -> int:
    """Answer lines a short item's points call for: about eight for ten points, 3–14."""
    return max(3, min(14, round(points * 0.8)))


def _paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    lines = item.lines or answer_lines(item.a, layout.chars_per_line)
    if layout.space_from_points and not item.lines:
        lines = max(lines, points_lines(q.points))
    return {**common_view(q, SHORT), "lines": lines}


def _key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    written = tuple(p.points for p in item.rubric)
    values = scaled_rubric(written, q.points) if q.points else list(written)
    rubric = [{"point": p.point, "points": label("points", points=v)} for p, v in zip(item.rubric, values, strict=True)]
    return {**common_view(q, SHORT), "answer": item.a, "rubric": rubric}


def _reference_answer(item: Item) -> tuple[str, ...]:
    return (item.a,)


def _stem(item: Item) -> tuple[str, ...]:
    return (item.q,)


def _interaction(item: Item) -> Interaction:
    return Interaction("essay", item.q, reference=item.a, rubric=item.rubric, lines=item.lines)


def _printed_key(item: Item, order: tuple[int, ...]) -> str:
    return item.a


SHORT = Kind(
    "short",
    required=("a",),
    allowed=("a", "rubric", "points", "difficulty", "lines", "follows"),
    check=_check,
    paper_view=_paper,
    key_view=_key,
    answer_texts=_reference_answer,
    shown_texts=_stem,
    interaction=_interaction,
    sheet_field=area_field,
    printed_key=_printed_key,
)
