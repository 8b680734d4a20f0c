"""Scoring a printed exam: each student's questions as their paper showed them, and one answer cell as points.

Pure functions over the manifest (what each paper printed) and the question bank (the keys): the score
sheet is written from these, and read back through them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from paperkit.content.models import Exercise
from paperkit.errors import CellProblem
from paperkit.exam.manifest import Manifest, numbered, question_names
from paperkit.exam.options import PartSpec
from paperkit.i18n import _
from paperkit.questions.bank import Question
from paperkit.questions.kind import DEFAULT_RULES, LETTERS, Mark, Rules, score_answer, shown
from paperkit.questions.registry import kind_of


@dataclass(frozen=True)
class Slot:
    """One question as one student's paper printed it: which item, its maximum, and its printed key."""

    number: int  # the printed question number, 1-based
    item_id: str
    kind: str
    points: int
    module_id: int
    section_id: str
    section_title: str
    item: Exercise = field(compare=False, repr=False)
    order: str = ""  # options: the original option letter printed at each position ("DCBA": A shows D)
    corrected: str | None = None  # the key as the teacher corrected it on the score sheet's 答案 sheet
    role: str = ""  # its part's role: "" counted, "choose" (a 选做题: the best `choose` of its part count), "bonus"
    choose: int = 0
    label: str = ""  # how the paper names it (「7」, 「17(2)」 for a 组合题's sub-question); "" = its number
    part_kind: str = ""  # the kind of its paper part ("" = its own kind; a 组合题's sub-question: group)

    @property
    def name(self) -> str:
        """How the paper names it: 「7」, or 「17(2)」."""
        return self.label or str(self.number)

    @property
    def indices(self) -> tuple[int, ...]:
        """The original index of each printed option (() when the item has none)."""
        return tuple(LETTERS.index(ch) for ch in self.order)

    @property
    def key(self) -> str:
        """The key as this paper prints it: letters in printed order, true/false, the first accepted answer."""
        return kind_of(self.kind).printed_key(self.item, self.indices)

    @property
    def sheet_key(self) -> str:
        """The key every scorer judges against: as printed, in the kind's canonical form, or as corrected."""
        if self.corrected is not None:
            return self.corrected
        return kind_of(self.kind).sheet_key(self.item, self.indices)

    @property
    def takes_letters(self) -> bool:
        """Whether the sheet may hold the student's answer (letters, √/×, a word) instead of points."""
        return kind_of(self.kind).takes_answer(self.item)


@dataclass(frozen=True)
class Sitter:
    """A student who sat the exam (a row of the score sheet) and the questions of their paper."""

    student_id: str
    name: str
    class_name: str
    variant: str
    slots: tuple[Slot, ...]
    extra: tuple[tuple[str, str], ...] = ()  # the roster's other columns, carried to the score sheet


def _slot(number: int, question: Question, points: int, order: str | None, part: PartSpec | None, name: str) -> Slot:
    item = question.item
    printed = (order or LETTERS[: len(item.options)]) if item.options else ""
    return Slot(
        number,
        question.id,
        item.kind,
        points,
        question.module_id,
        question.section_id,
        question.section_title,
        item,
        printed,
        role=part.role if part else "",
        choose=part.choose if part else 0,
        label=name,
        part_kind=part.kind if part else "",
    )


def paper_slots(
    manifest: Manifest, questions: Mapping[str, Question], variant: str, orders: Mapping[str, str] | None = None
) -> tuple[Slot, ...]:
    """A variant's questions in printed order (with one student's own option orders, if given)."""
    paper = manifest.papers[variant]
    shuffled = {**paper.get("options", {}), **(orders or {})}
    asked: list[PartSpec | None] = [part for part in manifest.options.parts for _copy in range(part.count)]
    asked = asked or [None] * len(paper["questions"])
    # Each entry's part: a 组合题's sub-questions share their group's number and part.
    parts: list[PartSpec | None] = []
    for printed, (first, last) in enumerate(numbered(paper), start=1):
        parts += [asked[printed - 1]] * (last - first + 1)
    names = question_names(paper)
    return tuple(
        _slot(n, questions[qid], points, shuffled.get(qid), part, name)
        for n, (qid, points, part, name) in enumerate(
            zip(paper["questions"], paper["points"], parts, names, strict=True), start=1
        )
    )


