"""The score sheet of an exam (scores.xlsx and scores.csv): written from the manifest, read back checked.

One row per student, one column per question in printed order (the same positions on every variant,
which is what the teacher marks from); the row's 卷型 says which item each column holds. Reading
collects every problem with its sheet, row and column before anything is analysed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperkit.errors import CellProblem, ScoreSheetError
from paperkit.exam.manifest import Manifest
from paperkit.labels import label
from paperkit.marking.grading import Sitter, Slot, paper_slots, score_cell, sitters
from paperkit.marking.options import SHEET_ROWS
from paperkit.questions.kind import DEFAULT_RULES, Mark, Rules
from paperkit.questions.registry import kind_of

SHEET = "成绩"
META_SHEET = "paperkit"
FIXED = ("student_id", "name", "class", "variant")  # the columns before the questions, as labels name them


@dataclass(frozen=True)
class SheetRow:
    """A student's row as read back: who, which paper, and each question's mark (None: the row was blank)."""

    sitter: Sitter
    marks: tuple[Mark, ...] | None
    row: int


def headers(manifest: Manifest) -> list[str]:
    """The header row: the student columns, then 「1（2分）」 per question, the total, and the roster's other columns
    (after the total, so the questions are always in the same columns)."""
    points = next(iter(manifest.papers.values()))["points"]
    fixed = [label(f"sheet_{name}") for name in FIXED]
    questions = [label("sheet_question", number=n, points=p) for n, p in enumerate(points, start=1)]
    extra = list(dict.fromkeys(title for s in manifest.students for title in s.get("extra", {})))
    return [*fixed, *questions, label("sheet_total", points=sum(points)), *extra]


def _column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet column name (0 → A, 26 → AA)."""
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def total_formula(slots: Sequence[Slot], row: int, first: int, rules: Rules = DEFAULT_RULES) -> str:
    """An Excel formula for a row's total: numbers count as points, answers are scored against this paper's key."""
    terms = []
    for offset, slot in enumerate(slots):
        cell = f"{_column_letter(first + offset)}{row}"
        scored = (
            kind_of(slot.kind).sheet_formula(cell, slot.item, slot.indices, slot.points, rules)
            if slot.takes_letters
            else None
        )
        if scored is None:
            terms.append(f"N({cell})")
        else:
            terms.append(f'IF(ISNUMBER({cell}),{cell},IF({cell}="",0,{scored}))')
    return "=" + "+".join(terms)


def sheet_rows(manifest: Manifest, sitting: Sequence[Sitter], blank_rows: int) -> list[tuple[list[Any], Sitter | None]]:
    """The rows under the header: one per student on the manifest, or blank rows to fill in without a roster."""
    if sitting:
        return [([s.student_id, s.name, s.class_name, s.variant], s) for s in sitting]
    return [(["", "", "", ""], None) for _ in range(blank_rows)]


def _extra_cells(manifest: Manifest, sitter: Sitter | None) -> list[str]:
    """A row's roster columns beyond 学号, 姓名 and 班级, in the header's order."""
    titles = headers(manifest)[len(FIXED) + len(next(iter(manifest.papers.values()))["points"]) + 1 :]
    values = dict(sitter.extra) if sitter is not None else {}
    return [values.get(title, "") for title in titles]


