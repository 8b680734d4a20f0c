"""判断题 (truefalse): a statement the student marks √ or ×; the key says which, and why."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from paperkit.errors import CellProblem
from paperkit.labels import label
from paperkit.questions.kind import Interaction, Item, Kind, Layout, Mark, Rules, SheetField, common_view, shown

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

# How a true/false answer may be written (teachers write √ and ×, or 对/错, or T/F; a scanner reads T/F).
TRUE_MARKS = ("t", "true", "√", "✓", "✔", "对", "正确", "是")
FALSE_MARKS = ("f", "false", "×", "✗", "✘", "x", "错", "错误", "否")


def _check(item: Item) -> list[tuple[str, str]]:
    if item.answer.lower() not in ("true", "false"):
        return [("answer", f"expected true or false, got '{item.answer}'")]
    return []


def is_true(item: Item) -> bool:
    """Whether the statement is keyed true."""
    return item.answer.lower() == "true"


def _paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    return common_view(q, TRUEFALSE)


def _key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    return {
        **common_view(q, TRUEFALSE),
        "answer": label("true_mark") if is_true(item) else label("false_mark"),
        "why": item.why,
    }


def _true_statement(item: Item) -> tuple[str, ...]:
    # A true statement is itself an answer; a false one's correction is printed only in the key.
    return (item.q,) if is_true(item) else ()


def _stem(item: Item) -> tuple[str, ...]:
    return (item.q,)


def _interaction(item: Item) -> Interaction:
    return Interaction("statement", item.q, truth=is_true(item), feedback=item.why)


def _sheet_field(item: Item, order: tuple[int, ...], points: int) -> SheetField:
    return SheetField(bubbles=(("T", "√"), ("F", "×")))


def _printed_key(item: Item, order: tuple[int, ...]) -> str:
    return "true" if is_true(item) else "false"


def read_mark(text: str) -> bool:
    """A written √/× (or T/F, 对/错, full-width forms) as True or False; anything else is a CellProblem."""
    mark = unicodedata.normalize("NFKC", text).strip().casefold()
    if mark in TRUE_MARKS or mark in FALSE_MARKS:
        return mark in TRUE_MARKS
    raise CellProblem(f"{shown(text)} is neither points nor a true/false mark (√ ×, T F, 对 错)")


def _score(text: str, item: Item, order: tuple[int, ...], points: int, rules: Rules) -> Mark:
    return Mark(float(points) if read_mark(text) == is_true(item) else 0.0)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _sheet_formula(cell: str, item: Item, order: tuple[int, ...], points: int, rules: Rules) -> str:
    marks = TRUE_MARKS if is_true(item) else FALSE_MARKS
    return f"IF(OR({','.join(f'LOWER(TRIM({cell}))={_quoted(m)}' for m in marks)}),{points},0)"


def _takes(item: Item) -> bool:
    return True


TRUEFALSE = Kind(
    "truefalse",
    required=("answer",),
    allowed=("answer", "why", "points", "difficulty", "follows"),
    check=_check,
    paper_view=_paper,
    key_view=_key,
    answer_texts=_true_statement,
    shown_texts=_stem,
    interaction=_interaction,
    sheet_field=_sheet_field,
    printed_key=_printed_key,
    takes_answer=_takes,
    score=_score,
    sheet_formula=_sheet_formula,
    compact_key=True,
    spread=lambda item: "true" if is_true(item) else "false",
)
