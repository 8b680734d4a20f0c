"""Hardening (issue 31): every spreadsheet paperkit reads — the roster (.xlsx or CSV) and the filled score sheet
(scores.xlsx or scores.csv) — is read within bounds, and a damaged, hostile or oversized one is one line naming the
file, never a traceback. The damaged workbooks are valid ones written by openpyxl with one part of the zip edited.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.errors import ScoreSheetError, UsageError
from paperkit.exam.roster import Student, parse_roster, read_roster
from paperkit.marking.jobs import build_scoresheet, open_exam
from paperkit.marking.scoresheet import read_cells, read_sheet
from test_marking import exam_manifest

runner = CliRunner()
SHEET1 = "xl/worksheets/sheet1.xml"
EXAM = ["exam", "--source", str(SOURCE), "--out", "out/exams", "--modules", "2"]
SUMMARY = "1 problem in the score sheet; nothing was written."
Edit = Callable[[bytes], bytes | None]


def roster_workbook() -> bytes:
    """A valid roster workbook: a header, two students (numeric 学号), a date in D2."""
    import datetime

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["姓名", "学号", "班级"])
    sheet.append(["张三", 2024001, "一班"])
    sheet.append(["李四", 2024002, "一班"])
    sheet["D2"] = datetime.datetime(2024, 9, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edited(data: bytes, member: str, edit: Edit) -> bytes:
    """The zip with one member edited (left out when the edit gives None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == member:
                changed = edit(body)
                if changed is None:
                    continue
                body = changed
            target.writestr(info.filename, body)
    return out.getvalue()


def sub(old: str, new: str) -> Edit:
    def edit(body: bytes) -> bytes:
        assert old.encode() in body, old
        return body.replace(old.encode(), new.encode(), 1)

    return edit


def prepend(text: str, old: str = "", new: str = "") -> Edit:
    def edit(body: bytes) -> bytes:
        return text.encode() + (body.replace(old.encode(), new.encode(), 1) if old else body)

    return edit


ZHANG = "<t>&#24352;&#19977;</t>"  # 张三 as openpyxl writes it
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]>"
)
DOCTYPE = "xl/worksheets/sheet1.xml has a DOCTYPE, which no workbook has"

# (id, member, edit, what the message says in its brackets)
DAMAGED = [
    (
        "malformed XML",
        SHEET1,
        sub("</sheetData>", "</sheetDat>"),
        "xl/worksheets/sheet1.xml: malformed XML, mismatched tag: line 1, column 931",
    ),
    (
        "a DOCTYPE with an entity",
        SHEET1,
        prepend('<!DOCTYPE worksheet [<!ENTITY x "王五">]>', ZHANG, "<t>&x;</t>"),
        DOCTYPE,
    ),
    ("billion laughs", SHEET1, prepend(LAUGHS, ZHANG, "<t>&i;</t>"), DOCTYPE),
    ("the sheet left out", SHEET1, lambda body: None, "no worksheet in it"),
    (
        "a shared string that is not there",
        SHEET1,
        sub('<c r="B2" t="n"><v>2024001</v>', '<c r="B2" t="s"><v>99</v>'),
        "sheet Sheet: IndexError: list index out of range",
    ),
    (
        "t=n holding text",
        SHEET1,
        sub('<c r="B2" t="n"><v>2024001</v>', '<c r="B2" t="n"><v>abc</v>'),
        "sheet Sheet: ValueError: invalid literal for int() with base 10: 'abc'",
    ),
    (
        "a date that is no date",
        SHEET1,
        sub('<c r="B2" t="n"><v>2024001</v>', '<c r="B2" t="d"><v>2024-13-45</v>'),
        "sheet Sheet: ValueError: month must be in 1..12",
    ),
    (
        "a cell past column XFD",
        SHEET1,
        sub('r="B2"', 'r="ZZZZZ2"'),
        "xl/worksheets/sheet1.xml: cell ZZZZZ2 is outside A1:XFD1048576",
    ),
    (
        "a row past the last row",
        SHEET1,
        sub('<row r="3">', '<row r="99999999">'),
        "xl/worksheets/sheet1.xml: row 99999999 is past the last row there is, 1048576",
    ),
    ("no zip at all", "", lambda body: body, "not an .xlsx file: File is not a zip file"),
    (
        "an .xls or a password",
        "",
        lambda body: body,
        "an .xls file, or one with a password to open; save it as .xlsx without one",
    ),
    (
        "a malformed workbook.xml",
        "xl/workbook.xml",
        sub("<sheets>", "<sheets"),
        "xl/workbook.xml: malformed XML, not well-formed (invalid token): line 1, column 327",
    ),
]


