"""A handbook plus options, seed and variant into an Exam: questions, order and points (no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from paperkit.exam.options import ExamOptions, PartSpec
from paperkit.exam.select import balanced_orders, numbered_run, units
from paperkit.labels import label, numeral
from paperkit.questions.bank import ExamQuestion, Question, group_leads, material_leads, printed_numbers
from paperkit.questions.group import shared_points
from paperkit.questions.kind import DEFAULT_RULES, Layout, Rules, text_width
from paperkit.questions.registry import KINDS, kind_of
from paperkit.text.markup import plain_text

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GENERATOR = "paperkit"


@dataclass(frozen=True)
class ExamPart:
    """One part of the paper (一、简答题…): its heading and its questions."""

    heading: str
    questions: tuple[ExamQuestion, ...]
    kind: str = ""
    instruction: str = ""
    role: str = ""  # a blueprint's 选做题 ("choose") or 附加题 ("bonus"); "" for a counted part


@dataclass(frozen=True)
class Exam:
    """One variant of an exam: which questions, in which order, with which points."""

    exam_id: str
    variant: str
    seed: int
    modules: tuple[int, ...]
    total_points: int
    parts: tuple[ExamPart, ...]
    typed: bool = False  # set from a blueprint: one part per kind, scored per part (大题)
    rules: Rules = DEFAULT_RULES  # how its 多选 are scored: printed in the part's instruction and the key

    @property
    def questions(self) -> tuple[ExamQuestion, ...]:
        """Every question in paper order."""
        return tuple(q for part in self.parts for q in part.questions)

    @property
    def asked(self) -> int:
        """How many numbered questions it asks (a 组合题 is one, whatever its sub-questions)."""
        return len({(q.printed or q.number) for q in self.questions})

    @property
    def bonus_points(self) -> int:
        """The points of its 附加题, outside the 满分 (0 without one)."""
        return sum(q.points for part in self.parts if part.role == "bonus" for q in part.questions)


# -- naming ------------------------------------------------------------------------------------


def variant_letters(count: int) -> tuple[str, ...]:
    """The variant letters A, B, … for `count` variants."""
    return tuple(LETTERS[:count])


def make_exam_id(modules: Sequence[int], seed: int, count: int, variants: int) -> str:
    """`m2-3-8_s7_n10` (one variant) or `m2-3-8_s7_n10_v3`: different selections never share a folder."""
    base = f"m{'-'.join(map(str, modules))}_s{seed}_n{count}"
    return base if variants == 1 else f"{base}_v{variants}"


# -- points and headings ----------------------------------------------------------------------


def split_points(total: int, count: int) -> list[int]:
    """Equal whole-number points; the remainder goes one each to the last questions (they come later, not easier)."""
    base, extra = divmod(total, count)
    return [base] * (count - extra) + [base + 1] * extra


def part_heading(index: int, kind: str, numbers: Sequence[int], points: Sequence[int]) -> str:
    """「一、简答题（共 10 小题，每小题 10 分，共 100 分）」, naming the question ranges when points differ."""
    runs: list[tuple[int, int, int]] = []  # (first number, last number, points)
    for number, value in zip(numbers, points, strict=True):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], number, value)
        else:
            runs.append((number, number, value))
    if len(runs) == 1:
        each = label("each_same", points=points[0])
    else:
        each = label("list_separator").join(
            label("each_one", first=a, points=p) if a == b else label("each_run", first=a, last=b, points=p)
            for a, b, p in runs
        )
    return label(
        "part_heading",
        numeral=numeral(index),
        name=kind_of(kind).part_name,
        count=len(numbers),
        each=each,
        total=sum(points),
    )


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
    """Number the chosen questions, grouped by kind in the registry's order, and give each its points."""
    by_id = {q.id: q for pool in bank.values() for q in pool}
    chosen = [by_id[qid] for qid in question_ids]
    ordered = [q for kind in KINDS for q in chosen if q.kind == kind]
    points = split_points(total_points, len(ordered))
    parts: list[ExamPart] = []
    number = 1
    for kind in KINDS:
        group = [q for q in ordered if q.kind == kind]
        if not group:
            continue
        numbers = list(range(number, number + len(group)))
        values = points[number - 1 : number - 1 + len(group)]
        questions = tuple(ExamQuestion(n, p, q) for n, p, q in zip(numbers, values, group, strict=True))
        parts.append(ExamPart(part_heading(len(parts), kind, numbers, values), questions))
        number += len(group)
    return Exam(exam_id, variant, seed, tuple(modules), total_points, tuple(parts))


