"""The score sheet recalculated by a real spreadsheet engine (issue 28): LibreOffice, headless, opens the
workbook paperkit wrote and a teacher filled, computes every formula, and its totals must be paperkit's own,
for answers typed half-width, full-width (a Chinese IME), with spaces and separators, √/对/T alike."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from conftest import SOURCE
from paperkit.errors import ScoreSheetError
from paperkit.marking.grading import Slot, score_cell, sitters
from paperkit.marking.jobs import build_analysis, build_scoresheet, open_exam
from paperkit.marking.scoresheet import read_sheet
from test_marking import exam_manifest

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(ord("A"), ord("Z") + 1)}
FIRST = 3  # the first student row, under the 大题 and question headers


def recalculated(xlsx: Path, folder: Path) -> Any:
    """The workbook as LibreOffice computes it (values, not formulas), with a profile of the test's own."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice Calc is missing: `make test` installs it (scripts/setup-test-tools.sh)"
    out = folder / "recalculated"
    command = [
        soffice,
        f"-env:UserInstallation=file://{folder / 'lo-profile'}",
        "--headless",
        "--calc",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(xlsx),
    ]
    # paperkit points fontconfig at its own fonts for WeasyPrint; LibreOffice needs the system's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0 and (out / xlsx.name).is_file(), done.stdout + done.stderr
    return load_workbook(out / xlsx.name, data_only=True)