def damaged_roster(case: str, member: str, edit: Edit) -> bytes:
    if case == "no zip at all":
        return "姓名,学号\n张三,1\n".encode()
    if case == "an .xls or a password":
        return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return edited(roster_workbook(), member, edit)


# ---- rows 10: a damaged roster workbook is one line, exit 2 -------------------------------------------------


@pytest.mark.parametrize(("case", "member", "edit", "detail"), DAMAGED, ids=[c[0] for c in DAMAGED])
def test_a_damaged_roster_workbook_is_one_line(case: str, member: str, edit: Edit, detail: str, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(damaged_roster(case, member, edit))
    with pytest.raises(UsageError) as caught:
        read_roster(path)
    assert str(caught.value) == f"{path}: cannot read this workbook ({detail})"
    assert caught.value.exit_code == 2


def test_a_damaged_roster_workbook_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.xlsx").write_bytes(edited(roster_workbook(), SHEET1, sub('r="B2"', 'r="ZZZZZ2"')))
    result = runner.invoke(app, [*EXAM, "--roster", "r.xlsx"])
    assert result.stderr.splitlines() == [
        "error: r.xlsx: cannot read this workbook (xl/worksheets/sheet1.xml: cell ZZZZZ2 is outside A1:XFD1048576)"
    ]
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), result.exception


def test_a_valid_roster_workbook_reads_as_before_without_warnings(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(edited(roster_workbook(), SHEET1, sub("<v>45536</v>", "<v>1e300</v>")))  # a date past 9999
    students = read_roster(path)
    assert [(s.name, s.student_id, s.class_name) for s in students] == [
        ("张三", "2024001", "一班"),
        ("李四", "2024002", "一班"),
    ]
    assert not recwarn.list  # openpyxl's warnings are not the teacher's business


# ---- row 6: a workbook is bounded before it is read ---------------------------------------------------------


def roster_with(edit: Edit) -> bytes:
    return edited(roster_workbook(), SHEET1, edit)


FAR_ROW = sub("</sheetData>", '<row r="20000"><c r="A20000"><v>1</v></c></row></sheetData>')


def far(body: bytes) -> bytes | None:
    """The dimension A1:XFD20000 and one cell in row 20000 (9 KB that took openpyxl 66 s and 2.7 GB)."""
    return FAR_ROW(body.replace(b'<dimension ref="A1:D3"/>', b'<dimension ref="A1:XFD20000"/>'))


BOUNDED = [
    (
        "a cell in row 20000 under a dimension of A1:XFD20000",
        far,
        "a sheet reaches row 20000; a roster has at most 10000 rows",
    ),
    (
        "a cell in column XFD",
        sub('<c r="C3"', '<c r="XFD3"'),
        "a sheet reaches column XFD; a roster has at most 256 columns",
    ),
    (
        "a row of 5000 cells in one column",
        sub("</row></sheetData>", '<c r="A3"><v>1</v></c>' * 5000 + "</row></sheetData>"),
        "a row holds over 4096 XML elements; a roster has at most 256 columns",
    ),
    (
        "600000 elements openpyxl would keep",
        sub("</sheetData>", "</sheetData><x>" + '<a b="1"/>' * 600_000 + "</x>"),
        "xl/worksheets/sheet1.xml holds over 500000 XML elements besides its cells; a roster has at most 500000",
    ),
    (
        "a merge over the whole sheet",
        sub("</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'),
        "a sheet reaches row 1048576 (A1:XFD1048576); a roster has at most 10000 rows",
    ),
    (
        "a zip bomb of 65 MB of spaces",
        sub("</row>", "</row>" + " " * (65 * 2**20)),
        "unpacks to 66 MB; a roster unpacks to at most 64 MB",
    ),
]


@pytest.mark.parametrize(("case", "edit", "message"), BOUNDED, ids=[c[0] for c in BOUNDED])
def test_a_roster_workbook_past_the_limits_is_refused_before_it_is_read(
    case: str, edit: Edit, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(roster_with(edit))
    assert path.stat().st_size < 200_000, case  # small files: the danger is what they unpack to
    with pytest.raises(UsageError) as caught:
        read_roster(path)
    assert str(caught.value) == f"{path}: {message}"


def test_a_dimension_the_cells_do_not_fill_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(roster_with(sub('<dimension ref="A1:D3"/>', '<dimension ref="A1:XFD1048576"/>')))
    assert [s.student_id for s in read_roster(path)] == ["2024001", "2024002"]


def test_a_roster_csv_past_the_limits_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        parse_roster(("姓名,学号\n" + "张三,1\n" * 10_000).encode(), "r.csv")
    assert str(caught.value) == "r.csv: over 10000 rows; a roster has at most 10000"
    with pytest.raises(UsageError) as caught:
        parse_roster(("姓名,学号\n张三,1" + ",x" * 298 + "\n").encode(), "r.csv")
    assert str(caught.value) == "r.csv:2: 300 columns; a roster has at most 256"


# ---- row 11: CSV line ends and encodings ------------------------------------------------------------------------

CLASS = (Student("张三", "2024001", "一班"), Student("李四", "2024002", "二班"))
TABLE = "姓名,学号,班级\r\n张三,2024001,一班\r\n李四,2024002,二班\r\n"


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("CR alone (old Mac Excel), UTF-8", TABLE.replace("\r\n", "\r").encode()),
        ("CR alone, GB18030", TABLE.replace("\r\n", "\r").encode("gb18030")),
        ("UTF-16 little-endian without a BOM, tabs", TABLE.replace(",", "\t").encode("utf-16-le")),
        ("UTF-16 big-endian without a BOM", TABLE.encode("utf-16-be")),
    ],
    ids=["CR, UTF-8", "CR, GB18030", "UTF-16-LE, tabs", "UTF-16-BE"],
)
def test_csv_rosters_with_cr_line_ends_or_utf16_without_a_bom_are_read(case: str, data: bytes) -> None:
    assert parse_roster(data, "r.csv") == CLASS, case


def test_a_line_break_inside_quotes_stays_in_its_field() -> None:
    data = '姓名,学号,班级\r"张\r三",2024001,一班\r'.encode()
    assert parse_roster(data, "r.csv") == (Student("张\r三", "2024001", "一班"),)


ADVICE = 'save the roster as "CSV UTF-8" or as .xlsx in your spreadsheet program'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "姓名,学号\r\n张三,1\r\n".encode("utf-16-le") + b"\x00",
            f"r.csv:3: neither UTF-8, GB18030/GBK nor UTF-16 text; {ADVICE}",
        ),
        (
            "姓名,学号\n张三,1\n".encode("utf-16-be") + b"\xdc\x00",
            f"r.csv:3: neither UTF-8, GB18030/GBK nor UTF-16 text; {ADVICE}",
        ),
        (
            ("姓名,学号\n张三," + "1" * 131073 + "\n").encode(),
            "r.csv:2: cannot read this CSV (field larger than field limit (131072))",
        ),
    ],
    ids=["UTF-16 cut short", "UTF-16 with a lone surrogate", "a 128 KB field"],
)
def test_csv_rosters_that_cannot_be_read_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_roster(data, "r.csv")
    assert str(caught.value) == message


