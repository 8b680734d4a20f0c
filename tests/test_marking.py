"""After the exam (issue 15): the score sheet, scoring answers against each paper's key, and the 试卷分析."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.content.models import Exercise
from paperkit.errors import CellProblem, ScoreSheetError
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.marking.analysis import Thresholds, analyze
from paperkit.marking.grading import Slot, score_cell, sitters
from paperkit.marking.jobs import build_analysis, build_scoresheet, open_exam
from paperkit.marking.scoresheet import read_scores

runner = CliRunner()


def exam_manifest(
    folder: Path, students: int, parts: str, same: bool = False, seats: bool = False, modules: str = "2,3,8"
) -> Path:
    """Plan an exam for a roster of `students` (nothing rendered) and write its manifest.json into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = folder / "roster.csv"
    if seats:  # a roster with a column paperkit does not use: it is carried to the score sheet
        rows = ["座号,姓名,学号"] + [f"{n},学生{n:02d},2026{n:03d}" for n in range(1, students + 1)]
    else:
        rows = ["姓名,学号,班级"] + [f"学生{n:02d},2026{n:03d},{1 + n % 2}班" for n in range(1, students + 1)]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    flags = ExamFlags(modules=modules, seed="7", parts=parts, variants="2", roster=roster, same_questions=same or None)
    plan = plan_exam(parse_exam_flags(flags), SOURCE, folder)
    path = folder / "manifest.json"
    path.write_text(manifest_json(plan.manifest), encoding="utf-8")
    return path


def answer(slot: Slot, right: bool, in_csv: bool = False) -> object:
    """What a student wrote for a question: the key (or a wrong answer) for keyed kinds, points otherwise
    (a CSV cell has no type, so a fill-in item gets points there)."""
    if slot.kind in ("choice", "multi"):
        return slot.key if right else next(ch for ch in "ABCD" if ch not in slot.key)
    if slot.kind == "truefalse":
        return "√" if (slot.key == "true") == right else "×"
    if slot.kind == "fill" and slot.takes_letters and not in_csv:
        return slot.key if right else "不知道"
    return slot.points if right else 0


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8-sig")


# ---- one cell ------------------------------------------------------------------------------------------------


def _slot(number: int, kind: str, points: int, order: str = "", **fields: object) -> Slot:
    item = Exercise(id=f"x.{number}", kind=kind, q=str(fields.pop("q", "题干")), **fields)  # type: ignore[arg-type]
    return Slot(number, item.id, kind, points, 1, "1.1", "t", item, order)


OPTIONS = ("甲", "乙", "丙", "丁")


def test_a_cell_is_points_or_the_students_answer() -> None:
    choice = _slot(1, "choice", 2, "DCBA", options=OPTIONS, answer="C")  # printed B shows original C
    assert choice.key == "B"
    assert score_cell("b", choice).points == 2 and score_cell("b", choice).chosen == "C"
    assert score_cell("A", choice).points == 0 and score_cell("A", choice).chosen == "D"
    assert score_cell(1.5, choice).points == 1.5 and score_cell(1.5, choice).chosen is None
    assert score_cell("", choice) == score_cell(None, choice)
    assert not score_cell(None, choice).answered
    multi = _slot(2, "multi", 5, "ABCD", options=OPTIONS, answer="ACD")
    assert [score_cell(v, multi).points for v in ("DCA", "A,C", "AB", "B")] == [5, 2, 0, 0]  # half, rounded down
    tf = _slot(3, "truefalse", 2, answer="false")
    assert [score_cell(v, tf).points for v in ("×", "错", "F", "√", "T")] == [2, 2, 2, 0, 0]
    fill = _slot(4, "fill", 2, q="[[2/3|三分之二]]")
    assert [score_cell(v, fill).points for v in ("2 / 3", "三分之二", "1/2")] == [2, 2, 0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "'3' is not between 0 and the maximum 2"),
        (-1, "'-1' is not between 0 and the maximum 2"),
        (0.3, "'0.3': points are whole or half points"),
        ("E", "'E' is neither points nor option letters (A–D)"),
        ("AB", "'AB': a single-choice question takes one letter"),
    ],
)
def test_a_cell_that_cannot_be_scored_says_why(value: object, message: str) -> None:
    with pytest.raises(CellProblem) as problem:
        score_cell(value, _slot(1, "choice", 2, "ABCD", options=OPTIONS, answer="B"))
    assert str(problem.value) == message


