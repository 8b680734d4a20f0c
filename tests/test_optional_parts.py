"""选做题 and 附加题 (issue 30, point 8): a part a student answers some of (`short:2x10:choose1`), and a part outside
the 满分 (`short:1x10:bonus`), from the flags or a blueprint, through the paper, the manifest, the score sheet
(recalculated by LibreOffice) and the 试卷分析."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import SOURCE
from paperkit.errors import ContentError, UsageError
from paperkit.exam.job import build_exam
from paperkit.exam.manifest import manifest_json, read_manifest
from paperkit.exam.options import ExamFlags, PartSpec, parse_exam_flags, parse_parts
from paperkit.exam.plan import ExamPlan, plan_exam, plan_from_manifest
from paperkit.marking.grading import counted_total, full_marks, score_cell, sitters
from paperkit.marking.jobs import build_analysis, build_scoresheet, open_exam
from paperkit.marking.scoresheet import headers
from pdftext import page_texts, squash
from test_marking import exam_manifest
from test_recalc import FIRST, recalculated, typed

PARTS = "choice:6x4,truefalse:4x4,fill:4x4,short:3x10,short:2x14:choose1,short:1x10:bonus"  # 满分 100, 附加 10


def _plan(out: Path, **flags: object) -> ExamPlan:
    values = {"modules": "2,3,8", "seed": "7", "parts": PARTS, **flags}
    return plan_exam(parse_exam_flags(ExamFlags(**values)), SOURCE, out)  # type: ignore[arg-type]


def test_roles_are_parsed_and_printed_after_the_counted_parts() -> None:
    parts = parse_parts("short:1x10:bonus,short:2x14:choose1,choice:6x4,short:3x10")
    assert [p.text for p in parts] == ["choice:6x4", "short:3x10", "short:2x14:choose1", "short:1x10:bonus"]
    assert [p.counted for p in parts] == [24, 30, 14, 0]
    options = parse_exam_flags(ExamFlags(modules="2", parts="choice:6x4,short:3x10:choose2"))
    assert options.total_points == 24 + 20 and options.count == 9


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            "short:2x10:choose2",
            "--parts short:2x10:choose2: 'short:2x10:choose2' lets a student answer 2 of 2 items; a 选做题 answers "
            "fewer than it offers, like short:2x10:choose1",
        ),
        (
            "short:1x10:bonus",
            "--parts short:1x10:bonus: every part is a 附加题 (bonus); a paper needs at least one counted part",
        ),
        (
            "short:2x10,short:3x10:bonus,short:1x5:bonus",
            "--parts short:2x10,short:3x10:bonus,short:1x5:bonus: short:bonus is listed twice; give it once",
        ),
        (
            "short:2x10,truefalse:2x2:choose1",
            "--parts short:2x10,truefalse:2x2:choose1: 'truefalse:2x2:choose1': a 选做题 is a kind marked by hand "
            "(short); choice, true/false and fill-in answers are scored from what is written, which cannot tell the "
            "item answered first",
        ),
        ("short:2x10:extra", None),
    ],
)
def test_bad_roles_are_one_line(parts: str, message: str | None) -> None:
    with pytest.raises(UsageError) as caught:
        parse_exam_flags(ExamFlags(modules="2", parts=parts))
    assert str(caught.value) == message if message else "is not kind:COUNTxPOINTS" in str(caught.value)


def test_a_blueprint_names_its_roles_and_its_mistakes_by_line(tmp_path: Path) -> None:
    good = tmp_path / "midterm.yaml"
    good.write_text(
        "parts:\n"
        "  - {kind: short, count: 1, points: 10, bonus: true}\n"
        "  - {kind: choice, count: 6, points: 4}\n"
        "  - {kind: short, count: 2, points: 14, choose: 1}\n",
        encoding="utf-8",
    )
    options = parse_exam_flags(ExamFlags(modules="2,3,8", blueprint=good))
    assert options.parts == (
        PartSpec("choice", 6, 4),
        PartSpec("short", 2, 14, "choose", 1),
        PartSpec("short", 1, 10, "bonus"),
    )
    assert options.total_points == 38
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "parts:\n"
        "  - {kind: choice, count: 6, points: 4}\n"
        "  - {kind: short, count: 2, points: 14, choose: 2}\n"
        "  - {kind: short, count: 1, points: 10, bonus: maybe}\n"
        "  - {kind: fill, count: 2, points: 2, bonus: yes, choose: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        parse_exam_flags(ExamFlags(modules="2,3,8", blueprint=bad))
    problems = [(p.line, p.field, p.message) for p in caught.value.problems]
    assert problems == [
        (3, "parts[1].choose", "expected a whole number from 1 to 1 (fewer than the part's count)"),
        (4, "parts[2].bonus", "expected true or false, got 'maybe'"),
        (5, "parts[3].choose", "a part is a 选做题 (choose) or a 附加题 (bonus), not both"),
    ]


def test_each_part_draws_its_own_items_and_the_manifest_records_the_roles(tmp_path: Path) -> None:
    plan = _plan(tmp_path, variants="2")
    for exam in plan.exams.values():
        ids = [q.question.id for q in exam.questions]
        assert len(ids) == len(set(ids)) == 20
        assert [part.role for part in exam.parts] == ["", "", "", "", "choose", "bonus"]
        assert [len(part.questions) for part in exam.parts] == [6, 4, 4, 3, 2, 1]
        assert all(q.question.kind == "short" for part in exam.parts[3:] for q in part.questions)
        assert exam.total_points == 100 and exam.bonus_points == 10
    record = json.loads(manifest_json(plan.manifest))
    assert record["total_points"] == 100
    assert record["parts"][4:] == [
        {"kind": "short", "count": 2, "points": 14, "role": "choose", "choose": 1},
        {"kind": "short", "count": 1, "points": 10, "role": "bonus"},
    ]
    assert "role" not in record["parts"][0]
    path = tmp_path / "manifest.json"
    path.write_text(manifest_json(plan.manifest), encoding="utf-8")
    assert read_manifest(path).options.parts == plan.options.parts
    again = plan_from_manifest(path, SOURCE, tmp_path / "again")
    assert [[q.question.id for q in e.questions] for e in again.exams.values()] == [
        [q.question.id for q in e.questions] for e in plan.exams.values()
    ]


def test_same_questions_keeps_each_item_in_its_own_part(tmp_path: Path) -> None:
    plan = _plan(tmp_path, variants="3", same_questions=True)
    parts = {v: [sorted(q.question.id for q in part.questions) for part in e.parts] for v, e in plan.exams.items()}
    assert parts["A"] == parts["B"] == parts["C"]


def test_a_manifest_whose_roles_do_not_add_up_is_refused(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    path = tmp_path / "manifest.json"
    for edit, message in (
        (lambda d: d.update(total_points=110), "parts: add up to a 满分 of 100, but total_points is 110"),
        (lambda d: d["parts"][5].pop("role"), "parts[5].kind: short is listed twice"),
        (lambda d: d["parts"][4].update(choose=2), "parts[4].choose: a 选做题 (role choose) answers from 1"),
    ):
        data = json.loads(manifest_json(plan.manifest))
        edit(data)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(UsageError, match=re.escape(message)):
            read_manifest(path)


def test_a_choice_counts_the_best_item_and_a_bonus_counts_apart(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path, 2, "choice:2x5,short:2x10:choose1,short:1x10:bonus")
    marked = open_exam(manifest, SOURCE)
    slots = sitters(marked.manifest, marked.questions)[0].slots
    assert [s.role for s in slots] == ["", "", "choose", "choose", "bonus"]
    assert full_marks(slots) == 20
    assert counted_total(slots, [5, 0, 4, 9, 10]) == 14  # the better 选做 (9), no 附加 (10)
    names = headers(marked.manifest, marked.questions)
    assert names[-7:] == [
        "一（10分）",
        "二（10分）",
        "三（附加 10分）",
        "客观（10分）",
        "主观（10分）",
        "总分（20分）",
        "名次",
    ]


def test_the_paper_says_how_each_part_counts(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    folder = build_exam(plan)[0].parent
    paper = squash("".join(page_texts(folder / "paper.pdf")))
    assert "本试卷共20小题，满分100分（另有附加题10分，不计入总分）" in paper
    assert "五、选做题：简答题（本大题共2小题，任选1小题作答，每小题14分，共14分）" in paper
    assert "请任选一题作答，并在题号前打√；如果多做，则按所做的第一题计分。" in paper
    assert "六、附加题：简答题（本大题共1小题，每小题10分，共10分，不计入总分）" in paper
    assert "一二三四五总分六（附加）" in paper  # the score table: the 附加题 after the 总分 it is not part of
    key = squash("".join(page_texts(folder / "key.pdf")))
    assert "五、选做题：简答题" in key and "六、附加题：简答题" in key


def test_the_engine_totals_the_best_choice_and_leaves_the_bonus_out(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path / "exam", 12, "choice:4x5,short:2x10:choose1,short:3x10,short:1x10:bonus")
    # In paper order: 一 choice 1–4, 二 short 5–7, 三 选做 8–9 (the better counts), 四 附加 10.
    marked = open_exam(manifest, SOURCE)
    rules = marked.manifest.options.rules
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(manifest, SOURCE, tmp_path)[0][0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    rng = random.Random(30)
    expected: dict[str, float] = {}
    bonus: dict[str, float] = {}
    for row, student in enumerate(students, start=FIRST):
        cells = [typed(slot, rng.random() < 0.6, rng, False) for slot in student.slots]
        if row % 3 == 0:  # a teacher who marked both 选做 items: the better one counts
            cells[7], cells[8] = 3, 8
        for offset, value in enumerate(cells):
            sheet.cell(row=row, column=5 + offset, value=value)
        points = [score_cell(v, s, rules).points for v, s in zip(cells, student.slots, strict=True)]
        expected[student.student_id] = counted_total(student.slots, points)
        bonus[student.student_id] = points[-1]
    book.save(xlsx)
    calc = recalculated(xlsx, tmp_path)["成绩"]
    header = [c.value for c in calc[2]]
    at = {name: header.index(name) + 1 for name in header if name}
    assert "总分（60分）" in at and "四（附加 10分）" in at

    def column(name: str) -> dict[str, float]:
        return {calc.cell(row=r, column=1).value: calc.cell(row=r, column=at[name]).value for r in range(FIRST, 15)}

    assert column("总分（60分）") == expected
    assert column("四（附加 10分）") == bonus
    written, _ = build_analysis(manifest, xlsx, SOURCE, tmp_path)
    analysis = json.loads(next(p for p in written if p.suffix == ".json").read_text(encoding="utf-8"))
    assert analysis["full_marks"] == 60
    assert {line["student_id"]: line["total"] for line in analysis["ranking"]} == expected


def test_an_item_a_student_was_free_to_leave_is_not_a_gap(tmp_path: Path) -> None:
    from paperkit.marking.grading import counted_slots

    manifest = exam_manifest(tmp_path, 2, "choice:2x5,short:2x10:choose1,short:1x10:bonus")
    slots = sitters(open_exam(manifest, SOURCE).manifest, open_exam(manifest, SOURCE).questions)[0].slots
    # The 选做 item answered (9 of 10) counts, the one left (0) does not; nor does the 附加题.
    assert counted_slots(slots, [5, 0, 0, 9, 0]) == [True, True, False, True, False]
    assert counted_slots(slots, [5, 0, 7, 7, 10]) == [True, True, True, False, False]  # a tie: the first
