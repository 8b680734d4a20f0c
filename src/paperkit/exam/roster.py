"""A class roster (CSV in any encoding a spreadsheet saves, or .xlsx) into students; every problem is one line
with its row.

Spreadsheets save rosters in many shapes: 「CSV (逗号分隔)」 from Excel or WPS on Chinese Windows is GB18030,
「Unicode 文本」 is tab-separated UTF-16, European locales separate with semicolons, and a title row
(「高一(3)班 名单」) often sits above the header. All of these are read as they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from paperkit.errors import UsageError, WorkbookError
from paperkit.exam.workbook import Limits, csv_rows, decode_text, read_xlsx
from paperkit.i18n import _
from paperkit.paths import file_kind

# Accepted header spellings (case-insensitive for the English ones), as spreadsheets export them. The id
# column is the first of these found: 学号 before 考号, 准考证号 and 座号.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "student_id": ("学号", "考号", "准考证号", "座号", "student_id", "id"),
    "class": ("班级", "class"),
}
# How far down a title may push the header row.
HEADER_SEARCH_ROWS = 10
# The largest roster file read (a class list is a few KB; this bounds a wrong file).
MAX_ROSTER_BYTES = 5 * 1024 * 1024
# The most rows a roster's sheet or CSV may reach (a whole school year, its title and header, empty rows below).
MAX_ROSTER_ROWS = 10_000
# What a roster may hold: rows, columns, cells and the parts of an .xlsx unpacked (a class list of 50 is 20 KB).
READ_LIMITS = Limits(
    "a roster", rows=MAX_ROSTER_ROWS, columns=256, cells=500_000, unpacked=64 * 2**20, file=MAX_ROSTER_BYTES
)
# The longest name, class and id a paper's fields hold (and a file name can carry).
MAX_NAME = 40
MAX_ID = 32


@dataclass(frozen=True)
class Student:
    """One student of the roster and the variant they sit."""

    name: str
    student_id: str
    class_name: str = ""
    variant: str = "A"
    extra: tuple[tuple[str, str], ...] = ()  # the roster's other columns (header, value), kept for the score sheet
    row: int = field(default=0, compare=False)  # the roster row, for messages


def read_roster(path: Path) -> tuple[Student, ...]:
    """Read and parse a roster file (CSV or .xlsx); a missing, unreadable or oversized file is a UsageError."""
    if path.exists() and not path.is_file():
        raise UsageError(
            _("--roster {path}: is {kind}, not a file; give a CSV or .xlsx file").format(
                path=path, kind=file_kind(path)
            )
        )
    if not path.is_file():
        raise UsageError(
            _("--roster {path}: no such file; give a CSV or .xlsx file with columns 姓名,学号 (optional 班级)").format(
                path=path
            )
        )
    size = path.stat().st_size
    if size > MAX_ROSTER_BYTES:
        raise UsageError(
            _("--roster {path}: {size} KB is too large for a roster (at most 5 MB)").format(
                path=path, size=size // 1024
            )
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(
            _("--roster {path}: cannot read it ({reason})").format(path=path, reason=error.strerror)
        ) from None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return students_from_rows(xlsx_rows(data, str(path)), str(path))
    return parse_roster(data, str(path))


def xlsx_rows(data: bytes, where: str) -> list[list[str]]:
    """The first worksheet's rows as text (whole numbers without a trailing .0, as the teacher typed them)."""
    try:
        sheet = next(iter(read_xlsx(data, where, READ_LIMITS, data_only=True).values()))
    except WorkbookError as error:
        raise UsageError(str(error)) from None
    return [[_text(value) for value in row] for row in sheet]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decode(data: bytes, where: str) -> str:
    """Roster bytes as text: UTF-16 by its BOM or its zero bytes, else UTF-8, else GB18030 (a superset of GBK)."""
    try:
        return decode_text(data, where, _('save the roster as "CSV UTF-8" or as .xlsx in your spreadsheet program'))
    except WorkbookError as error:
        raise UsageError(str(error)) from None


def _delimited(text: str, where: str) -> list[list[str]]:
    """Rows of a comma-, semicolon- or tab-separated text: the separator that makes a header row wins."""
    best: list[list[str]] = []
    for delimiter in (",", "\t", ";"):
        try:
            rows = csv_rows(text, where, READ_LIMITS, delimiter)
        except WorkbookError as error:
            raise UsageError(str(error)) from None
        if _header_index(rows) is not None:
            return rows
        if not best:
            best = rows
    return best


