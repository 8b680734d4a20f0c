"""The question-kind protocol: everything a kind says about its items, and what the kinds share.

A kind is one `Kind` (its module in this package registers it in `registry.py`) plus one template
`templates/kind-<name>.html.j2` with two macros, `paper(q)` and `key(q)`. Code outside this package asks
the kind and never compares its name: loading and checking, the paper and key views, the answer texts
that must not show elsewhere, how a typed answer is scored (the score sheet, the analysis and the scanner
use the one `score`), its compact key, and how it looks to a learning platform (`interaction`).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperkit.content.models import Exercise, RubricPoint
from paperkit.errors import CellProblem
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.rules import DEFAULT_RULES, Rules
from paperkit.text.figures import KEPT, TEXT_WIDTH_MM, FigureProblem, parse_options
from paperkit.text.markup import set_width

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

Item = Exercise
View = Callable[["ExamQuestion", "Layout"], dict[str, Any]]
Texts = Callable[[Item], tuple[str, ...]]
Check = Callable[[Item], list[tuple[str, str]]]  # (field, message) pairs

LETTERS = "ABCDEFGH"  # option letters (an item has at most 8 options)


@dataclass(frozen=True)
class Layout:
    """What a kind's views may know of the page: the body line's length in characters, and the scoring rules."""

    chars_per_line: int
    space_from_points: bool = False  # blueprint papers: a short answer's space grows with its points
    rules: Rules = DEFAULT_RULES
    part: tuple[ExamQuestion, ...] = ()  # the questions set with this one (a part of a paper): sizes made alike


@dataclass(frozen=True)
class Mark:
    """One scored answer: the points, and for a lettered item the original option letters chosen."""

    points: float
    chosen: str | None = None  # original letters ("" = left blank); None when the cell held points or text
    answered: bool = True
    text: str = ""  # a typed answer (fill-in) as the student wrote it, normalised, for 典型错误


@dataclass(frozen=True)
class NumberRange:
    """What a blank compared by value accepts, as platforms grade numbers: low to high (both included), the
    middle and the tolerance around it, and the unit a student may type after it."""

    low: str
    high: str
    middle: str
    tolerance: str
    unit: str = ""


@dataclass(frozen=True)
class Interaction:
    """An item as a learning platform takes it, in one of four shapes every exporter writes.

    `options`: pick one (or with `multiple` several) of `options`, `correct` being the keyed indexes;
    `statement`: true or false (`truth`), with `feedback`; `blanks`: `segments` of text ('' answers) and
    blanks (their accepted answers); `essay`: a free answer with a `reference` and its `rubric`.
    """

    shape: str
    stem: str
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()
    multiple: bool = False
    pinned: tuple[int, ...] = ()
    truth: bool = False
    feedback: str = ""
    segments: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # per blank, the range a number typed into it must fall in (a platform's numerical answer), or None: its
    # answer compares by its written forms
    ranges: tuple[NumberRange | None, ...] = ()
    reference: str = ""
    rubric: tuple[RubricPoint, ...] = ()
    lines: int | None = None


SHAPES = ("options", "statement", "blanks", "essay")


@dataclass(frozen=True)
class SheetField:
    """How an item appears on an answer sheet (答题卡): a row of boxes the student fills, each a value, or an
    answer area of `lines` writing lines that the teacher scores on its score strip."""

    bubbles: tuple[tuple[str, str], ...] = ()  # (value, printed label) per box: ("A", "A"), ("T", "√")
    lines: int = 0
    single: bool = True  # one box is the answer (several filled is a misread or a wrong answer, not a set)


def area_field(item: Item, order: tuple[int, ...], points: int) -> SheetField:
    """An answer area sized by the item's points: about eight lines for ten points, 2–12."""
    return SheetField(lines=max(2, min(12, round(points * 0.8))))


PrintedKey = Callable[[Item, tuple[int, ...]], str]
Normalise = Callable[[str, Item, tuple[int, ...]], str]
NormalFormula = Callable[[str], str]
SheetKey = Callable[[Item, tuple[int, ...]], str]
Judge = Callable[[str, str, int, Rules], float]
JudgeFormula = Callable[[str, str, int, Rules, int], str]


def _no_answer(item: Item) -> bool:
    return False


def _not_an_answer(text: str, item: Item, order: tuple[int, ...]) -> str:
    raise CellProblem(_("{value} is not a number; this question takes points, not an answer").format(value=shown(text)))


def _no_formula(cell: str) -> str:
    return '""'


def _no_key(item: Item, order: tuple[int, ...]) -> str:
    return ""


def _never(answer: str, key: str, points: int, rules: Rules) -> float:
    return 0.0


def _never_formula(answer: str, key: str, points: int, rules: Rules, options: int) -> str:
    return "0"