def make_typed_exam(
    bank: Mapping[int, Sequence[Question]],
    modules: Sequence[int],
    parts: Sequence[PartSpec],
    question_ids: Sequence[str],
    orders: Mapping[str, tuple[int, ...]],
    *,
    exam_id: str,
    variant: str,
    seed: int,
    rules: Rules = DEFAULT_RULES,
) -> Exam:
    """A blueprint paper: its parts in paper order (`question_ids` holds each part's items in turn), numbered
    through, each item the part's points; each part's instruction says how it is scored where the rules matter
    (多选), and a 选做题 or 附加题 says how it counts."""
    by_id = {q.id: q for pool in bank.values() for q in pool}
    exam_parts: list[ExamPart] = []
    start = printed = 0
    for spec in parts:
        taken = numbered_run(question_ids[start:], by_id, spec.count)
        group = [by_id[qid] for qid in question_ids[start : start + taken]]
        kind = kind_of(spec.kind)
        questions = tuple(
            ExamQuestion(start + i + 1, points, q, orders.get(q.id, ()), printed + number, sub)
            for i, (q, points, (number, sub)) in enumerate(
                zip(group, _part_points(group, spec.points), printed_numbers(group), strict=True)
            )
        )
        heading = label(
            f"part_heading_{spec.role}" if spec.role else kind.heading_label or "part_heading_blueprint",
            numeral=numeral(len(exam_parts)),
            name=kind.part_name,
            count=spec.count,
            points=spec.points,
            total=spec.points * spec.count,
            choose=spec.choose,
            counted=spec.counted,
        )
        instruction = kind.instruction + kind.rule_label(rules)
        if spec.role:
            role = "choose_one" if spec.role == "choose" and spec.choose == 1 else spec.role
            instruction = label(f"instruction_{role}", choose=spec.choose) + instruction
        exam_parts.append(ExamPart(heading, questions, spec.kind, instruction, spec.role))
        start += taken
        printed += spec.count
    total = sum(spec.counted for spec in parts)
    return Exam(exam_id, variant, seed, tuple(modules), total, tuple(exam_parts), typed=True, rules=rules)


def _part_points(questions: Sequence[Question], each: int) -> list[int]:
    """Each question's points in a part that gives `each` to a numbered question: a 组合题's are shared over
    its sub-questions by their own points."""
    points: list[int] = []
    for unit in units(questions):
        items = [q.item for q in questions if q.id in unit]
        points += shared_points(items, each) if items[0].group is not None else [each] * len(items)
    return points


def personal(exam: Exam, student_id: str, orders: Mapping[str, tuple[int, ...]] | None = None) -> Exam:
    """A student's own copy of a variant: the same items, each choice item's options in the student's order
    (from `orders` when reprinting, else drawn from the seed, the variant and the student number)."""
    own_orders = (
        orders
        if orders is not None
        else balanced_orders([q.question.item for q in exam.questions], exam.seed, f"{exam.variant}/{student_id}")
    )

    def own(q: ExamQuestion) -> ExamQuestion:
        if not q.question.item.options:
            return q
        return replace(q, order=own_orders.get(q.question.id, q.order))

    parts = tuple(replace(part, questions=tuple(own(q) for q in part.questions)) for part in exam.parts)
    return replace(exam, parts=parts)


def missing_questions(bank: Mapping[int, Sequence[Question]], question_ids: Sequence[str]) -> list[str]:
    """The ids that are no longer in the bank (for rebuilding from a manifest)."""
    known = {q.id for pool in bank.values() for q in pool}
    return [qid for qid in question_ids if qid not in known]


