"""Scoring a printed exam: each student's questions as their paper showed them, and one answer cell as points.

Pure functions over the manifest (what each paper printed) and the question bank (the keys): the score
sheet is written from these, and read back through them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from paperkit.exam.manifest import Manifest
from paperkit.exam.paper import Question
from paperkit.questions.kinds import LETTERS, blanks

# How a true/false answer may be written on a score sheet (teachers write √ and ×, or 对/错, or T/F).
TRUE_MARKS = ("t", "true", "√", "✓", "✔", "对", "正确", "是")
FALSE_MARKS = ("f", "false", "×", "✗", "✘", "x", "错", "错误", "否")


class CellProblem(ValueError):
    """A cell that cannot be scored; the message says why, the caller adds where."""


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
    order: str = ""  # choice/multi: the original option letter printed at each position ("DCBA": A shows D)
    key: str = ""  # choice/multi: the printed letters keyed correct; truefalse: "true" or "false"
    blanks: tuple[tuple[str, ...], ...] = ()  # fill: each blank's accepted answers

    @property
    def takes_letters(self) -> bool:
        """Whether the sheet may hold the student's answer (letters, √/×, a word) instead of points."""
        return self.kind in ("choice", "multi", "truefalse") or (self.kind == "fill" and len(self.blanks) == 1)


@dataclass(frozen=True)
class Sitter:
    """A student who sat the exam (a row of the score sheet) and the questions of their paper."""

    student_id: str
    name: str
    class_name: str
    variant: str
    slots: tuple[Slot, ...]
    extra: tuple[tuple[str, str], ...] = ()  # the roster's other columns, carried to the score sheet


@dataclass(frozen=True)
class Mark:
    """One scored cell: the points, and for a choice item the original option letters chosen."""

    points: float
    chosen: str | None = None  # original letters ("" = left blank); None when the cell held points
    answered: bool = True


def bank_by_id(bank: Mapping[int, Sequence[Question]]) -> dict[str, Question]:
    """The bank's questions by item id."""
    return {q.id: q for questions in bank.values() for q in questions}


def _slot(number: int, question: Question, points: int, order: str | None) -> Slot:
    item = question.item
    slot = Slot(number, question.id, item.kind, points, question.module_id, question.section_id, question.section_title)
    if item.kind in ("choice", "multi"):
        printed = order or LETTERS[: len(item.options)]
        key = "".join(LETTERS[i] for i, original in enumerate(printed) if original in item.answer.upper())
        return replace(slot, order=printed, key=key)
    if item.kind == "truefalse":
        return replace(slot, key=item.answer.lower())
    if item.kind == "fill":
        return replace(slot, blanks=tuple(blanks(item.q)))
    return slot


def paper_slots(
    manifest: Manifest, questions: Mapping[str, Question], variant: str, orders: Mapping[str, str] | None = None
) -> tuple[Slot, ...]:
    """A variant's questions in printed order (with one student's own option orders, if given)."""
    paper = manifest.papers[variant]
    shuffled = {**paper.get("options", {}), **(orders or {})}
    return tuple(
        _slot(n, questions[qid], points, shuffled.get(qid))
        for n, (qid, points) in enumerate(zip(paper["questions"], paper["points"], strict=True), start=1)
    )


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


def _normal(text: str) -> str:
    """An answer compared as a teacher would: width, case and spaces do not matter."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


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


def score_cell(value: object, slot: Slot) -> Mark:
    """A cell as points: a number from 0 to the maximum, or the student's answer to a keyed item.

    Blank is 0 (not answered). Choice letters are the printed ones; the mark records the original letters, so
    the same option is counted together across variants.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return Mark(0.0, "" if slot.kind in ("choice", "multi") else None, answered=False)
    # A number is points. Text is the student's answer where the item is keyed; a fill-in answer is always
    # taken as written (its answer may itself be a number: 64), other text that reads as a number is points.
    number = _as_number(value) if not (isinstance(value, str) and slot.kind == "fill" and slot.takes_letters) else None
    if number is not None:
        if number != number or number < 0 or number > slot.points:  # NaN, negative, above the maximum
            hint = "; a numeric fill-in answer goes in the .xlsx as text" if slot.kind == "fill" else ""
            raise CellProblem(f"{_shown(value)} is not between 0 and the maximum {slot.points}{hint}")
        if number * 2 != int(number * 2):
            raise CellProblem(f"{_shown(value)}: points are whole or half points")
        return Mark(number)
    text = str(value).strip()
    if slot.kind in ("choice", "multi"):
        return _choice(text, slot)
    if slot.kind == "truefalse":
        mark = text.casefold()
        if mark in TRUE_MARKS or mark in FALSE_MARKS:
            said = "true" if mark in TRUE_MARKS else "false"
            return Mark(float(slot.points) if said == slot.key else 0.0)
        raise CellProblem(f"{_shown(value)} is neither points nor a true/false mark (√ ×, T F, 对 错)")
    if slot.kind == "fill" and len(slot.blanks) == 1:
        right = any(_normal(text) == _normal(answer) for answer in slot.blanks[0])
        return Mark(float(slot.points) if right else 0.0)
    raise CellProblem(f"{_shown(value)} is not a number; this question takes points from 0 to {slot.points}")


def _choice(text: str, slot: Slot) -> Mark:
    letters = re.sub(r"[\s,，、/]", "", unicodedata.normalize("NFKC", text)).upper()
    valid = LETTERS[: len(slot.order)]
    if not letters or any(ch not in valid for ch in letters) or len(set(letters)) != len(letters):
        raise CellProblem(f"{_shown(text)} is neither points nor option letters ({valid[0]}–{valid[-1]})")
    if slot.kind == "choice" and len(letters) > 1:
        raise CellProblem(f"{_shown(text)}: a single-choice question takes one letter")
    chosen = set(letters)
    key = set(slot.key)
    if chosen == key:
        points = float(slot.points)
    elif slot.kind == "multi" and chosen < key:
        points = float(slot.points // 2)  # 部分选对得一半分（向下取整）, as the key states
    else:
        points = 0.0
    original = "".join(sorted(slot.order[LETTERS.index(ch)] for ch in letters))
    return Mark(points, original)


def _shown(value: object) -> str:
    text = str(value).strip()
    return f"'{text[:20]}…'" if len(text) > 20 else f"'{text}'"
