"""The question bank: every item of a handbook with where it comes from, and an item as placed on a paper."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from paperkit.content.models import Exercise, Handbook
from paperkit.labels import label
from paperkit.questions.registry import as_item


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


@dataclass(frozen=True)
class ExamQuestion:
    """A question as it appears on one paper: its number and its points."""

    number: int
    points: int
    question: Question
    order: tuple[int, ...] = ()  # options: the original index of each printed option; () = as written


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
