"""A handbook plus modules, count, seed and variant into an Exam: questions, order and points (no I/O)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import UsageError
from .markup import math_spans, plain_text, visible_text
from .models import Handbook

DEFAULT_COUNT = 10
DEFAULT_TOTAL_POINTS = 100
MAX_VARIANTS = 26
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# How each question kind is headed on the paper, in the order kinds appear there.
KIND_NAMES: dict[str, str] = {"short_answer": "简答题"}
CHINESE_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Question:
    """One question of the bank; `kind` decides how it is set, selection only looks at `id` and `module_id`."""

    id: str
    module_id: int
    section_id: str
    section_title: str
    kind: str
    prompt: str
    answer: str


@dataclass(frozen=True)
class ExamQuestion:
    """A question as it appears on one paper: its number and its points."""

    number: int
    points: int
    question: Question


@dataclass(frozen=True)
class ExamPart:
    """One part of the paper (一、简答题…): its heading and its questions."""

    heading: str
    questions: tuple[ExamQuestion, ...]


@dataclass(frozen=True)
class Exam:
    """One variant of an exam: which questions, in which order, with which points."""

    exam_id: str
    variant: str
    seed: int
    modules: tuple[int, ...]
    total_points: int
    parts: tuple[ExamPart, ...]

    @property
    def questions(self) -> tuple[ExamQuestion, ...]:
        """Every question in paper order."""
        return tuple(q for part in self.parts for q in part.questions)


# -- the bank --------------------------------------------------------------------------------


def question_bank(handbook: Handbook) -> dict[int, tuple[Question, ...]]:
    """Every module's questions in handbook order; every worked example is a short-answer question."""
    return {
        module.id: tuple(
            Question(e.id, module.id, s.id, s.title, "short_answer", e.q, e.a)
            for s in module.sections
            for e in s.examples
        )
        for module in handbook.modules
    }


def bank_hash(bank: Mapping[int, Sequence[Question]], modules: Sequence[int]) -> str:
    """SHA-256 of the requested modules' questions (ids, texts, sources): changes when any of them does."""
    rows = [
        [q.id, q.module_id, q.section_id, q.section_title, q.kind, q.prompt, q.answer]
        for m in sorted(modules)
        for q in bank.get(m, ())
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


# -- option parsing (pure: messages name the option, what arrived and what is valid) ------------


def _module_range(bank: Mapping[int, Sequence[Question]]) -> str:
    ids = sorted(bank)
    if ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}"
    return ", ".join(str(i) for i in ids)


def parse_modules(text: str, bank: Mapping[int, Sequence[Question]]) -> tuple[int, ...]:
    """`2,3,8` into module ids in ascending order; unknown, repeated or malformed entries are UsageErrors."""
    valid = _module_range(bank)
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not re.fullmatch(r"\d+", item) for item in items):
        raise UsageError(
            f"--modules {text}: expected module numbers separated by commas, like 2,3,8; modules are {valid}"
        )
    ids = [int(item) for item in items]
    unknown = [i for i in ids if i not in bank]
    if unknown:
        noun = "module" if len(unknown) == 1 else "modules"
        raise UsageError(f"--modules {text}: unknown {noun} {', '.join(map(str, unknown))}; modules are {valid}")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise UsageError(f"--modules {text}: module {repeated[0]} is listed twice; list each module once")
    empty = [i for i in ids if not bank[i]]
    if empty:
        raise UsageError(f"--modules {text}: module {empty[0]} has no questions; choose modules with worked examples")
    return tuple(sorted(ids))


def parse_whole(option: str, text: str, low: int, high: int | None = None, why: str = "") -> int:
    """A whole number in [low, high] from an option's text; anything else is a UsageError naming the range."""
    stripped = text.strip()
    value = int(stripped) if re.fullmatch(r"[+-]?\d+", stripped) else None
    if value is None or value < low or (high is not None and value > high):
        expected = f"a whole number from {low} to {high}" if high is not None else f"a whole number ≥ {low}"
        raise UsageError(f"{option} {text}: expected {expected}{why}")
    return value


def parse_count(text: str, modules: Sequence[int], bank: Mapping[int, Sequence[Question]]) -> int:
    """--count: at least 1 and at most the requested modules' pool."""
    pool = sum(len(bank[m]) for m in modules)
    noun, verb = ("module", "holds") if len(modules) == 1 else ("modules", "hold")
    why = f" (--modules {','.join(map(str, modules))}: {noun} {','.join(map(str, modules))} {verb} {pool} questions)"
    return parse_whole("--count", text, 1, pool, why)