def typed(slot: Slot, right: bool, rng: random.Random, full: bool) -> object:
    """What a teacher types for a question: letters (sometimes a partial 多选, with separators), √/×/对/错/T/F,
    a fill-in word, or points."""
    value: object
    if slot.kind in ("choice", "multi"):
        wrong = [ch for ch in "ABCD" if ch not in slot.key]
        value = slot.key if right else rng.choice(wrong)
        if slot.kind == "multi" and right and rng.random() < 0.3:
            value = slot.key[:1]  # some of the right options: partial marks
        elif slot.kind == "multi" and rng.random() < 0.3:
            value = "、".join(str(value)).lower() if full else " ".join(str(value))
    elif slot.kind == "truefalse":
        marks = ("√", "对", "T", "true") if (slot.key == "true") == right else ("×", "错", "F", "x")
        value = rng.choice(marks)
    elif slot.kind == "fill" and slot.takes_letters:
        value = slot.key if right else "不知道"
    else:
        return slot.points if right else rng.randint(0, slot.points // 2)
    text = str(value)
    return "".join(FULL_WIDTH.get(ch.upper(), ch) for ch in text) if full and text.isascii() else text


@pytest.fixture(scope="module")
def class45(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exam_manifest(
        tmp_path_factory.mktemp("recalc"), 45, "choice:6x2,multi:2x4,truefalse:3x2,fill:3x2,short:2x10"
    )


@pytest.mark.parametrize("full", [False, True], ids=["half-width", "full-width"])
def test_the_engines_totals_are_paperkits(class45: Path, tmp_path: Path, full: bool) -> None:
    marked = open_exam(class45, SOURCE)
    rules = marked.manifest.options.rules
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(class45, SOURCE, tmp_path)[0][0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    rng = random.Random(28)
    expected: dict[str, float] = {}
    for row, student in enumerate(students, start=FIRST):
        ability = rng.random()
        total = 0.0
        for offset, slot in enumerate(student.slots):
            value = typed(slot, rng.random() < 0.25 + 0.7 * ability, rng, full)
            sheet.cell(row=row, column=5 + offset, value=value)
            total += score_cell(value, slot, rules).points
        expected[student.student_id] = total
    book.save(xlsx)
    assert len(set(expected.values())) < len(expected)  # ties, for the 名次 below

    calc = recalculated(xlsx, tmp_path)["成绩"]
    header = [c.value for c in calc[2]]
    at = {name: header.index(name) + 1 for name in header if name}
    engine = {
        calc.cell(row=r, column=1).value: calc.cell(row=r, column=at["总分（52分）"]).value
        for r in range(FIRST, FIRST + 45)
    }
    assert engine == expected
    written, _ = build_analysis(class45, xlsx, SOURCE, tmp_path)
    analysis = json.loads(next(p for p in written if p.suffix == ".json").read_text(encoding="utf-8"))
    assert {line["student_id"]: line["total"] for line in analysis["ranking"]} == expected
    for r in range(FIRST, FIRST + 45):
        value = {name: calc.cell(row=r, column=column).value for name, column in at.items()}
        total = value["总分（52分）"]
        assert value["客观（26分）"] + value["主观（26分）"] == total
        parts = ("一（12分）", "二（8分）", "三（6分）", "四（6分）", "五（20分）")
        assert sum(value[p] for p in parts) == total
        assert value["名次"] == 1 + sum(1 for t in expected.values() if t > total)  # ties share a rank


def test_a_key_corrected_on_the_sheet_rescores_every_row_there_and_in_paperkit(class45: Path, tmp_path: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(class45, SOURCE, tmp_path)[0][0]
    book = load_workbook(xlsx)
    sheet, keys = book["成绩"], book["答案"]
    printed = keys["E3"].value  # paper A, question 1 (a choice item)
    other = next(ch for ch in "ABCD" if ch != printed)
    for row in range(FIRST, FIRST + len(students)):
        sheet.cell(row=row, column=5, value=other.lower() if row % 2 else other)  # everyone chose `other`
    keys["E3"] = other  # the key was wrong: the teacher corrects paper A's
    book.save(xlsx)
    scores = read_sheet(xlsx, marked.manifest, marked.questions)
    assert scores.corrections == (
        f"{xlsx}: sheet 答案, row 3, column E: question 1's key corrected from {printed} to {other}",
    )
    ours = {r.sitter.student_id: sum(m.points for m in r.marks or ()) for r in scores.rows}
    right = {s.student_id for s in students if s.variant == "A" or s.slots[0].key == other}  # B's own key stands
    assert {sid for sid, total in ours.items() if total} == right
    calc = recalculated(xlsx, tmp_path)["成绩"]
    engine = {calc.cell(row=r, column=1).value: calc.cell(row=r, column=28).value for r in range(FIRST, FIRST + 45)}
    assert engine == ours


def test_a_60_item_paper_opens_and_totals_in_the_engine(tmp_path: Path) -> None:
    parts = "choice:30x1,multi:5x2,truefalse:15x1,fill:6x1,short:4x5"
    manifest = exam_manifest(tmp_path / "exam", 6, parts, modules="1,2,3,4,5,6,7,8,9,10")
    marked = open_exam(manifest, SOURCE)
    rules = marked.manifest.options.rules
    students = sitters(marked.manifest, marked.questions)
    assert all(len(s.slots) == 60 for s in students)
    xlsx = build_scoresheet(manifest, SOURCE, tmp_path)[0][0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    longest = max(
        len(str(c.value)) for ws in book for row in ws.iter_rows() for c in row if str(c.value).startswith("=")
    )
    assert longest < 1000  # far from Excel's 8,192-character limit, which makes Excel repair the file
    rng = random.Random(60)
    expected = {}
    for row, student in enumerate(students, start=FIRST):
        cells = [typed(slot, rng.random() < 0.6, rng, row % 2 == 0) for slot in student.slots]
        for offset, value in enumerate(cells):
            sheet.cell(row=row, column=5 + offset, value=value)
        expected[student.student_id] = sum(
            score_cell(v, s, rules).points for v, s in zip(cells, student.slots, strict=True)
        )
    # A 多选 answer with a letter that is no option: paperkit refuses the cell, the sheet gives it nothing (it
    # used to give half marks for its length).
    multi = next(offset for offset, slot in enumerate(students[0].slots) if slot.kind == "multi")
    before = score_cell(sheet.cell(row=FIRST, column=5 + multi).value, students[0].slots[multi], rules).points
    sheet.cell(row=FIRST, column=5 + multi, value="Z")
    expected[students[0].student_id] -= before
    book.save(xlsx)
    with pytest.raises(ScoreSheetError) as refused:
        read_sheet(xlsx, marked.manifest, marked.questions)
    assert "'Z' is neither points nor option letters" in " ".join(refused.value.problems)
    calc = recalculated(xlsx, tmp_path)["成绩"]
    header = [c.value for c in calc[2]]
    column = 1 + next(i for i, name in enumerate(header) if str(name).startswith("总分"))
    engine = {calc.cell(row=r, column=1).value: calc.cell(row=r, column=column).value for r in range(FIRST, FIRST + 6)}
    assert engine == expected


NUMERIC = r"""
id: 1
title: 运动
objective: 会算。
sections:
- id: '1.1'
  title: 匀变速直线运动
  overview: 速度公式 $v = v_0 + at$。
  must_know:
  - 速度公式。
  exercises:
  - id: 1.1.f1
    kind: fill
    q: 3 s 末的速度为 [[6±0.1 m/s]]。
  - id: 1.1.f2
    kind: fill
    q: 物体所受重力为 [[19.6 sf]] N。
  - id: 1.1.f3
    kind: fill
    q: 电子在基态的能量为 [[-13.6 sf]] eV。
  - id: 1.1.f4
    kind: fill
    q: 摆长约为 [[1.00 sf]] m。
  - id: 1.1.f5
    kind: fill
    q: 读数为 [[15.7±1% N]]。
"""
# What a teacher may type for a blank compared by value: right, on either edge, off, with and without the
# unit, full-width, in E notation, and what is no number at all.
TYPED = (
    "6",
    "6.1",
    "5.9",
    "6.11",
    "6 m/s",
    "６ｍ／ｓ",
    "6m/s6",
    "19.6",
    "19.55",
    "19.65",
    "19.60",
    "1.96e1",
    "1.96E+1",
    "20",
    "-13.6",
    "-13.55",
    "-13.65",
    "−13.6eV",
    "1.00",
    "0.995",
    "1.005",
    "0.9951",
    "15.543",
    "15.857",
    "15.9N",
    "1-2",
    "1/2",
    "1.2.3",
    "E5",
    "5E",
    "+5",
    "-.5",
    ".",
    "abc",
    "1e",
    "0.995 m",
    "1e0",
)


def test_a_blank_compared_by_value_scores_the_same_in_the_engine_and_in_paperkit(tmp_path: Path) -> None:
    """#29 point 4: the score sheet scores a typed numeric answer by the rule paperkit scores it by (a tolerance,
    significant figures, a unit); a LibreOffice recalculation of every typed form gives paperkit's points."""
    from conftest import write_handbook
    from paperkit.exam.job import source_from
    from paperkit.exam.manifest import manifest_json
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam
    from paperkit.questions.fill import matches

    source = write_handbook(tmp_path, {"01-motion.yaml": NUMERIC})
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,学号\n" + "".join(f"学生{n},2026{n:03d}\n" for n in range(1, len(TYPED) + 1)), "utf-8")
    flags = ExamFlags(modules="1", parts="fill:5x2", pool="all", roster=roster, same_questions=True)
    folder = tmp_path / "exam"
    plan = plan_exam(parse_exam_flags(flags), source, folder)
    folder.mkdir()
    (folder / "manifest.json").write_text(manifest_json(plan.manifest, source_from(folder, source)), "utf-8")
    marked = open_exam(folder / "manifest.json", source)
    students = sitters(marked.manifest, marked.questions)
    assert all(slot.takes_letters and slot.sheet_key.startswith("#=") for slot in students[0].slots)
    xlsx = build_scoresheet(folder / "manifest.json", source, tmp_path)[0][0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    expected: dict[tuple[str, int], float] = {}
    for row, (student, said) in enumerate(zip(students, TYPED, strict=True), start=FIRST):
        for offset, slot in enumerate(student.slots):
            sheet.cell(row=row, column=5 + offset, value=said)
            points = score_cell(said, slot, marked.manifest.options.rules).points
            blank = slot.item.q.split("[[", 1)[1].split("]]", 1)[0]
            assert (points == slot.points) == matches(said, (blank,)), (said, blank)  # one rule, both paths
            expected[(student.student_id, offset)] = points
    book.save(xlsx)
    right = sum(1 for points in expected.values() if points)
    assert 15 < right < len(expected) - 15  # both right and wrong answers of each kind are in the grid
    calc = recalculated(xlsx, tmp_path)["得分"]
    engine = {
        (student.student_id, offset): calc.cell(row=row, column=5 + offset).value
        for row, student in enumerate(students, start=FIRST)
        for offset in range(len(student.slots))
    }
    assert engine == expected
    # A key the teacher corrects into nonsense scores 0 there and in paperkit, and the totals stay numbers.
    book = load_workbook(xlsx)
    book["答案"]["E3"] = "#=11abc"
    book.save(xlsx)
    scores = read_sheet(xlsx, marked.manifest, marked.questions)
    assert {r.marks[0].points for r in scores.rows if r.marks} == {0.0}
    calc = recalculated(xlsx, tmp_path / "again")["得分"]
    assert {calc.cell(row=row, column=5).value for row in range(FIRST, FIRST + len(students))} == {0}
    totals = recalculated(xlsx, tmp_path / "totals")["成绩"]
    header = [c.value for c in totals[2]]
    column = next(n for n, name in enumerate(header, start=1) if str(name).startswith("总分"))
    ours = {r.sitter.student_id: sum(m.points for m in r.marks or ()) for r in scores.rows}
    assert {
        totals.cell(row=r, column=1).value: totals.cell(row=r, column=column).value
        for r in range(FIRST, FIRST + len(students))
    } == ours
