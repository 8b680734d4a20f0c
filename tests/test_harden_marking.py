"""Hardening (issue 31) after the exam: a teacher's filled sheet and edited analysis are never replaced behind
their back, roster values never become formulas, and a sheet must belong to the exam and the class it is read for.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.errors import ScoreSheetError
from paperkit.exam.job import source_from
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.marking.jobs import build_scoresheet, open_exam
from paperkit.marking.scoresheet import read_sheet
from test_marking import exam_manifest

runner = CliRunner()
PARTS = "choice:3x2,multi:1x4,short:1x10"
HOSTILE = ['=HYPERLINK("http://x.cn/?k","点")', "-2+3", "=1+1", "@SUM(1,2)", "+86 138"]


def planned(
    folder: Path,
    roster_lines: list[str],
    seed: str = "7",
    parts: str = PARTS,
    modules: str = "2,3,8",
    pool: str = "exam",
) -> Path:
    """An exam planned (not printed) for the roster given as CSV lines; its manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = folder / "roster.csv"
    roster.write_text("\n".join(roster_lines) + "\n", encoding="utf-8")
    flags = ExamFlags(modules=modules, seed=seed, parts=parts, roster=roster, pool=pool)
    plan = plan_exam(parse_exam_flags(flags), SOURCE, folder)
    path = folder / "manifest.json"
    path.write_text(manifest_json(plan.manifest, source_from(folder, SOURCE)), encoding="utf-8")
    return path


def fill(xlsx: Path, value: object = 2) -> None:
    """The teacher's work: a mark typed into the first student's first question, saved."""
    book = load_workbook(xlsx)
    book["成绩"].cell(row=3, column=5, value=value)
    book.save(xlsx)


def test_a_filled_score_sheet_is_never_replaced_without_force(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path / "exam", 4, PARTS)
    command = ["scoresheet", str(manifest)]
    assert runner.invoke(app, command).exit_code == 0
    xlsx, csv_path = manifest.parent / "scores.xlsx", manifest.parent / "scores.csv"
    assert runner.invoke(app, command).exit_code == 0  # still paperkit's own blank sheet: written again
    fill(xlsx)
    filled = xlsx.read_bytes()
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert "scores.xlsx changed since paperkit wrote it" in result.output and "--force" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert xlsx.read_bytes() == filled  # the marks are still there
    result = runner.invoke(app, [*command, "--force"])
    assert result.exit_code == 0, result.output
    backup = manifest.parent / "scores.bak1.xlsx"
    assert backup.read_bytes() == filled and "kept as" in result.output
    assert load_workbook(xlsx)["成绩"].cell(row=3, column=5).value is None  # a blank sheet again
    # A CSV the teacher filled is the same work.
    csv_path.write_text(csv_path.read_text(encoding="utf-8-sig").replace(",,", ",3,", 1), encoding="utf-8-sig")
    assert runner.invoke(app, command).exit_code == 1


def test_an_edited_record_or_none_makes_paperkit_careful_not_careless(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path / "exam", 4, PARTS)
    assert runner.invoke(app, ["scoresheet", str(manifest)]).exit_code == 0
    fill(manifest.parent / "scores.xlsx")
    record = manifest.parent / ".paperkit-written.json"
    for hostile in (b"{", b"[]", b'{"scores.xlsx": 1}', b"x" * 300_000):
        record.write_bytes(hostile)
        assert runner.invoke(app, ["scoresheet", str(manifest)]).exit_code == 1, hostile[:20]


def test_an_analysis_the_teacher_edited_is_kept(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path / "exam", 4, PARTS)
    xlsx = build_scoresheet(manifest, SOURCE)[0][0]
    fill(xlsx)
    command = ["analyze", str(manifest), str(xlsx)]
    assert runner.invoke(app, command).exit_code == 0
    assert runner.invoke(app, command).exit_code == 0  # unchanged since written: written again
    analysis = manifest.parent / "analysis.xlsx"
    book = load_workbook(analysis)
    book.worksheets[0].cell(row=40, column=1, value="试题评价：第 3 题题干有歧义")
    book.save(analysis)
    edited = analysis.read_bytes()
    result = runner.invoke(app, command)
    assert result.exit_code == 1 and "analysis.xlsx changed since paperkit wrote it" in result.output
    assert analysis.read_bytes() == edited
    result = runner.invoke(app, [*command, "--force"])
    assert result.exit_code == 0 and (manifest.parent / "analysis.bak1.xlsx").read_bytes() == edited