def write_xlsx(manifest: Manifest, questions: dict, blank_rows: int = SHEET_ROWS) -> bytes:
    """scores.xlsx: frozen header, per-cell validation (0…max, or an answer where the item is keyed), totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    sitting = sitters(manifest, questions)
    names = headers(manifest)
    first = len(FIXED)
    count = len(next(iter(manifest.papers.values()))["points"])
    workbook = Workbook()
    sheet = workbook.create_sheet(SHEET, 0)
    workbook.remove(workbook.worksheets[1])  # the default empty sheet
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    sheet.freeze_panes = f"{_column_letter(first)}2"
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 10
    sheet.column_dimensions["D"].width = 6
    for offset in range(len(names) - first):
        sheet.column_dimensions[_column_letter(first + offset)].width = 7 if offset < count else 10
    default_variant = next(iter(manifest.papers))
    for row, (values, sitter) in enumerate(sheet_rows(manifest, sitting, blank_rows), start=2):
        slots = sitter.slots if sitter else paper_slots(manifest, questions, default_variant)
        sheet.append([*values, *([None] * count), None, *_extra_cells(manifest, sitter)])
        if sitter is not None or len(manifest.papers) == 1:
            sheet.cell(
                row=row, column=first + count + 1, value=total_formula(slots, row, first, manifest.options.rules)
            )
    # Validation per column: points in range everywhere; answers (letters, √ ×) where the item is keyed.
    last = sheet.max_row
    slots = paper_slots(manifest, questions, default_variant)
    for offset, slot in enumerate(slots):
        column = _column_letter(first + offset)
        cell = f"{column}2"
        if any(s.slots[offset].takes_letters for s in sitting) or (not sitting and slot.takes_letters):
            rule = DataValidation(
                type="custom",
                formula1=f"OR(AND(ISNUMBER({cell}),{cell}>=0,{cell}<={slot.points}),ISTEXT({cell}))",
                allow_blank=True,
            )
        else:
            rule = DataValidation(type="decimal", operator="between", formula1="0", formula2=str(slot.points))
            rule.allow_blank = True
        rule.error = label("sheet_invalid", points=slot.points)
        rule.showErrorMessage = True
        sheet.add_data_validation(rule)
        rule.add(f"{column}2:{column}{last}")
    variants = DataValidation(type="list", formula1=_quoted(",".join(manifest.papers)), allow_blank=False)
    sheet.add_data_validation(variants)
    variants.add(f"D2:D{last}")
    meta = workbook.create_sheet(META_SHEET)
    meta.append(["exam_id", manifest.exam_id])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    return fixed_zip(out.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """The xlsx with fixed member timestamps and no created/modified times: the same exam gives the same bytes."""
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, body)
    return out.getvalue()


def write_csv(manifest: Manifest, questions: dict, blank_rows: int = SHEET_ROWS) -> bytes:
    """scores.csv (UTF-8 with BOM, so Excel and WPS open it as Chinese): the same columns without the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    count = len(next(iter(manifest.papers.values()))["points"])
    names = headers(manifest)
    writer.writerow([*names[: len(FIXED) + count], *names[len(FIXED) + count + 1 :]])
    for values, sitter in sheet_rows(manifest, sitters(manifest, questions), blank_rows):
        writer.writerow([*values, *([""] * count), *_extra_cells(manifest, sitter)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---- reading back --------------------------------------------------------------------------------------------


def read_cells(path: Path) -> tuple[str, list[tuple[int, list[Any]]], str]:
    """The sheet's rows as (row number, cells) with the sheet's name and the exam id it was made for ('' if none)."""
    if path.suffix.lower() == ".csv":
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="strict")
        lines: list[list[Any]] = list(csv.reader(io.StringIO(text)))
        return "csv", list(enumerate(lines, start=1)), ""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    if SHEET not in workbook.sheetnames:
        raise ScoreSheetError([f"{path}: no sheet named {SHEET}; give the scores.xlsx that paperkit scoresheet wrote"])
    exam_id = ""
    if META_SHEET in workbook.sheetnames:
        for meta in workbook[META_SHEET].iter_rows(values_only=True):
            if meta and meta[0] == "exam_id":
                exam_id = str(meta[1])
    rows = [(n, list(row)) for n, row in enumerate(workbook[SHEET].iter_rows(values_only=True), start=1)]
    workbook.close()
    return SHEET, rows, exam_id


def _csv_value(value: Any) -> Any:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def read_scores(path: Path, manifest: Manifest, questions: dict) -> list[SheetRow]:
    """Every student's marks from a filled score sheet; all problems at once as a ScoreSheetError."""
    if not path.is_file():
        raise ScoreSheetError([f"{path}: no such file; give the scores.xlsx or scores.csv of this exam"])
    try:
        sheet, rows, exam_id = read_cells(path)
    except ScoreSheetError:
        raise
    except Exception as error:  # openpyxl and zipfile raise many types for a damaged file
        raise ScoreSheetError([f"{path}: not a readable score sheet ({type(error).__name__}: {error})"]) from None
    where = (
        (lambda row, col: f"{path}:{row}: column {col}")
        if sheet == "csv"
        else (lambda row, col: f"{path}: sheet {sheet}, row {row}, column {col}")
    )
    if exam_id and exam_id != manifest.exam_id:
        raise ScoreSheetError([f"{path}: this sheet is for exam {exam_id}, not {manifest.exam_id}"])
    expected = headers(manifest)
    count = len(next(iter(manifest.papers.values()))["points"])
    problems: list[str] = []
    if not rows:
        raise ScoreSheetError([f"{path}: the sheet is empty; expected the header row {','.join(expected[:5])}…"])
    header_row, header = rows[0]
    shown = [str(c).strip() if c is not None else "" for c in header]
    for index, name in enumerate(expected[: len(FIXED) + count]):
        if index >= len(shown) or shown[index] != name:
            found = shown[index] if index < len(shown) else "nothing"
            found = found or "an empty cell"
            problems.append(f"{where(header_row, _column_letter(index))}: expected the header {name}, found {found}")
    if problems:
        raise ScoreSheetError(problems)
    roster = {s.student_id: s for s in sitters(manifest, questions)}
    seen: dict[str, int] = {}
    result: list[SheetRow] = []
    for number, cells in rows[1:]:
        values = [*cells, *([None] * (len(FIXED) + count - len(cells)))]
        student_id, name, class_name, variant = (str(v).strip() if v is not None else "" for v in values[: len(FIXED)])
        scores = values[len(FIXED) : len(FIXED) + count]
        if sheet == "csv":  # a CSV cell has no type: what reads as a number is points
            scores = [_csv_value(v) for v in scores]
        blank = all(v is None or (isinstance(v, str) and not v.strip()) for v in scores)
        if not student_id and not name and blank:
            continue  # an unused row
        if roster:
            sitter = roster.get(student_id)
            if sitter is None:
                problems.append(f"{where(number, 'A')}: 学号 {student_id or '(empty)'} is not a student of this exam")
                continue
            if variant and variant != sitter.variant:
                problems.append(f"{where(number, 'D')}: 卷型 {variant}, but {sitter.name} sat paper {sitter.variant}")
                continue
        else:
            if variant not in manifest.papers:
                papers = ", ".join(manifest.papers)
                problems.append(f"{where(number, 'D')}: 卷型 '{variant}' is not one of this exam's papers ({papers})")
                continue
            student_id = student_id or f"row {number}"
            sitter = Sitter(student_id, name, class_name, variant, paper_slots(manifest, questions, variant))
        if sitter.student_id in seen:
            problems.append(f"{where(number, 'A')}: 学号 {sitter.student_id} is also on row {seen[sitter.student_id]}")
            continue
        seen[sitter.student_id] = number
        if blank:
            result.append(SheetRow(sitter, None, number))  # absent (缺考): no marks at all
            continue
        marks: list[Mark] = []
        for offset, (value, slot) in enumerate(zip(scores, sitter.slots, strict=True)):
            try:
                marks.append(score_cell(value, slot, manifest.options.rules))
            except CellProblem as problem:
                problems.append(
                    f"{where(number, _column_letter(len(FIXED) + offset))} ({expected[len(FIXED) + offset]}): {problem}"
                )
                marks.append(Mark(0.0))
        result.append(SheetRow(sitter, tuple(marks), number))
    if problems:
        raise ScoreSheetError(problems)
    return result