def full_marks(slots: Sequence[Slot]) -> int:
    """A paper's 满分: every counted item, the best `choose` of a 选做题, no 附加题."""
    return int(counted_total(slots, [float(s.points) for s in slots]))


def counted_total(slots: Sequence[Slot], points: Sequence[float]) -> float:
    """A student's total from each question's points: a 选做题 counts its best `choose` items (a teacher marks
    the ones answered first; if more were marked, the best count), a 附加题 nothing."""
    total = 0.0
    groups: dict[tuple[str, str], list[float]] = {}
    for slot, value in zip(slots, points, strict=True):
        if slot.role == "choose":
            groups.setdefault((slot.kind, slot.role), []).append(value)
        elif slot.role != "bonus":
            total += value
    for (kind, _role), values in groups.items():
        choose = next(s.choose for s in slots if s.kind == kind and s.role == "choose")
        total += sum(sorted(values, reverse=True)[:choose])
    return total


def counted_slots(slots: Sequence[Slot], points: Sequence[float]) -> list[bool]:
    """Which of a student's questions count towards what they know: every counted item, the `choose` items of a
    选做题 that counted for them (the best), never the 附加题; an item they were free to leave is not a gap."""
    counted = [slot.role == "" for slot in slots]
    for kind in {slot.kind for slot in slots if slot.role == "choose"}:
        group = [i for i, slot in enumerate(slots) if slot.kind == kind and slot.role == "choose"]
        best = sorted(group, key=lambda i: (-points[i], i))[: slots[group[0]].choose]
        for i in best:
            counted[i] = True
    return counted


def bonus_total(slots: Sequence[Slot], points: Sequence[float]) -> float:
    """The points a student scored on the 附加题 (outside the total)."""
    return sum(value for slot, value in zip(slots, points, strict=True) if slot.role == "bonus")


def sitters(manifest: Manifest, questions: Mapping[str, Question]) -> tuple[Sitter, ...]:
    """Every student on the manifest with their own paper's questions, in roster order."""
    return tuple(
        Sitter(
            s["student_id"],
            s["name"],
            s.get("class", ""),
            s["variant"],
            paper_slots(manifest, questions, s["variant"], s.get("options")),
            tuple(s.get("extra", {}).items()),
        )
        for s in manifest.students
    )


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        return float(text)
    except ValueError:
        return None


def score_cell(value: object, slot: Slot, rules: Rules = DEFAULT_RULES) -> Mark:
    """A cell as points: a number from 0 to the maximum, or the student's answer to an item that takes one.

    Blank is 0 (not answered). Letters are the printed ones; the mark records the original letters, so the same
    option is counted together across variants.
    """
    kind = kind_of(slot.kind)
    if value is None or (isinstance(value, str) and not value.strip()):
        return Mark(0.0, "" if kind.lettered else None, answered=False)
    # A number is points. Text is the student's answer where the item takes one; an answer that may itself be a
    # number (a fill-in 64) is taken as written, other text that reads as a number is points.
    answer_as_text = isinstance(value, str) and kind.text_answers and slot.takes_letters
    number = None if answer_as_text else _as_number(value)
    if number is not None:
        if number != number or number < 0 or number > slot.points:  # NaN, negative, above the maximum
            if kind.text_answers:
                raise CellProblem(
                    _(
                        "{value} is not between 0 and the maximum {points}; "
                        "a numeric fill-in answer goes in the .xlsx as text"
                    ).format(value=shown(value), points=slot.points)
                )
            raise CellProblem(
                _("{value} is not between 0 and the maximum {points}").format(value=shown(value), points=slot.points)
            )
        if number * 2 != int(number * 2):
            raise CellProblem(_("{value}: points are whole or half points").format(value=shown(value)))
        return Mark(number)
    text = str(value).strip()
    if not slot.takes_letters:
        raise CellProblem(
            _("{value} is not a number; this question takes points from 0 to {points}").format(
                value=shown(value), points=slot.points
            )
        )
    return score_answer(kind, text, slot.item, slot.indices, slot.points, rules, slot.sheet_key)