def test_every_output_is_checked_before_the_first_is_written(tmp_path: Path) -> None:
    manifest = exam_manifest(tmp_path / "exam", 4, PARTS)
    (manifest.parent / "scores.csv").mkdir()
    result = runner.invoke(app, ["scoresheet", str(manifest)])
    assert result.exit_code == 1 and "scores.csv is a directory" in result.output
    assert not (manifest.parent / "scores.xlsx").exists()
    # Nothing after the exam writes into the handbook it was set from.
    for command in (["scoresheet", str(manifest), "--out", str(SOURCE / "modules")],):
        result = runner.invoke(app, command)
        assert result.exit_code == 1 and "would overwrite an input" in result.output
    assert not (SOURCE / "modules" / "scores.xlsx").exists()


def test_roster_values_stay_text_in_the_sheet_and_are_neutralised_in_the_csv(tmp_path: Path) -> None:
    lines = ["姓名,学号,班级,备注"] + [
        f'"{h.replace(chr(34), chr(34) * 2)}",2026{n:03d},{h if n == 2 else "1班"},{h}'
        for n, h in enumerate(HOSTILE, 1)
    ]
    manifest = planned(tmp_path / "exam", lines)
    (xlsx, csv_path), _ = build_scoresheet(manifest, SOURCE)
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    header = [c.value for c in sheet[2]]
    formulas = {c.column for row in sheet.iter_rows(min_row=3) for c in row if c.data_type == "f"}
    questions = 5
    assert formulas == set(range(4 + questions + 1, header.index("名次") + 2))  # subtotals, 总分, 名次 only
    names = [sheet.cell(row=r, column=2).value for r in range(3, 3 + len(HOSTILE))]
    assert names == HOSTILE  # the text itself, as the roster had it
    assert [c.value for c in sheet[3 + 1]][2] == "-2+3"
    for row in book["答案"].iter_rows():
        assert all(c.data_type != "f" for c in row)
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)  # OWASP: a leading ' neutralises
    assert "'" + HOSTILE[0] in cells
    # Read back, the names are the roster's again (so the sheet matches the class).
    marked = open_exam(manifest, SOURCE)
    scores = read_sheet(csv_path, marked.manifest, marked.questions)
    assert [r.sitter.name for r in scores.rows] == HOSTILE


def test_another_class_s_sheet_or_another_seed_s_csv_stops_with_one_line(tmp_path: Path) -> None:
    class_a = planned(tmp_path / "a", ["座号,姓名"] + [f"{n},甲班学生{n}" for n in range(1, 7)])
    class_b = planned(tmp_path / "b", ["座号,姓名"] + [f"{n},乙班学生{n}" for n in range(1, 7)])
    (xlsx_a, csv_a), _ = build_scoresheet(class_a, SOURCE)
    fill(xlsx_a)
    marked_b = open_exam(class_b, SOURCE)
    for sheet in (xlsx_a, csv_a):
        with pytest.raises(ScoreSheetError) as refused:
            read_sheet(sheet, marked_b.manifest, marked_b.questions)
        assert len(refused.value.problems) == 1
        assert "another exam or class" in refused.value.problems[0]
    # One name mistyped is a problem of that row, not of the sheet.
    book = load_workbook(xlsx_a)
    book["成绩"].cell(row=4, column=2, value="甲班学生九")
    book.save(xlsx_a)
    marked_a = open_exam(class_a, SOURCE)
    with pytest.raises(ScoreSheetError) as refused:
        read_sheet(xlsx_a, marked_a.manifest, marked_a.questions)
    assert refused.value.problems == [
        f"{xlsx_a}: sheet 成绩, row 4, column B: 学号 2 is 甲班学生2 on this exam's roster, not 甲班学生九"
    ]
    # The same roster with another seed: the CSV's check column says whose sheet it is.
    seed_8 = planned(tmp_path / "s8", ["座号,姓名"] + [f"{n},甲班学生{n}" for n in range(1, 7)], seed="8")
    marked_8 = open_exam(seed_8, SOURCE)
    with pytest.raises(ScoreSheetError) as refused:
        read_sheet(csv_a, marked_8.manifest, marked_8.questions)
    assert len(refused.value.problems) == 1 and "another exam or class" in refused.value.problems[0]


def test_a_150_item_paper_keeps_every_formula_short(tmp_path: Path) -> None:
    modules = ",".join(str(m) for m in range(14))
    roster = ["姓名,学号", "甲,1", "乙,2", "丙,3"]
    manifest = planned(tmp_path / "exam", roster, parts="choice:80x1,truefalse:70x1", modules=modules, pool="all")
    book = load_workbook(build_scoresheet(manifest, SOURCE)[0][0])
    lengths = [len(c.value) for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert len([c for c in book["成绩"][2] if c.value]) >= 150 + 4
    assert max(lengths) < 1000  # was 34,101 characters, cut by openpyxl at 32,767 (Err:512 in LibreOffice)