def _no_rule(rules: Rules) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """One question kind: the whole of what paperkit needs to know to load, set, key, score and export it."""

    name: str
    required: tuple[str, ...]  # fields beyond id, kind and q
    allowed: tuple[str, ...]
    check: Check
    paper_view: View
    key_view: View
    answer_texts: Texts  # what answers the item: no other item on its paper may show these
    shown_texts: Texts  # what a student sees of it: its stem (blanks left out) and options
    interaction: Callable[[Item], Interaction]  # how a learning platform takes it (export/)
    sheet_field: Callable[[Item, tuple[int, ...], int], SheetField]  # how it appears on an answer sheet
    printed_key: PrintedKey  # the key as one paper prints it: letters in printed order, true/false, an answer
    takes_answer: Callable[[Item], bool] = _no_answer  # a score-sheet cell may hold the student's answer
    # Scoring a typed or scanned answer, the same in paperkit and in the score sheet's formulas: the answer is
    # normalised (full-width forms, spaces, √/对/T alike), then judged against the key as the paper printed it.
    normalise: Normalise = _not_an_answer  # the answer's one canonical form, or a CellProblem if it is none
    normal_formula: NormalFormula = _no_formula  # the same as a spreadsheet expression of a cell
    sheet_key: SheetKey = _no_key  # the key in that canonical form, as one paper printed it
    # The normalised answer as the judge reads it, given the key cell (fill: a value key's unit taken off): the
    # score sheet keeps it in a helper cell, so the judge's formula names it once, not the whole expression.
    keyed_formula: Callable[[str, str], str] = lambda normal, key: normal
    judge: Judge = _never  # (answer, key, points, rules) -> points
    judge_formula: JudgeFormula = _never_formula  # the same as a spreadsheet expression (answer, key: cells)
    objective: bool = False  # a 客观题: scored from the answer alone (the score sheet's 客观 subtotal)
    lettered: bool = False  # answered with option letters (bubbles on an answer sheet, option shares)
    text_answers: bool = False  # a text cell is always an answer, even when it reads as a number (64)
    compact_key: bool = False  # the key is a 题号 | 答案 row, not a worked answer
    rule_label: Callable[[Rules], str] = field(default=_no_rule)  # the scoring rule printed with its part
    spread: Callable[[Item], str] | None = None  # a group its items spread evenly over on a paper (判断: √ and ×)
    template_name: str = ""  # the template with its paper(q) and key(q) macros; default kind-<name>.html.j2
    part_label: str = ""  # its part's name on a paper; default the labels table's part_<name>
    instruction_label: str = ""  # the line under its part's heading; default instruction_<name>
    heading_label: str = ""  # its blueprint part's heading, when not the usual part_heading_<role>

    @property
    def part_name(self) -> str:
        """The part's name on a paper (选择题), from the labels table."""
        return self.part_label or label(f"part_{self.name}")

    @property
    def instruction(self) -> str:
        """The line under the part's heading on a paper, from the labels table."""
        return self.instruction_label or label(f"instruction_{self.name}")

    @property
    def template(self) -> str:
        """The template with this kind's `paper(q)` and `key(q)` macros."""
        return self.template_name or f"kind-{self.name}.html.j2"


def normal_text(text: str) -> str:
    """A typed answer as every scorer first sees it: full-width forms half-width (NFKC), no spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def normal_text_formula(cell: str) -> str:
    """`normal_text` as a spreadsheet expression: ASC turns full-width forms half-width (Excel, WPS, LibreOffice)."""
    return f'UPPER(SUBSTITUTE(CLEAN(ASC({cell}))," ",""))'


def substituted(expression: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """A spreadsheet expression with each (old, new) pair substituted in turn."""
    for old, new in pairs:
        expression = f"SUBSTITUTE({expression},{quoted(old)},{quoted(new)})"
    return expression


def quoted(text: str) -> str:
    """A text as a spreadsheet string literal."""
    return '"' + text.replace('"', '""') + '"'


def score_answer(
    kind: Kind, text: str, item: Item, order: tuple[int, ...], points: int, rules: Rules, key: str | None = None
) -> Mark:
    """A typed or scanned answer as a Mark: normalised, judged against the printed key (or a corrected one).

    A lettered item's mark records the original option letters, so the same option is counted together across
    variants; a text answer keeps its normalised form for 典型错误.
    """
    answer = kind.normalise(text, item, order)
    gained = kind.judge(answer, kind.sheet_key(item, order) if key is None else key, points, rules)
    if kind.lettered:
        order = order or tuple(range(len(item.options)))
        return Mark(gained, "".join(sorted(LETTERS[order[LETTERS.index(ch)]] for ch in answer)), text=answer)
    return Mark(gained, text=answer)


def common_view(q: ExamQuestion, kind: Kind) -> dict[str, Any]:
    """What every kind's paper and key show: number, points (none in a handbook), prompt, its template, its source."""
    return {
        "number": q.label,
        # 「7.」, or 「（2）」 under its group's number
        "head": label("sub_head", sub=q.sub) if q.sub else f"{q.label}.",
        "points": q.points,
        "points_label": label("points", points=q.points) if q.points else "",
        "prompt": q.question.item.q,
        "template": kind.template,
        "section_title": q.question.section_title,
        "source_label": label("source", section=q.question.section_id),
    }


def letters_of(answer: str) -> str:
    """Answer letters as written in the source (`A, C`, `acd`) as plain capitals."""
    return re.sub(r"[\s,，、]+", "", answer).upper()


def shown(value: object) -> str:
    """A cell's value quoted for a message, long ones cut."""
    text = str(value).strip()
    return f"'{text[:20]}…'" if len(text) > 20 else f"'{text}'"


def text_width(text: str) -> float:
    """A text's width in em of the body text as it is set: measured from the shipped faces' advances, each
    formula as it is set or drawn (text.markup.set_width), a figure the width it is printed at."""
    width = set_width(text)
    for match in KEPT.finditer(text) if "![" in text else ():  # a figure: the width it is printed at
        with contextlib.suppress(FigureProblem):
            width += parse_options(match["options"] or "").width_mm / MM_PER_CHARACTER
    return width


MM_PER_CHARACTER = TEXT_WIDTH_MM / 45  # the A4 text column holds 45 body characters


def scaled_rubric(points: tuple[int, ...], total: int) -> list[int]:
    """Rubric points scaled to the points a paper gives (largest remainder; the author's own when they agree)."""
    written = sum(points)
    if not written or written == total:
        return list(points)
    shares = [p * total / written for p in points]
    scaled = [int(share) for share in shares]
    order = sorted(range(len(points)), key=lambda i: (-(shares[i] - scaled[i]), i))
    for i in order[: total - sum(scaled)]:
        scaled[i] += 1
    return scaled
