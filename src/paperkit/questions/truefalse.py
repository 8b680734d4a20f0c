"""判断题 (truefalse): a statement the student marks √ or ×; the key says which, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paperkit.errors import CellProblem
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.kind import (
    Interaction,
    Item,
    Kind,
    Layout,
    Rules,
    SheetField,
    common_view,
    normal_text,
    normal_text_formula,
    quoted,
    shown,
)

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

# How a true/false answer may be written (teachers write √ and ×, or 对/错, or T/F; a scanner reads T/F), as
# normal_text leaves them: upper case, half-width.
TRUE_MARKS = ("T", "TRUE", "√", "✓", "✔", "对", "正确", "是")
FALSE_MARKS = ("F", "FALSE", "×", "✗", "✘", "X", "错", "错误", "否")


def _check(item: Item) -> list[tuple[str, str]]:
    if item.answer.lower() not in ("true", "false"):
        return [("answer", _("expected true or false, got '{answer}'").format(answer=item.answer))]
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
        "quick": label("true_short") if is_true(item) else label("false_short"),  # the key's 答案速查 line
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


def _normalise(text: str, item: Item, order: tuple[int, ...]) -> str:
    mark = normal_text(text)
    if mark in TRUE_MARKS or mark in FALSE_MARKS:
        return "T" if mark in TRUE_MARKS else "F"
    raise CellProblem(_("{value} is neither points nor a true/false mark (√ ×, T F, 对 错)").format(value=shown(text)))


def _array(marks: tuple[str, ...]) -> str:
    return "{" + ",".join(quoted(m) for m in marks) + "}"


def _normal_formula(cell: str) -> str:
    mark = normal_text_formula(cell)
    return (
        f'IF(ISNUMBER(MATCH({mark},{_array(TRUE_MARKS)},0)),"T",'
        f'IF(ISNUMBER(MATCH({mark},{_array(FALSE_MARKS)},0)),"F",{mark}))'
    )


def _sheet_key(item: Item, order: tuple[int, ...]) -> str:
    return "T" if is_true(item) else "F"


def _judge(answer: str, key: str, points: int, rules: Rules) -> float:
    return float(points) if answer == key else 0.0


def _judge_formula(answer: str, key: str, points: int, rules: Rules, options: int) -> str:
    return f"IF({answer}={key},{points},0)"


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
    normalise=_normalise,
    normal_formula=_normal_formula,
    sheet_key=_sheet_key,
    judge=_judge,
    judge_formula=_judge_formula,
    compact_key=True,
    objective=True,
    spread=lambda item: "true" if is_true(item) else "false",
)