# ---- row 21: a 学号 must not make a hidden file -----------------------------------------------------------------


@pytest.mark.parametrize("ident", [".", "..", "...", ".5", "#."])
def test_a_student_number_that_would_name_a_hidden_file_is_refused(ident: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_roster(f"姓名,学号\n李四,1\n张三,{ident}\n".encode(), "r.csv")
    assert str(caught.value) == (
        f"r.csv:3: 学号 {ident} of 张三 would make their paper a hidden file (its name would start with a dot); "
        "give their real 学号"
    )


def test_dots_inside_a_student_number_are_fine() -> None:
    assert parse_roster("姓名,学号\n张三,2024.1\n".encode(), "r.csv")[0].student_id == "2024.1"


def test_a_hidden_file_student_number_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.csv").write_bytes("姓名,学号\n张三,..\n".encode())
    result = runner.invoke(app, [*EXAM, "--roster", "r.csv"])
    assert result.stderr.splitlines() == [
        "error: r.csv:2: 学号 .. of 张三 would make their paper a hidden file (its name would start with a dot); "
        "give their real 学号"
    ]
    assert result.exit_code == 2 and not Path("out").exists()


# ---- the filled score sheet ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exam for four students (planned, not printed) with its scores.xlsx and scores.csv; its manifest."""
    manifest = exam_manifest(tmp_path_factory.mktemp("exam"), 4, "choice:3x2,multi:1x4,short:1x10")
    build_scoresheet(manifest, SOURCE)
    return manifest


def sheet_problems(path: Path, manifest: Path) -> list[str]:
    marked = open_exam(manifest, SOURCE)
    with pytest.raises(ScoreSheetError) as caught:
        read_sheet(path, marked.manifest, marked.questions)
    return caught.value.lines()


def test_a_score_sheet_reaching_row_20000_is_refused_before_it_is_read(exam: Path, tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    original = (exam.parent / "scores.xlsx").read_bytes()
    path.write_bytes(
        edited(original, SHEET1, sub("</sheetData>", '<row r="20000"><c r="A20000"><v>1</v></c></row></sheetData>'))
    )
    assert sheet_problems(path, exam) == [
        f"{path}: a sheet reaches row 20000; a score sheet has at most 11000 rows",
        SUMMARY,
    ]


def test_a_score_sheet_that_declares_xfd20000_but_holds_its_cells_reads_as_before(exam: Path, tmp_path: Path) -> None:
    original = exam.parent / "scores.xlsx"
    path = tmp_path / "scores.xlsx"
    path.write_bytes(
        edited(original.read_bytes(), SHEET1, sub('<dimension ref="A1:', '<dimension ref="A1:XFD20000"/><x y="'))
    )
    marked = open_exam(exam, SOURCE)
    assert read_sheet(path, marked.manifest, marked.questions) == read_sheet(
        original, marked.manifest, marked.questions
    )
    assert (
        read_cells(original).keys == read_cells(path).keys and read_cells(path).exam_id == read_cells(original).exam_id
    )


def row7(cell: str) -> Edit:
    """A row under the four students of the 成绩 sheet holding one cell."""
    return sub("</sheetData>", f'<row r="7">{cell}</row></sheetData>')


DAMAGED_SHEETS = [
    (
        "malformed XML",
        sub("</sheetData>", "</sheetDat>"),
        "xl/worksheets/sheet1.xml: malformed XML, mismatched tag: line 1, column 6329",
    ),
    ("billion laughs", prepend(LAUGHS), DOCTYPE),
    (
        "a shared string that is not there",
        row7('<c r="E7" t="s"><v>99</v></c>'),
        "sheet 成绩: IndexError: list index out of range",
    ),
    (
        "t=n holding text",
        row7('<c r="E7" t="n"><v>abc</v></c>'),
        "sheet 成绩: ValueError: invalid literal for int() with base 10: 'abc'",
    ),
    (
        "a date that is no date",
        row7('<c r="E7" t="d"><v>2024-13-45</v></c>'),
        "sheet 成绩: ValueError: month must be in 1..12",
    ),
    (
        "a cell past column XFD",
        row7('<c r="ZZZZZ7"><v>1</v></c>'),
        "xl/worksheets/sheet1.xml: cell ZZZZZ7 is outside A1:XFD1048576",
    ),
]


@pytest.mark.parametrize(("case", "edit", "detail"), DAMAGED_SHEETS, ids=[c[0] for c in DAMAGED_SHEETS])
def test_a_damaged_score_sheet_is_one_problem(case: str, edit: Edit, detail: str, exam: Path, tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(edited((exam.parent / "scores.xlsx").read_bytes(), SHEET1, edit))
    assert sheet_problems(path, exam) == [f"{path}: cannot read this workbook ({detail})", SUMMARY]


def test_a_score_sheet_without_its_sheet_says_so(exam: Path, tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(edited((exam.parent / "scores.xlsx").read_bytes(), SHEET1, lambda body: None))
    assert sheet_problems(path, exam) == [
        f"{path}: no sheet named 成绩; give the scores.xlsx that paperkit scoresheet wrote",
        SUMMARY,
    ]


def test_a_damaged_score_sheet_on_the_command_line(exam: Path, tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(edited((exam.parent / "scores.xlsx").read_bytes(), SHEET1, prepend(LAUGHS)))
    result = runner.invoke(app, ["analyze", str(exam), str(path), "--out", str(tmp_path / "out")])
    assert result.stderr.splitlines() == [f"{path}: cannot read this workbook ({DOCTYPE})", SUMMARY]
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize(
    ("case", "encode"),
    [
        ("CR alone", lambda text: text.replace("\r\n", "\r").encode()),
        ("UTF-16 without a BOM", lambda text: text.encode("utf-16-le")),
        ("GB18030", lambda text: text.encode("gb18030")),
    ],
    ids=["CR", "UTF-16-LE", "GB18030"],
)
def test_a_scores_csv_with_cr_line_ends_or_utf16_reads_as_the_original(
    case: str, encode: Callable[[str], bytes], exam: Path, tmp_path: Path
) -> None:
    original = exam.parent / "scores.csv"
    path = tmp_path / "scores.csv"
    path.write_bytes(encode(original.read_bytes().decode("utf-8-sig")))
    assert read_cells(path) == read_cells(original), case


def test_a_scores_csv_that_cannot_be_decoded_names_the_encodings_tried(exam: Path, tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(b"\x80\x81\xff\xfe")
    assert sheet_problems(path, exam) == [
        f'{path}:1: neither UTF-8, GB18030/GBK nor UTF-16 text; save the sheet as "CSV UTF-8", or fill in scores.xlsx',
        SUMMARY,
    ]
