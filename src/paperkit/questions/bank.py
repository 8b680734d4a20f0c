"""The question bank: every item of a handbook with where it comes from, and an item as placed on a paper."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from paperkit.content.models import Exercise, Handbook
from paperkit.labels import label
from paperkit.questions.registry import GROUP_KIND, as_item


@dataclass(frozen=True)
class Question:
    """One item of the bank with where it comes from; selection only looks at `id` and `module_id`."""

    id: str
    module_id: int
    section_id: str
    section_title: str
    item: Exercise

    @property
    def kind(self) -> str:
        """The item's kind (the registry decides how it is set)."""
        return self.item.kind

    @property
    def part_kind(self) -> str:
        """The kind of paper part it is drawn for: its own, or `group` for a 组合题's sub-question."""
        return GROUP_KIND if self.item.group is not None else self.item.kind

    @property
    def asked(self) -> str:
        """What makes one numbered question of a paper: its group's id, or its own."""
        return self.item.group.id if self.item.group is not None else self.id


@dataclass(frozen=True)
class ExamQuestion:
    """A question as it appears on one paper: its number and its points."""

    number: int  # its place among the paper's scored questions, from 1 (a sub-question has one of its own)
    points: int
    question: Question
    order: tuple[int, ...] = ()  # options: the original index of each printed option; () = as written
    printed: int = 0  # the number printed before it, when that is not `number` (a 组合题 shares one)
    sub: int = 0  # its sub-question number in a 组合题, from 1 (0: a question of its own)

    @property
    def label(self) -> str:
        """How the paper names it: 「7」, or 「17(2)」 for a sub-question."""
        return question_label(self.printed or self.number, self.sub)


def question_label(number: int, sub: int = 0) -> str:
    """A question's name on papers, keys and sheets: 「7」, or 「17(2)」 for the second sub-question of 17."""
    return f"{number}({sub})" if sub else str(number)


def printed_numbers(questions: Sequence[Question]) -> list[tuple[int, int]]:
    """(printed number, sub-question number) of each question in paper order: a 组合题's sub-questions share
    one number, (1)(2)… under it; every other question is numbered on."""
    numbers: list[tuple[int, int]] = []
    number, previous = 0, ""
    for q in questions:
        if q.item.group is None or q.asked != previous:
            number += 1
        numbers.append((number, q.item.sub))
        previous = q.asked
    return numbers


def question_bank(handbook: Handbook, exercises: bool = False) -> dict[int, tuple[Question, ...]]:
    """Every module's items in handbook order: its worked examples (short answers), and its exercises if asked."""
    return {
        module.id: tuple(
            Question(item.id, module.id, s.id, s.title, item)
            for s in module.sections
            for item in (*(as_item(e) for e in s.examples), *(s.exercises if exercises else ()))
        )
        for module in handbook.modules
    }


def bank_by_id(bank: Mapping[int, Sequence[Question]]) -> dict[str, Question]:
    """The bank's questions by item id."""
    return {q.id: q for questions in bank.values() for q in questions}


def _printed(item: Exercise) -> dict[str, Any]:
    """Every field of an item that a paper or a key prints (all but where it was read from)."""
    # What an item tests and who may see it are not printed: changing them never changes a paper's hash.
    values = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in ("origin", "tests", "use")}
    if not values.get("material"):  # only items with a 材料 carry it: every other bank hashes as before
        values.pop("material", None)
    group = values.pop("group")  # likewise a 组合题's sub-questions: their group's stem and points, their place
    sub = values.pop("sub")
    if group is not None:
        values["group"] = [group.id, group.q, group.points, sub]
    values["rubric"] = [[p.point, p.points] for p in item.rubric]
    return values


def bank_hash(bank: Mapping[int, Sequence[Question]], modules: Sequence[int]) -> str:
    """SHA-256 of the requested modules' items: every printed field (prompts, options, answers, rubrics, points)."""
    rows = [
        [q.id, q.module_id, q.section_id, q.section_title, _printed(q.item)]
        for m in sorted(modules)
        for q in bank.get(m, ())
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def material_leads(questions: Sequence[ExamQuestion]) -> dict[int, dict[str, str]]:
    """For each question (by its index) that carries a 材料: the material and the line that leads into it
    (「阅读下面的材料，完成第 6–8 题。」), counting the items that follow it in turn on the paper."""
    leads: dict[int, dict[str, str]] = {}
    for index, q in enumerate(questions):
        if not q.question.item.material:
            continue
        last = index
        while last + 1 < len(questions) and questions[last + 1].question.item.follows == questions[last].question.id:
            last += 1
        first, final = q.number, questions[last].number
        lead = label("material_lead", numbers=f"{first}–{final}" if final != first else str(first))
        leads[index] = {"material": q.question.item.material, "material_lead": lead}
    return leads


def group_leads(questions: Sequence[ExamQuestion]) -> dict[int, dict[str, str]]:
    """For each question (by its index) that opens a 组合题: the group's number, its points (all its
    sub-questions' on this paper; none in a handbook) and its stem, printed once above sub-question (1)."""
    leads: dict[int, dict[str, str]] = {}
    for index, q in enumerate(questions):
        group = q.question.item.group
        if group is None or q.sub != 1:
            continue
        points = sum(x.points for x in questions if x.question.asked == q.question.asked)
        leads[index] = {
            "group_head": f"{q.printed or q.number}.",
            "group_points": label("points", points=points) if points else "",
            "group_stem": group.q,
        }
    return leads