# -- template contexts (plain data; templates do no numbering or arithmetic) ---------------------

SCORE_COLUMNS = 15


def score_rows(exam: Exam) -> list[list[str]]:
    """The 题号 cells of the score table (question numbers, then 总分), split into rows that fit the page."""
    cells = [q.label for q in exam.questions] + [label("score_total")]
    rows = -(-len(cells) // SCORE_COLUMNS)
    width = -(-len(cells) // rows)
    return [cells[i : i + width] for i in range(0, len(cells), width)]


def answer_grid_rows(exam: Exam) -> list[list[str]]:
    """The 选择题答题表's 题号 cells: every question answered by a letter or a mark, in rows of at most
    SCORE_COLUMNS, split evenly (empty when the paper has none)."""
    cells = [q.label for q in exam.questions if kind_of(q.question.kind).compact_key]
    if not cells:
        return []
    rows = -(-len(cells) // SCORE_COLUMNS)
    width = -(-len(cells) // rows)
    return [cells[i : i + width] for i in range(0, len(cells), width)]


# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand is never misread.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def paper_code(exam_id: str, date: str = "") -> str:
    """The short code a paper prints for its exam (「1209-7KQ3」): the exam day (MMDD, if dated) and four
    characters checking the full exam id, which stays in the manifest and the PDF's keywords."""
    bits = int.from_bytes(hashlib.sha256(exam_id.encode()).digest()[:3], "big") >> 4  # 20 bits, 4 characters
    check = "".join(_CODE_ALPHABET[(bits >> shift) & 31] for shift in (15, 10, 5, 0))
    return f"{date[5:7]}{date[8:10]}-{check}" if len(date) == 10 else check


def doc_label(exam: Exam, student_id: str = "", date: str = "") -> str:
    """The footer label that matches a printed sheet to its key: the paper code, variant, student number."""
    # The exam id (m2-3-8_s7_n28_v2_p460f8c_h51ad1a) printed on every page read as a hash to the students and
    # wrapped the footer onto two lines; the code is short and checks it.
    text = f"{paper_code(exam.exam_id, date)} · {label('variant', variant=exam.variant)}"
    return f"{text} · {student_id}" if student_id else text


def exam_title(options: ExamOptions, handbook_title: str) -> str:
    """The printed title: --title, or the handbook's title + 测试卷."""
    return options.title if options.title is not None else label("default_exam_title", title=handbook_title)


def _common(exam: Exam, options: ExamOptions, title: str, lang: str, student_id: str = "") -> dict[str, Any]:
    return {
        "lang": lang,
        "generator": GENERATOR,
        "title": title,
        "document_title": plain_text(title),
        "kicker": "",
        "course": options.course,
        "date": options.date_text,
        "duration_label": label("duration", minutes=options.duration),
        "total_label": label("full_marks", points=exam.total_points),
        "label": doc_label(exam, student_id, options.date_text),
        "exam_id": exam.exam_id,
        "seal_line": False,
        "variant_box": label("variant", variant=exam.variant) if options.variants > 1 else "",
    }


def _parts(exam: Exam, view: str, layout: Layout, alike: bool = True) -> list[dict[str, Any]]:
    """Each part's heading and its questions as their kind's paper or key view shows them."""
    parts = []
    for part in exam.parts:
        within = replace(layout, part=tuple(part.questions) if alike else ())  # what a kind may size alike
        leads = material_leads(part.questions) if view == "paper_view" else {}  # a 材料 before its chain
        heads = group_leads(part.questions)  # a 组合题's number and stem before its sub-question (1)
        values: dict[str, Any] = {
            "heading": part.heading,
            # Each view names its kind, for a consumer that asks the kind (export/docx.py: is it answered by a mark?)
            "questions": [
                {
                    **getattr(kind_of(q.question.kind), view)(q, within),
                    "kind": q.question.kind,
                    **leads.get(i, {}),
                    **heads.get(i, {}),
                }
                for i, q in enumerate(part.questions)
            ],
            "instruction": "",
            "table": [],
            "rule": "",
        }
        if exam.typed:  # a blueprint paper: an instruction under each heading, a 得分/评卷人 box before it
            values["instruction"] = part.instruction
            kind = kind_of(part.kind)
            compact = view == "key_view" and kind.compact_key
            values["table"] = [{"why": "", **q} for q in values["questions"]] if compact else []
            values["rule"] = kind.rule_label(layout.rules) if view == "key_view" else ""
        parts.append(values)
    return parts


def quick_answers(exam: Exam, layout: Layout) -> list[str]:
    """The answer line Chinese keys open with, one entry per run of lettered questions: 「1–5 CCDCD」, 「11. AC」."""
    runs: list[str] = []
    group: list[tuple[int, str]] = []

    def close() -> None:
        if len(group) == 1:
            runs.append(f"{group[0][0]}. {group[0][1]}")
        elif group:
            runs.append(f"{group[0][0]}–{group[-1][0]} " + "".join(answer for _, answer in group))
        group.clear()

    previous = 0
    for q in exam.questions:
        kind = kind_of(q.question.kind)
        view = kind.key_view(q, layout) if kind.compact_key else {}
        answer = str(view.get("quick", view.get("answer", "")))
        # Five single answers make a group, as printed keys count them; a break in the numbering (a 填空 between)
        # or an answer of several letters (多选) ends it, and a 多选 answer or a 组合题's sub-question stands alone
        # with its number (「5(2) C」).
        number = q.printed or q.number
        if len(answer) != 1 or q.sub or number != previous + 1 or len(group) == 5:
            close()
        if len(answer) == 1 and not q.sub:
            group.append((number, answer))
        elif answer:
            runs.append(f"{q.label}. {answer}" if not q.sub else f"{q.label} {answer}")
        previous = number
    close()
    return runs


def part_score_rows(exam: Exam) -> list[list[str]]:
    """The score table of a blueprint paper: one column per part (一 二 三 …) and 总分; a 附加题 after 总分, as it is
    not part of it."""
    counted = [numeral(i) for i, part in enumerate(exam.parts) if part.role != "bonus"]
    bonus = [label("score_bonus", numeral=numeral(i)) for i, part in enumerate(exam.parts) if part.role == "bonus"]
    return [[*counted, label("score_total"), *bonus]]


SEAL_BAND_MM = 16.0
SEAL_EDGE_MM = 6.0


def seal_geometry(options: ExamOptions, fields: list[dict[str, str]]) -> dict[str, Any]:
    """Where the seal line goes: the band on the binding edge, the margins around it, its length and fields."""
    page = options.page
    return {
        "every_page": options.seal_pages == "all",
        # Two-up: a sheet's binding edge is the left of its front (pages 1, 5, 9…) and the right of its back (4, 8…).
        "front": ":nth(4n+1)" if page.sheet else ":right",
        "back": ":nth(4n)" if page.sheet else ":left",
        "plain": page.sheet is not None,
        "band_mm": SEAL_BAND_MM,
        "half_mm": SEAL_BAND_MM / 2,
        # The margin box sits against the text; move the band out to 6 mm from the paper's edge.
        "offset_mm": -round(page.side_margin_mm - SEAL_EDGE_MM, 3),
        "binding_mm": round(page.side_margin_mm + SEAL_BAND_MM, 3),
        "outer_mm": round(max(page.side_margin_mm - SEAL_BAND_MM / 2, 12.0), 3),
        "length_mm": round(page.height_mm - page.top_margin_mm - page.bottom_margin_mm, 3),
        "font_pt": round(page.body_pt * 0.85, 2),
        "fields": [{**f, **seal_field_size(f["label"], f["value"])} for f in fields],
    }


# The write-in room of a seal field, in em of its type: four handwritten characters of a name, ten digits of a
# 学号 (handwriting is wider than print), a class; other fields (考场号, 座位号) a few digits.
SEAL_ROOM_EM = {"field_name": 7.0, "field_number": 10.0, "field_class": 6.0}
SEAL_OTHER_EM = 5.0
SEAL_MAX_EM = 11.0  # a printed value wider than this is set smaller, never wrapped across its rule
SEAL_MIN_SCALE = 0.6


def seal_field_size(name: str, value: str) -> dict[str, float]:
    """A seal field's rule length (em) and its printed value's type scale: sized from its content, never wrapped."""
    room = next((em for key, em in SEAL_ROOM_EM.items() if label(key) == name), SEAL_OTHER_EM)
    printed = text_width(value) + 1.0 if value else 0.0  # half an em of air each side
    width = max(room, min(printed, SEAL_MAX_EM))
    scale = max(SEAL_MIN_SCALE, min(1.0, SEAL_MAX_EM / printed)) if printed else 1.0
    return {"width_em": round(width, 2), "scale": round(scale, 3)}


def _where(exam: Exam, grid: bool) -> str:
    """The notice line that says where answers go: the grid, the brackets and lines, or under each question."""
    if grid and answer_grid_rows(exam):
        return label("notice_where_grid")
    return label("notice_where_typed") if exam.typed else label("notice_where")


def paper_context(
    exam: Exam,
    options: ExamOptions,
    title: str,
    lang: str,
    student: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """The paper's template context; `student` (name, number, class) fills in the name fields."""
    name, number, class_name = student or ("", "", "")
    doc = _common(exam, options, title, lang, number)
    fields = [
        {"label": label("field_name"), "value": name},
        {"label": label("field_number"), "value": number},
        {"label": label("field_class"), "value": class_name},
    ]
    doc.update(
        seal_line=options.seal_line,
        seal=seal_geometry(options, [*fields, *({"label": f, "value": ""} for f in options.seal_fields)]),
        fields=fields,
        score_rows=part_score_rows(exam) if exam.typed else score_rows(exam),
        graders=exam.typed,
        instructions=[
            label("notice_fields_printed") if name else label("notice_fields"),
            label(
                "notice_totals_bonus" if exam.bonus_points else "notice_totals",
                count=exam.asked,
                points=exam.total_points,
                bonus=exam.bonus_points,
                minutes=options.duration,
            ),
            _where(exam, options.answer_grid),
            label("notice_return"),
        ],
        parts=_parts(
            exam, "paper_view", Layout(options.page.chars_per_line, exam.typed, exam.rules), options.blanks == "part"
        ),
        answer_grid=answer_grid_rows(exam) if options.answer_grid else [],
    )
    return {"doc": doc}


def key_context(exam: Exam, options: ExamOptions, title: str, lang: str) -> dict[str, Any]:
    """The key's template context: the paper's numbering and points, each answer and where it comes from."""
    doc = _common(exam, options, title, lang)
    doc.update(
        document_title=f"{plain_text(title)} {label('key_title')}",
        kicker=label("key_kicker"),
        quick=quick_answers(exam, Layout(options.page.chars_per_line, rules=exam.rules)),
        parts=_parts(exam, "key_view", Layout(options.page.chars_per_line, rules=exam.rules), options.blanks == "part"),
    )
    return {"doc": doc}


def student_key_context(
    rows: Sequence[tuple[str, str, Exam]], options: ExamOptions, title: str, lang: str, exam_id: str
) -> dict[str, Any]:
    """The per-student answer table: each student's letters for every choice item, as their own paper shows them."""
    first = rows[0][2]
    numbers = [q.label for q in first.questions if q.question.item.options]
    doc = {
        "lang": lang,
        "generator": GENERATOR,
        "document_title": f"{plain_text(title)} {label('student_key_title')}",
        "title": label("student_key_title"),
        "label": exam_id,
        "exam_id": exam_id,
        "date": options.date_text,
        "numbers": numbers,
        "rows": [
            {
                "student_id": student_id,
                "name": name,
                "variant": exam.variant,
                "answers": [_printed_key(q) for q in exam.questions if q.question.item.options],
            }
            for student_id, name, exam in rows
        ],
    }
    return {"doc": doc}


def _printed_key(q: ExamQuestion) -> str:
    return kind_of(q.question.kind).printed_key(q.question.item, q.order)