# ---- the sheet -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def class45(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exam_manifest(
        tmp_path_factory.mktemp("class45"), 45, "choice:6x2,multi:2x4,truefalse:3x2,fill:3x2,short:2x10"
    )


def test_the_score_sheet_has_a_row_per_student_and_a_column_per_question(class45: Path) -> None:
    written = build_scoresheet(class45, SOURCE)
    assert [p.name for p in written] == ["scores.xlsx", "scores.csv"]
    book = load_workbook(written[0])
    assert book.sheetnames == ["成绩", "答案", "规范", "键", "得分", "paperkit"]
    assert [book[n].sheet_state for n in book.sheetnames] == ["visible", "visible", *["hidden"] * 4]
    assert book["答案"].protection.sheet  # a key is corrected on purpose, not by a stray keystroke
    sheet = book["成绩"]
    parts = [c.value for c in sheet[1] if c.value]
    assert parts[1:] == ["一、选择题", "二、多项选择题", "三、判断题", "四、填空题", "五、简答题", "小计"]
    assert {str(r) for r in sheet.merged_cells.ranges} >= {"E1:J1", "K1:L1", "M1:O1", "P1:R1", "S1:T1"}
    header = [c.value for c in sheet[2]]
    assert header[:5] == ["学号", "姓名", "班级", "卷型", "1（2分）"]
    assert header[4 + 16 :] == [
        *["一（12分）", "二（8分）", "三（6分）", "四（6分）", "五（20分）"],
        *["客观（26分）", "主观（26分）", "总分（52分）", "名次"],
    ]
    assert sheet.freeze_panes == "E3"
    assert sheet.max_row == 47
    assert [sheet.cell(row=3, column=c).value for c in range(1, 5)] == ["2026001", "学生01", "2班", "A"]
    assert sheet.cell(row=4, column=4).value == "B"
    ranges = {str(v.sqref): (v.type, v.formula2) for v in sheet.data_validations.dataValidation}
    assert ranges["E3:E47"][0] == "custom"  # a choice column takes letters too
    assert ranges["S3:S47"] == ("decimal", "10")  # a short answer takes 0…10 only
    # Printed as a teacher pins it up: landscape, one page wide, both header rows and the names on every page.
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$2" and sheet.print_title_cols == "$A:$B"
    csv_rows = list(csv.reader(io.StringIO(written[1].read_bytes().decode("utf-8-sig"))))
    assert csv_rows[0] == header[:20] and len(csv_rows) == 46


def test_the_rosters_other_columns_follow_the_total(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path, 3, "choice:2x2,short:1x6", seats=True)
    assert json.loads(manifest.read_text(encoding="utf-8"))["students"][1]["extra"] == {"座号": "2"}
    xlsx, csv_path = build_scoresheet(manifest, SOURCE)
    sheet = load_workbook(xlsx)["成绩"]
    after = ["二（6分）", "客观（4分）", "主观（6分）", "总分（10分）", "名次", "座号"]
    assert [c.value for c in sheet[2]][-6:] == after
    assert [sheet.cell(row=r, column=14).value for r in (3, 4, 5)] == ["1", "2", "3"]
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][-2:] == ["3（6分）", "座号"] and rows[3][-1] == "3"
    marked = open_exam(manifest, SOURCE)
    assert [r.marks for r in read_scores(xlsx, marked.manifest, marked.questions)] == [None, None, None]


