"""roster.py: CSV bytes into students, with one located message for each kind of bad roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperkit.errors import UsageError
from paperkit.roster import Student, assign_variants, parse_roster, read_roster


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


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"",
            "r.csv: the roster is empty; expected a header row 姓名,学号 (optional 班级) and one row per student",
        ),
        ("姓名,学号\n".encode(), "r.csv: the roster is empty; it has a header but no students"),
        (
            "名字,学号\n张三,1\n".encode(),
            (
                "r.csv:1: no 姓名/name column; the header has 名字, 学号 "
                "(expected 姓名/name, 学号/student_id, optional 班级/class)"
            ),
        ),
        (
            "姓名,班级\n张三,一班\n".encode(),
            (
                "r.csv:1: no 学号/student_id column; the header has 姓名, 班级 "
                "(expected 姓名/name, 学号/student_id, optional 班级/class)"
            ),
        ),
        (
            "姓名,学号\n张三,1\n李四,2\n王五,1\n".encode(),
            "r.csv:4: 学号 1 is also on line 2; student numbers must be unique",
        ),
        ("姓名,学号\n,1\n".encode(), "r.csv:2: 姓名 is empty; every student needs a name"),
        ("姓名,学号\n张三,\n".encode(), "r.csv:2: 学号 of 张三 is empty; every student needs a student number"),
        (
            "姓名,学号\n张三,1\n".encode("gbk"),
            (
                "r.csv:1: not UTF-8 (it looks like GBK/GB18030); "
                'save the roster as "CSV UTF-8" in your spreadsheet program'
            ),
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
    assert str(caught.value) == f"--roster {path}: no such file; give a CSV file with columns 姓名,学号 (optional 班级)"


def test_variants_go_round_the_roster() -> None:
    students = [Student(str(i), str(i)) for i in range(5)]
    assert [s.variant for s in assign_variants(students, ("A", "B", "C"))] == ["A", "B", "C", "A", "B"]