def variant_letters(count: int) -> tuple[str, ...]:
    """The variant letters A, B, … for `count` variants."""
    return tuple(LETTERS[:count])


def make_exam_id(modules: Sequence[int], seed: int, count: int, variants: int) -> str:
    """`m2-3-8_s7_n10` (one variant) or `m2-3-8_s7_n10_v3`: different selections never share a folder."""
    base = f"m{'-'.join(map(str, modules))}_s{seed}_n{count}"
    return base if variants == 1 else f"{base}_v{variants}"


# -- selection --------------------------------------------------------------------------------


def sort_key(seed: int, variant: str, question_id: str) -> str:
    """The SHA-256 hex digest of `seed:variant:id`: a question's rank, the same on every machine forever."""
    return hashlib.sha256(f"{seed}:{variant}:{question_id}".encode()).hexdigest()


def allocate(pools: Mapping[int, int], count: int) -> dict[int, int]:
    """Split `count` over modules in proportion to their pool sizes (largest remainder, each ≥1 if possible)."""
    order = list(pools)  # ties go to the module listed first
    total = sum(pools.values())
    if not 0 < count <= total:
        raise ValueError(f"count {count} outside 1..{total}")
    quota = {m: Fraction(count * pools[m], total) for m in order}
    shares = {m: int(quota[m]) for m in order}
    left = count - sum(shares.values())
    by_remainder = sorted(order, key=lambda m: (-(quota[m] - shares[m]), -pools[m], order.index(m)))
    for m in by_remainder[:left]:
        shares[m] += 1
    # A module whose quota is under one question still gets one, taken from the most over-served module.
    nonempty = [m for m in order if pools[m] > 0]
    if count >= len(nonempty):
        for needy in sorted((m for m in nonempty if shares[m] == 0), key=lambda m: (-quota[m], order.index(m))):
            donor = max(
                (m for m in order if shares[m] > 1),
                key=lambda m: (shares[m] - quota[m], shares[m], -order.index(m)),
            )
            shares[donor] -= 1
            shares[needy] += 1
    return shares


def select_questions(pools: Mapping[int, Sequence[str]], count: int, seed: int, variant: str) -> list[str]:
    """Question ids for one variant: each module's share of its lowest sort keys, modules in the given order."""
    shares = allocate({m: len(ids) for m, ids in pools.items()}, count)
    chosen: list[str] = []
    for module, ids in pools.items():
        ranked = sorted(ids, key=lambda qid: (sort_key(seed, variant, qid), qid))
        chosen.extend(ranked[: shares[module]])
    return chosen


# -- points and headings ----------------------------------------------------------------------


def split_points(total: int, count: int) -> list[int]:
    """Equal whole-number points; the remainder goes one each to the last questions (they come later, not easier)."""
    base, extra = divmod(total, count)
    return [base] * (count - extra) + [base + 1] * extra


def part_heading(index: int, kind: str, numbers: Sequence[int], points: Sequence[int]) -> str:
    """「一、简答题（共 10 小题，每小题 10 分，共 100 分）」, naming the question ranges when points differ."""
    name = KIND_NAMES[kind]
    runs: list[tuple[int, int, int]] = []  # (first number, last number, points)
    for number, value in zip(numbers, points):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], number, value)
        else:
            runs.append((number, number, value))
    if len(runs) == 1:
        each = f"每小题 {points[0]} 分"
    else:
        each = "，".join((f"第 {a} 题 {p} 分" if a == b else f"第 {a}–{b} 题每小题 {p} 分") for a, b, p in runs)
    numeral = CHINESE_NUMERALS[index] if index < len(CHINESE_NUMERALS) else str(index + 1)
    return f"{numeral}、{name}（共 {len(numbers)} 小题，{each}，共 {sum(points)} 分）"


def make_exam(
    bank: Mapping[int, Sequence[Question]],
    modules: Sequence[int],
    question_ids: Sequence[str],
    *,
    exam_id: str,
    variant: str,
    seed: int,
    total_points: int,
) -> Exam:
    """Number the chosen questions, grouped by kind in KIND_NAMES order, and give each its points."""
    by_id = {q.id: q for pool in bank.values() for q in pool}
    chosen = [by_id[qid] for qid in question_ids]
    ordered = [q for kind in KIND_NAMES for q in chosen if q.kind == kind]
    points = split_points(total_points, len(ordered))
    parts: list[ExamPart] = []
    number = 1
    for kind in KIND_NAMES:
        group = [q for q in ordered if q.kind == kind]
        if not group:
            continue
        numbers = list(range(number, number + len(group)))
        values = points[number - 1 : number - 1 + len(group)]
        questions = tuple(ExamQuestion(n, p, q) for n, p, q in zip(numbers, values, group))
        parts.append(ExamPart(part_heading(len(parts), kind, numbers, values), questions))
        number += len(group)
    return Exam(exam_id, variant, seed, tuple(modules), total_points, tuple(parts))


