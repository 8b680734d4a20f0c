"""After the exam (issue 15): the score sheet, scoring answers against each paper's key, and the 试卷分析."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import statistics
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.content.models import Exercise
from paperkit.errors import CellProblem, ScoreSheetError
from paperkit.exam.job import source_from
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.marking.analysis import Thresholds, _flag, analyze, bands, ranks
from paperkit.marking.grading import Slot, score_cell, sitters
from paperkit.marking.jobs import build_analysis, build_scoresheet, open_exam
from paperkit.marking.scoresheet import check_header, read_scores

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
    path.write_text(manifest_json(plan.manifest, source_from(folder, SOURCE)), encoding="utf-8")
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
    written, _ = build_scoresheet(class45, SOURCE)
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
    assert csv_rows[0][:-1] == header[:20] and len(csv_rows) == 46
    assert csv_rows[0][-1] == check_header(
        open_exam(class45, SOURCE).manifest
    )  # the exam and its roster, to refuse another's sheet


def test_the_rosters_other_columns_follow_the_total(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path, 3, "choice:2x2,short:1x6", seats=True)
    assert json.loads(manifest.read_text(encoding="utf-8"))["students"][1]["extra"] == {"座号": "2"}
    (xlsx, csv_path), _ = build_scoresheet(manifest, SOURCE)
    sheet = load_workbook(xlsx)["成绩"]
    after = ["二（6分）", "客观（4分）", "主观（6分）", "总分（10分）", "名次", "座号"]
    assert [c.value for c in sheet[2]][-6:] == after
    assert [sheet.cell(row=r, column=14).value for r in (3, 4, 5)] == ["1", "2", "3"]
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][-3:-1] == ["3（6分）", "座号"] and rows[3][-1] == "3"
    marked = open_exam(manifest, SOURCE)
    assert [r.marks for r in read_scores(xlsx, marked.manifest, marked.questions)] == [None, None, None]


def test_every_row_is_scored_against_its_papers_key_by_short_formulas(class45: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    book = load_workbook(build_scoresheet(class45, SOURCE)[0][0])
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
    book = load_workbook(build_scoresheet(manifest, SOURCE)[0][0])
    longest = max(
        len(cell.value)
        for name in ("成绩", "规范", "键", "得分")
        for row in book[name].iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    )
    assert longest < 1000  # Excel's limit is 8,192; the old per-row total was 9,421 characters for 45 items


def test_the_sheet_is_the_same_bytes_every_time(class45: Path, tmp_path: Path) -> None:
    first = [p.read_bytes() for p in build_scoresheet(class45, SOURCE, tmp_path / "one")[0]]
    again = [p.read_bytes() for p in build_scoresheet(class45, SOURCE, tmp_path / "two")[0]]
    assert first == again


# ---- analysis ------------------------------------------------------------------------------------------------


def test_a_small_class_by_hand(tmp_path: Path) -> None:
    """Five students, every figure of the 试卷分析 worked out by hand (see the comments)."""
    manifest = exam_manifest(tmp_path, 5, "choice:2x2,truefalse:1x2,short:1x6", same=True)
    marked = open_exam(manifest, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    assert [s.variant for s in students] == ["A", "B", "A", "B", "A"]
    assert [s.class_name for s in students] == ["2班", "1班", "2班", "1班", "2班"]
    choice_ids = sorted(s.item_id for s in students[0].slots if s.kind == "choice")
    # Per student: right (True), wrong (False) or blank (None) for the two choice items (by id) and the 判断,
    # and the short answer's points. Full marks 2 + 2 + 2 + 6 = 12.
    plan = [
        ((True, True), True, 6),  # S1: 12
        ((True, True), True, 3),  # S2: 9
        ((False, True), False, 4),  # S3: 6
        ((False, False), False, 2),  # S4: 2
        ((None, True), True, 2),  # S5: 6 (left the first choice blank)
    ]
    rows, position_scores = [], []
    for student, (choices, judged, short) in zip(students, plan, strict=True):
        cells, scores = [], []
        for slot in student.slots:
            right = {choice_ids[0]: choices[0], choice_ids[1]: choices[1]}.get(slot.item_id, judged)
            if slot.kind == "short":
                cells.append(short)
                scores.append(short)
            else:
                cells.append("" if right is None else answer(slot, right))
                scores.append(slot.points if right else 0)
        rows.append([student.student_id, student.name, student.class_name, student.variant, *cells])
        position_scores.append(scores)
    sheet = tmp_path / "scores.csv"
    write_csv(sheet, ["学号", "姓名", "班级", "卷型", "1（2分）", "2（2分）", "3（2分）", "4（6分）"], rows)
    result = analyze(read_scores(sheet, marked.manifest, marked.questions), "x", "t", Thresholds(0.6, 0.85, 0.4))

    # 总体: totals 12, 9, 6, 2, 6.
    o = result.overall
    assert (result.expected, o.sat, o.mean, o.median, o.highest, o.lowest) == (5, 5, 7.0, 6, 12, 2)
    assert o.stdev == pytest.approx(math.sqrt((25 + 4 + 1 + 25 + 1) / 5))
    assert (o.pass_rate, o.excellent_rate, o.low_rate) == (0.4, 0.2, 0.2)  # ≥ 7.2, ≥ 10.2, < 4.8
    assert o.difficulty == pytest.approx(7 / 12)
    assert result.discrimination == pytest.approx((12 - 2) / 12)  # 27 % of 5 is one student each way
    # α over the four items (every student sat the same items, shuffled): Σ item variances over the total's.
    by_item = [[0.0] * 4 for _ in students]
    ids = sorted(s.item_id for s in students[0].slots)
    for student, scores, row in zip(students, position_scores, by_item, strict=True):
        for slot, points in zip(student.slots, scores, strict=True):
            row[ids.index(slot.item_id)] = points
    variances = sum(statistics.pvariance([row[i] for row in by_item]) for i in range(4))
    assert result.reliability == pytest.approx(4 / 3 * (1 - variances / 11.2))
    # 名次: the two students on 6 share 3rd, the next is 5th.
    assert [(r.rank, r.name, r.total) for r in result.ranking] == [
        (1, "学生01", 12),
        (2, "学生02", 9),
        (3, "学生03", 6),
        (3, "学生05", 6),
        (5, "学生04", 2),
    ]
    # 大题: 选择 4, 4, 2, 0, 2; 判断 2, 2, 0, 0, 2; 简答 6, 3, 4, 2, 2 (upper group S1, lower group S4).
    parts = [(p.title, p.numbers, p.points, p.mean, p.rate, p.d) for p in result.parts]
    assert parts == [
        ("一、选择题", "1–2", 4, 2.4, pytest.approx(0.6), 1.0),
        ("二、判断题", "3", 2, 1.2, pytest.approx(0.6), 1.0),
        ("三、简答题", "4", 6, pytest.approx(3.4), pytest.approx(3.4 / 6), pytest.approx(4 / 6)),
    ]
    assert [r.parts for r in result.ranking][:2] == [(4, 2, 6), (4, 2, 3)]
    # 卷型: A = S1, S3, S5 (12, 6, 6); B = S2, S4 (9, 2). 班级: 2班 is paper A's students, 1班 paper B's.
    assert {v: (s.sat, s.mean) for v, s in result.variants.items()} == {"A": (3, 8), "B": (2, 5.5)}
    assert [(c.name, c.stats.sat, c.stats.mean) for c in result.classes] == [("1班", 2, 5.5), ("2班", 3, 8)]
    assert result.classes[1].parts == pytest.approx((8 / 12, 4 / 6, 12 / 18))
    # 分数段 of a 12-point paper: one band (a last band under 5 points joins the one before).
    assert [(b.label, b.count, b.cumulative) for b in result.bands] == [("0–12", 5, 5)]
    # Each printed question of paper A (S1, S3, S5): the first choice item, printed letters, key as printed.
    first = next(i for i in result.items if i.variant == "A" and i.item_id == choice_ids[0])
    slot = next(s for s in students[0].slots if s.item_id == choice_ids[0])
    wrong = answer(slot, False)
    assert (first.sat, first.mean, first.p, first.d, first.key) == (
        3,
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
        None,
        slot.key,
    )
    assert first.options[slot.key] == pytest.approx(1 / 3) and first.options[""] == pytest.approx(1 / 3)
    assert first.options[str(wrong)] == pytest.approx(1 / 3) and first.typical == ((wrong, 1),)
    second = next(i for i in result.items if i.variant == "A" and i.item_id == choice_ids[1])
    assert (second.p, second.flag) == (1.0, "easy")  # everyone on paper A got it: 过易, not 区分度低
    assert [i.number for i in result.items] == [1, 2, 3, 4, 1, 2, 3, 4]  # paper A, then paper B, as printed


def test_the_review_flags_keep_too_easy_apart_from_low_discrimination() -> None:
    assert [_flag(p, d) for p, d in ((1.0, 0.0), (0.95, None), (0.2, 0.5), (0.5, 0.1), (0.5, 0.3))] == [
        "easy",
        "easy",
        "hard",
        "low_d",
        "",
    ]


def test_score_bands_are_in_points_with_cumulative_counts() -> None:
    found = bands([95, 91, 88, 60, 59.5, 12], 96)
    assert [(b.label, b.count, b.cumulative) for b in found] == [
        ("90–96", 2, 2),
        ("80–89", 1, 3),
        ("70–79", 0, 3),
        ("60–69", 1, 4),
        ("50–59", 1, 5),
        ("40–49", 0, 5),
        ("30–39", 0, 5),
        ("20–29", 0, 5),
        ("10–19", 1, 6),
        ("0–9", 0, 6),
    ]
    assert bands([100, 45], 100)[0].label == "90–100"  # no 100–100 band
    assert ranks([88, 92, 88, 70]) == [2, 1, 2, 4]


def test_a_class_of_45_from_sheet_to_report(class45: Path, tmp_path: Path) -> None:
    marked = open_exam(class45, SOURCE)
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(class45, SOURCE, tmp_path)[0][0]
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
    command = ["analyze", str(class45), str(xlsx), "--out", str(tmp_path), "--students"]
    result = runner.invoke(app, command)  # no --source: the manifest knows where its handbook is
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "analysis.json").read_text(encoding="utf-8"))
    assert data["expected"] == 45 and data["overall"]["sat"] == 44 and data["absent"] == ["2026045 学生45"]
    assert {line["student_id"]: line["total"] for line in data["ranking"]} == expected
    assert data["overall"]["mean"] == round(sum(expected.values()) / 44, 4)
    assert data["overall"]["pass_rate"] == round(sum(1 for v in expected.values() if v >= 0.6 * 52) / 44, 4)
    assert sum(band["count"] for band in data["bands"]) == 44
    # Each paper's questions in printed order, 16 each.
    assert [(i["variant"], i["number"]) for i in data["items"]] == [(v, n) for v in "AB" for n in range(1, 17)]
    reader = PdfReader(tmp_path / "analysis.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    sections = ["总体情况", "分数段", "各大题得分情况", "卷型对比", "班级对比", "逐题分析", "A 卷", "B 卷"]
    sections += ["需复查的题目", "知识点掌握情况", "成绩表", "试题评价", "改进措施", "信度 α", "低分率"]
    for words in (*sections, "2026001"):
        assert words in text, words
    # The histogram is a vector drawing: no page holds an image.
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        assert all(xobjects[name].get_object().get("/Subtype") != "/Image" for name in xobjects)
    book = load_workbook(tmp_path / "analysis.xlsx")
    assert book.sheetnames == ["总体", "分数段", "大题", "卷型", "班级", "逐题", "知识点", "成绩"]
    ranking = list(book["成绩"].iter_rows(min_row=2, values_only=True))
    assert len(ranking) == 44 and {row[1]: row[-1] for row in ranking} == expected
    # 个人成绩报告: a page per student who sat, with their total and 名次.
    reports = PdfReader(tmp_path / "students.pdf")
    assert len(reports.pages) == 44
    first = reports.pages[0].extract_text()
    line = data["ranking"][[r["student_id"] for r in data["ranking"]].index("2026001")]
    assert "个人成绩报告" in first and "学生01" in first and f"{line['rank']} / 44" in first


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
    xlsx = build_scoresheet(other, SOURCE, tmp_path)[0][0]
    with pytest.raises(ScoreSheetError) as error:
        build_analysis(class45, xlsx, SOURCE, tmp_path)
    ours, theirs = open_exam(class45, SOURCE).manifest.exam_id, open_exam(other, SOURCE).manifest.exam_id
    assert error.value.problems == [f"{xlsx}: this sheet is for exam {theirs}, not {ours}"]
