"""A class roster (CSV bytes) into students; every problem is a UsageError naming the file and line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import UsageError

# Accepted header spellings (case-insensitive for the English ones), as spreadsheets export them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "student_id": ("学号", "student_id"),
    "class": ("班级", "class"),
}


@dataclass(frozen=True)
class Student:
    """One student of the roster and the variant they sit."""

    name: str
    student_id: str
    class_name: str = ""
    variant: str = "A"
    extra: tuple[tuple[str, str], ...] = ()  # the roster's other columns (header, value), kept for the score sheet


def read_roster(path: Path) -> tuple[Student, ...]:
    """Read and parse a roster file; a missing or unreadable file is a UsageError."""
    if not path.is_file():
        raise UsageError(f"--roster {path}: no such file; give a CSV file with columns 姓名,学号 (optional 班级)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"--roster {path}: cannot read it ({error.strerror})") from None
    return parse_roster(data, str(path))


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        guess = ""
        try:
            data.decode("gb18030")
            guess = " (it looks like GBK/GB18030)"
        except UnicodeDecodeError:
            pass
        raise UsageError(
            f'{where}:{line}: not UTF-8{guess}; save the roster as "CSV UTF-8" in your spreadsheet program'
        ) from None


def _column(header: Sequence[str], key: str) -> int | None:
    names = {n.lower() for n in COLUMNS[key]}
    return next((i for i, cell in enumerate(header) if cell.strip().lower() in names), None)


def parse_roster(data: bytes, where: str = "roster") -> tuple[Student, ...]:
    """Students in file order from CSV bytes (UTF-8, with or without BOM); blank rows are skipped."""
    text = _decode(data, where)
    reader = csv.reader(io.StringIO(text))
    rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    if not rows:
        raise UsageError(
            f"{where}: the roster is empty; expected a header row 姓名,学号 (optional 班级) and one row per student"
        )
    header_line, header = rows[0]
    found = {key: _column(header, key) for key in COLUMNS}
    for key in ("name", "student_id"):
        if found[key] is None:
            chinese, english = COLUMNS[key]
            raise UsageError(
                f"{where}:{header_line}: no {chinese}/{english} column; "
                f"the header has {', '.join(c.strip() for c in header)}"
                f" (expected 姓名/name, 学号/student_id, optional 班级/class)"
            )
    if len(rows) == 1:
        raise UsageError(f"{where}: the roster is empty; it has a header but no students")
    known = {i for i in found.values() if i is not None}
    others = [(i, cell.strip()) for i, cell in enumerate(header) if i not in known and cell.strip()]
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        name, number, class_name = (_cell(row, found[key]) for key in ("name", "student_id", "class"))
        if not name:
            raise UsageError(f"{where}:{line}: 姓名 is empty; every student needs a name")
        if not number:
            raise UsageError(f"{where}:{line}: 学号 of {name} is empty; every student needs a student number")
        if number in seen:
            raise UsageError(
                f"{where}:{line}: 学号 {number} is also on line {seen[number]}; student numbers must be unique"
            )
        seen[number] = line
        extra = tuple((title, _cell(row, i)) for i, title in others)
        students.append(Student(name, number, class_name, extra=extra))
    return tuple(students)


def assign_variants(students: Sequence[Student], letters: Sequence[str]) -> tuple[Student, ...]:
    """Variants in turn down the roster (A, B, C, A, …), so neighbours in roster order sit different papers."""
    return tuple(replace(s, variant=letters[i % len(letters)]) for i, s in enumerate(students))


def _cell(row: list[str], index: int | None) -> str:
    """A row's cell at a column index, stripped; '' when the column is absent or the row is short."""
    return row[index].strip() if index is not None and index < len(row) else ""