def missing_questions(bank: Mapping[int, Sequence[Question]], question_ids: Sequence[str]) -> list[str]:
    """The ids that are no longer in the bank (for rebuilding from a manifest)."""
    known = {q.id for pool in bank.values() for q in pool}
    return [qid for qid in question_ids if qid not in known]


# -- template contexts (plain data; templates do no numbering or arithmetic) ---------------------


@dataclass(frozen=True)
class PaperSettings:
    """What the teacher chose for the printed header; none of it affects which questions are asked."""

    title: str
    course: str = ""
    date: str = ""
    duration: int = 120
    seal_line: bool = False
    lang: str = "zh-CN"


# Handwriting needs about twice the width of printed body text per character.
HANDWRITING_FACTOR = 2.0
MIN_LINES, MAX_LINES = 2, 10
SCORE_COLUMNS = 15


def answer_lines(answer: str, chars_per_line: int) -> int:
    """Ruled lines for an answer: its printed length at handwriting size plus one spare, within 2–10."""
    length = len(re.sub(r"\s+", "", visible_text(answer))) + 4 * len(math_spans(answer))
    needed = -(-int(length * HANDWRITING_FACTOR) // chars_per_line) + 1
    return max(MIN_LINES, min(MAX_LINES, needed))


def score_rows(exam: Exam) -> list[list[str]]:
    """The 题号 cells of the score table (question numbers, then 总分), split into rows that fit the page."""
    cells = [str(q.number) for q in exam.questions] + ["总分"]
    rows = -(-len(cells) // SCORE_COLUMNS)
    width = -(-len(cells) // rows)
    return [cells[i : i + width] for i in range(0, len(cells), width)]


def doc_label(exam: Exam, student_id: str = "") -> str:
    """The footer label that matches a printed sheet to its key: exam id, variant, student number."""
    label = f"{exam.exam_id} · {exam.variant} 卷"
    return f"{label} · {student_id}" if student_id else label


def _common(exam: Exam, settings: PaperSettings, student_id: str = "") -> dict[str, Any]:
    return {
        "lang": settings.lang,
        "generator": "paperkit",
        "title": settings.title,
        "title_plain": plain_text(settings.title),
        "course": settings.course,
        "date": settings.date,
        "duration": settings.duration,
        "total_points": exam.total_points,
        "label": doc_label(exam, student_id),
        "seal_line": settings.seal_line,
    }


def paper_context(
    exam: Exam,
    settings: PaperSettings,
    chars_per_line: int,
    student: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """The paper's template context; `student` (name, number, class) fills in the name fields."""
    name, number, class_name = student or ("", "", "")
    count = len(exam.questions)
    doc = _common(exam, settings, number)
    doc.update(
        fields=[
            {"label": "姓名", "value": name},
            {"label": "学号", "value": number},
            {"label": "班级", "value": class_name},
        ],
        score_rows=score_rows(exam),
        instructions=[
            "答题前，请在试卷规定位置填写姓名、学号和班级。",
            f"本试卷共 {count} 小题，满分 {exam.total_points} 分，考试时长 {settings.duration} 分钟。",
            "请在每题下方的横线上作答，字迹清楚；答在其他位置不得分。",
            "考试结束后，将试卷交回。",
        ],
        parts=[
            {
                "heading": part.heading,
                "questions": [
                    {
                        "number": q.number,
                        "points": q.points,
                        "prompt": q.question.prompt,
                        "lines": answer_lines(q.question.answer, chars_per_line),
                    }
                    for q in part.questions
                ],
            }
            for part in exam.parts
        ],
    )
    return {"doc": doc}


def key_context(exam: Exam, settings: PaperSettings) -> dict[str, Any]:
    """The key's template context: the paper's numbering and points, each answer and where it comes from."""
    doc = _common(
        exam, PaperSettings(settings.title, settings.course, settings.date, settings.duration, False, settings.lang)
    )
    doc["parts"] = [
        {
            "heading": part.heading,
            "questions": [
                {
                    "number": q.number,
                    "points": q.points,
                    "prompt": q.question.prompt,
                    "answer": q.question.answer,
                    "section_id": q.question.section_id,
                    "section_title": q.question.section_title,
                }
                for q in part.questions
            ],
        }
        for part in exam.parts
    ]
    return {"doc": doc}