def test_every_row_is_scored_against_its_papers_key_by_short_formulas(class45: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    book = load_workbook(build_scoresheet(class45, SOURCE)[0])
    keys = book["答案"]
    assert [c.value for c in keys[1]][:6] == ["查找", "卷型", "学号", "姓名", "1", "2"]
    for row, variant in ((3, "A"), (4, "B")):
        student = next(s for s in students if s.variant == variant)
        assert keys.cell(row=row, column=1).value == f"卷型{variant}"
        printed = [s.sheet_key or None for s in student.slots]
        assert [keys.cell(row=row, column=5 + i).value for i in range(16)] == printed
    # Each row looks its key up (by 学号, else 卷型); the score of a cell reads the normalised answer and that key.
    assert "MATCH" in book["键"]["B3"].value and "INDEX(答案!E$1:E$4,$B3)" in book["键"]["E3"].value
    assert book["得分"]["E3"].value.startswith('=IF(ISNUMBER(成绩!E3),成绩!E3,IF(规范!E3="",0,')
    assert book["得分"]["S3"].value == "=N(成绩!S3)"  # the short answers are points
    assert book["成绩"]["AB3"].value == '=IF(COUNTA($E3:$T3)=0,"",SUM(得分!E3:T3))'


def test_a_sixty_item_sheet_keeps_every_formula_short(tmp_path: Path) -> None:
    parts = "choice:25x1,multi:10x2,truefalse:10x1,fill:10x1,short:5x3"
    manifest = exam_manifest(tmp_path, 4, parts, modules=",".join(str(n) for n in range(14)))
    book = load_workbook(build_scoresheet(manifest, SOURCE)[0])
    longest = max(
        len(cell.value)
        for name in ("成绩", "规范", "键", "得分")
        for row in book[name].iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    )
    assert longest < 1000  # Excel's limit is 8,192; the old per-row total was 9,421 characters for 45 items


def test_the_sheet_is_the_same_bytes_every_time(class45: Path, tmp_path: Path) -> None:
    first = [p.read_bytes() for p in build_scoresheet(class45, SOURCE, tmp_path / "one")]
    again = [p.read_bytes() for p in build_scoresheet(class45, SOURCE, tmp_path / "two")]
    assert first == again


# ---- analysis ------------------------------------------------------------------------------------------------


def test_a_small_class_by_hand(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path, 5, "choice:2x2,short:1x6", same=True)
    marked = open_exam(manifest, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    choice_ids = sorted(s.item_id for s in students[0].slots if s.kind == "choice")
    # Per student, by item id: right/wrong for the two choice items, and the short answer's points.
    plan = [
        ({choice_ids[0]: True, choice_ids[1]: True}, 6),  # 10
        ({choice_ids[0]: True, choice_ids[1]: True}, 3),  # 7
        ({choice_ids[0]: False, choice_ids[1]: True}, 4),  # 6
        ({choice_ids[0]: False, choice_ids[1]: False}, 2),  # 2
        ({choice_ids[0]: None, choice_ids[1]: True}, 0),  # 2 (left the first blank)
    ]
    rows = []
    for student, (choices, short) in zip(students, plan, strict=True):
        cells = []
        for slot in student.slots:
            if slot.kind == "short":
                cells.append(short)
            else:
                right = choices[slot.item_id]
                cells.append("" if right is None else answer(slot, right))
        rows.append([student.student_id, student.name, student.class_name, student.variant, *cells])
    sheet = tmp_path / "scores.csv"
    write_csv(sheet, ["学号", "姓名", "班级", "卷型", "1（2分）", "2（2分）", "3（6分）"], rows)
    result = analyze(read_scores(sheet, marked.manifest, marked.questions), "x", "t", Thresholds(0.6, 0.85))
    assert [t[3] for t in result.totals] == [10, 7, 6, 2, 2]
    assert (result.mean, result.median, result.highest, result.lowest) == (5.4, 6, 10, 2)
    assert (result.pass_rate, result.excellent_rate) == (0.6, 0.2)  # ≥ 6 and ≥ 8.5 of 10
    short = next(i for i in result.items if i.kind == "short")
    assert short.p == pytest.approx(15 / 30)
    assert short.d == pytest.approx((6 - 0) / 6)  # upper 27 % of 5 is one student (10 points), lower one (2)
    first = next(i for i in result.items if i.item_id == choice_ids[0])
    assert first.p == pytest.approx(2 / 5)
    assert first.options[first.key] == pytest.approx(2 / 5) and first.options[""] == pytest.approx(1 / 5)
    # Both variants printed the same items (shuffled): each item is counted once, from both papers' positions,
    # and a choice answered right on either paper counts for the same original option.
    assert len(result.items) == 3 and all(len(i.positions) == 2 for i in result.items)
    keys = {(s.variant, slot.item_id): slot.key for s in students[:2] for slot in s.slots if slot.kind == "choice"}
    assert any(keys[("A", item)] != keys[("B", item)] for item in choice_ids)  # the papers' keys differ
    second = next(i for i in result.items if i.item_id == choice_ids[1])
    assert second.options[second.key] == pytest.approx(0.8) and second.p == pytest.approx(0.8)  # 4 of 5


def test_a_class_of_45_from_sheet_to_report(class45: Path, tmp_path: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(class45, SOURCE, tmp_path)[0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    rng = random.Random(45)  # fake scores, the same every run
    expected: dict[str, float] = {}
    for row, student in enumerate(students, start=3):
        if student.student_id == "2026045":
            continue  # absent: the row stays blank
        ability = rng.random()
        total = 0.0
        for offset, slot in enumerate(student.slots):
            right = rng.random() < 0.25 + 0.7 * ability
            sheet.cell(row=row, column=5 + offset, value=answer(slot, right))
            total += slot.points if right else 0
        expected[student.student_id] = total
    book.save(xlsx)
    result = runner.invoke(app, ["analyze", str(class45), str(xlsx), "--source", str(SOURCE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "analysis.json").read_text(encoding="utf-8"))
    assert data["students"] == 44 and data["absent"] == ["2026045 学生45"]
    assert {sid: total for sid, _, _, total in data["totals"]} == expected
    assert data["mean"] == round(sum(expected.values()) / 44, 4)
    assert data["pass_rate"] == round(sum(1 for v in expected.values() if v >= 0.6 * 52) / 44, 4)
    assert sum(count for _, count in data["bins"]) == 44
    assert {i["item_id"] for i in data["items"]} == {
        q for p in marked.manifest.papers.values() for q in p["questions"]
    }  # every item by its canonical id, whichever variant printed it
    reader = PdfReader(tmp_path / "analysis.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    for words in ("试卷分析", "平均分", "及格率", "区分度", "成绩分布", "知识点掌握情况", "2026001"):
        assert words in text
    # The histogram is a vector drawing: no page holds an image.
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        assert all(xobjects[name].get_object().get("/Subtype") != "/Image" for name in xobjects)


def test_problems_are_listed_with_row_and_column_and_nothing_is_written(class45: Path, tmp_path: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    header = ["学号", "姓名", "班级", "卷型", *[f"{n}（{s.points}分）" for n, s in enumerate(students[0].slots, 1)]]
    good = [answer(s, True, in_csv=True) for s in students[0].slots]
    rows = [
        [students[0].student_id, "学生01", "2班", "A", *good],
        ["2029999", "谁", "", "A", *good],
        [students[1].student_id, "学生02", "1班", "A", *good],  # sat paper B
        [students[2].student_id, "学生03", "2班", "A", 9, *good[1:]],
        [students[4].student_id, "学生05", "2班", "A", "E", *good[1:]],
        [students[0].student_id, "学生01", "2班", "A", *good],
    ]
    sheet = tmp_path / "scores.csv"
    write_csv(sheet, header, rows)
    with pytest.raises(ScoreSheetError) as error:
        build_analysis(class45, sheet, SOURCE, tmp_path)
    assert error.value.problems == [
        f"{sheet}:3: column A: 学号 2029999 is not a student of this exam",
        f"{sheet}:4: column D: 卷型 A, but 学生02 sat paper B",
        f"{sheet}:5: column E (1（2分）): '9' is not between 0 and the maximum 2",
        f"{sheet}:6: column E (1（2分）): 'E' is neither points nor option letters (A–D)",
        f"{sheet}:7: column A: 学号 2026001 is also on row 2",
    ]
    assert not (tmp_path / "analysis.pdf").exists() and not (tmp_path / "analysis.json").exists()
    write_csv(sheet, ["学号", "姓名", "卷型", *header[3:]], rows[:1])
    with pytest.raises(ScoreSheetError) as error:
        build_analysis(class45, sheet, SOURCE, tmp_path)
    assert error.value.problems[0] == f"{sheet}:1: column C: expected the header 班级, found 卷型"
    sheet.write_bytes(b"PK\x03\x04 not a spreadsheet")
    result = runner.invoke(app, ["analyze", str(class45), str(sheet.with_suffix(".xlsx")), "--source", str(SOURCE)])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_a_sheet_from_another_exam_is_refused(class45: Path, tmp_path: Path) -> None:
    other = exam_manifest(tmp_path / "other", 3, "choice:2x2,short:1x6")
    xlsx = build_scoresheet(other, SOURCE, tmp_path)[0]
    with pytest.raises(ScoreSheetError) as error:
        build_analysis(class45, xlsx, SOURCE, tmp_path)
    ours, theirs = open_exam(class45, SOURCE).manifest.exam_id, open_exam(other, SOURCE).manifest.exam_id
    assert error.value.problems == [f"{xlsx}: this sheet is for exam {theirs}, not {ours}"]