def _norm(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().lower()


def _column(header: Sequence[str], key: str) -> int | None:
    cells = [_norm(cell) for cell in header]
    for name in COLUMNS[key]:  # in order of preference
        if name.lower() in cells:
            return cells.index(name.lower())
    return None


def _header_index(rows: Sequence[Sequence[str]]) -> int | None:
    """The first row (within the first few) that names both a name and an id column."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _column(row, "name") is not None and _column(row, "student_id") is not None:
            return index
    return None


def parse_roster(data: bytes, where: str = "roster") -> tuple[Student, ...]:
    """Students in file order from CSV bytes (UTF-8 with or without BOM, GB18030, UTF-16); blank rows skipped."""
    return students_from_rows(_delimited(decode(data, where), where), where)


def students_from_rows(rows: Sequence[Sequence[str]], where: str = "roster") -> tuple[Student, ...]:
    """Students from a roster's rows (the header found even below a title row); every problem names its row."""
    if not any(any(c.strip() for c in row) for row in rows):
        raise UsageError(
            _(
                "{where}: the roster is empty; expected a header row with 姓名 and 学号 "
                "(or 考号/准考证号/座号; English: name, id), optional 班级, then one row per student"
            ).format(where=where)
        )
    index = _header_index(rows)
    if index is None:
        first = next(n for n, row in enumerate(rows) if any(c.strip() for c in row))
        shown = ", ".join(c.strip() for c in rows[first] if c.strip())
        raise UsageError(
            _(
                "{where}:{line}: no roster header in the first {rows} rows; expected a header row with 姓名 and 学号 "
                "(or 考号/准考证号/座号; English: name, id), optional 班级 (the first row has {cells})"
            ).format(where=where, line=first + 1, rows=HEADER_SEARCH_ROWS, cells=shown)
        )
    header = rows[index]
    found = {key: _column(header, key) for key in COLUMNS}
    known = {i for i in found.values() if i is not None}
    others = [(i, cell.strip()) for i, cell in enumerate(header) if i not in known and cell.strip()]
    students: list[Student] = []
    seen: dict[str, int] = {}
    id_title = header[found["student_id"] or 0].strip()
    for number, row in enumerate(rows[index + 1 :], start=index + 2):
        if not any(c.strip() for c in row):
            continue
        name, ident, class_name = (_cell(row, found[key]) for key in ("name", "student_id", "class"))
        if not name:
            raise UsageError(
                _("{where}:{line}: 姓名 is empty; every student needs a name").format(where=where, line=number)
            )
        if not ident:
            raise UsageError(
                _("{where}:{line}: {column} of {name} is empty; every student needs one").format(
                    where=where, line=number, column=id_title, name=name
                )
            )
        for title, value, limit in ((header[found["name"] or 0].strip(), name, MAX_NAME), (id_title, ident, MAX_ID)):
            if len(value) > limit:
                raise UsageError(
                    _("{where}:{line}: {column} is {length} characters long; at most {most} fit on a paper").format(
                        where=where, line=number, column=title, length=len(value), most=limit
                    )
                )
        # Their paper is students/<学号>-<姓名>.pdf with the 学号's symbols dropped (plan.student_file): one that
        # starts with a dot, like ..-张三.pdf, is a file that file managers and `ls` hide.
        if re.match(r"[^\w.]*\.", ident):
            raise UsageError(
                _(
                    "{where}:{line}: {column} {id} of {name} would make their paper a hidden file "
                    "(its name would start with a dot); give their real {column}"
                ).format(where=where, line=number, column=id_title, id=ident, name=name)
            )
        if len(class_name) > MAX_NAME:
            raise UsageError(
                _("{where}:{line}: 班级 is {length} characters long; at most {most} fit").format(
                    where=where, line=number, length=len(class_name), most=MAX_NAME
                )
            )
        if ident in seen:
            raise UsageError(
                _("{where}:{line}: {column} {id} is also on row {row}; it must be unique").format(
                    where=where, line=number, column=id_title, id=ident, row=seen[ident]
                )
            )
        seen[ident] = number
        extra = tuple((title, _cell(row, i)) for i, title in others)
        students.append(Student(name, ident, class_name, extra=extra, row=number))
    if not students:
        raise UsageError(_("{where}: the roster is empty; it has a header but no students").format(where=where))
    return tuple(students)


def assign_variants(students: Sequence[Student], letters: Sequence[str]) -> tuple[Student, ...]:
    """Variants in turn down the roster (A, B, C, A, …), so neighbours in roster order sit different papers."""
    return tuple(replace(s, variant=letters[i % len(letters)]) for i, s in enumerate(students))


def _cell(row: Sequence[str], index: int | None) -> str:
    """A row's cell at a column index, stripped; '' when the column is absent or the row is short."""
    return unicodedata.normalize("NFC", row[index]).strip() if index is not None and index < len(row) else ""
