"""roster.py: CSV bytes into students, with one located message for each kind of bad roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperkit.errors import UsageError
from paperkit.exam.roster import Student, assign_variants, parse_roster, read_roster


def test_chinese_headers_with_bom() -> None:
    data = "\ufeff姓名,学号,班级\n张三,2024001,一班\n李四,2024002,二班\n".encode()
    assert parse_roster(data, "r.csv") == (
        Student("张三", "2024001", "一班"),
        Student("李四", "2024002", "二班"),
    )


def test_english_headers_any_order_no_class_blank_rows_skipped() -> None:
    data = b"Student_ID,Name\n\n7,Ada\n8,Grace\n,\n"
    assert parse_roster(data, "r.csv") == (Student("Ada", "7"), Student("Grace", "8"))


def test_quoted_cells_keep_commas() -> None:
    data = '姓名,学号\n"王,五",1\n'.encode()
    assert parse_roster(data)[0].name == "王,五"


HEADER = "expected a header row with 姓名 and 学号 (or 考号/准考证号/座号; English: name, id), optional 班级"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", f"r.csv: the roster is empty; {HEADER}, then one row per student"),
        ("姓名,学号\n".encode(), "r.csv: the roster is empty; it has a header but no students"),
        (
            "名字,学号\n张三,1\n".encode(),
            f"r.csv:1: no roster header in the first 10 rows; {HEADER} (the first row has 名字, 学号)",
        ),
        (
            "姓名,班级\n张三,一班\n".encode(),
            f"r.csv:1: no roster header in the first 10 rows; {HEADER} (the first row has 姓名, 班级)",
        ),
        ("姓名,学号\n张三,1\n李四,2\n王五,1\n".encode(), "r.csv:4: 学号 1 is also on row 2; it must be unique"),
        ("姓名,学号\n,1\n".encode(), "r.csv:2: 姓名 is empty; every student needs a name"),
        ("姓名,学号\n张三,\n".encode(), "r.csv:2: 学号 of 张三 is empty; every student needs one"),
        (
            b"\x80\x81\xff\xfe\x00",
            "r.csv:1: neither UTF-8, GB18030/GBK nor UTF-16 text; "
            'save the roster as "CSV UTF-8" or as .xlsx in your spreadsheet program',
        ),
    ],
)
def test_bad_rosters(data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_roster(data, "r.csv")
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(UsageError) as caught:
        read_roster(path)
    assert str(caught.value) == (
        f"--roster {path}: no such file; give a CSV or .xlsx file with columns 姓名,学号 (optional 班级)"
    )


def test_variants_go_round_the_roster() -> None:
    students = [Student(str(i), str(i)) for i in range(5)]
    assert [s.variant for s in assign_variants(students, ("A", "B", "C"))] == ["A", "B", "C", "A", "B"]


# ---- every way a spreadsheet saves a roster (issue 12) -------------------------------------------------------

CLASS = [("张三", "2024001", "一班"), ("李喆", "2024002", "一班"), ("王淼", "2024003", "二班")]
EXPECTED_CLASS = tuple(Student(n, i, c) for n, i, c in CLASS)


def _table(delimiter: str = ",", title: bool = False) -> str:
    lines = ["高一(3)班 期中考试名单" + delimiter * 2] if title else []
    lines.append(delimiter.join(["姓名", "学号", "班级"]))
    lines += [delimiter.join(row) for row in CLASS]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf-8 with BOM and CRLF", "\ufeff".encode() + _table().encode()),
        ("GB18030 (Excel 「CSV (逗号分隔)」 on Chinese Windows)", _table().encode("gb18030")),
        ("GBK", _table().encode("gbk")),
        ("UTF-16 tab-separated (「Unicode 文本」)", _table("\t").encode("utf-16")),
        ("semicolons", _table(";").encode()),
        ("a title row above the header", _table(title=True).encode("gb18030")),
    ],
)
def test_rosters_as_spreadsheets_save_them(name: str, data: bytes) -> None:
    assert parse_roster(data, "r.csv") == EXPECTED_CLASS, name


def test_an_xlsx_roster_with_a_title_row_and_numeric_ids(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["高一(3)班名单"])
    sheet.append(["学号", "姓名", "班级", "座号"])
    for name, number, class_name in CLASS:
        sheet.append([int(number), name, class_name, 7])
    path = tmp_path / "class.xlsx"
    book.save(path)
    students = read_roster(path)
    assert [(s.name, s.student_id, s.class_name) for s in students] == CLASS
    assert students[0].extra == (("座号", "7"),) and students[0].row == 3


def test_a_seat_number_list_and_other_id_names() -> None:
    assert parse_roster("座号,姓名\n1,张三\n2,李四\n".encode()) == (Student("张三", "1"), Student("李四", "2"))
    assert parse_roster("姓名,考号\n张三,K01\n".encode())[0].student_id == "K01"
    # 学号 wins over 座号 when both are there; the other is kept for the score sheet.
    both = parse_roster("座号,姓名,学号\n3,张三,2024001\n".encode())[0]
    assert both.student_id == "2024001" and both.extra == (("座号", "3"),)
