"""The score sheet of an exam (scores.xlsx and scores.csv): written from the manifest, read back checked.

One row per student, one column per question in printed order (the same positions on every variant,
which is what the teacher marks from); the row's 卷型 says which item each column holds. Reading
collects every problem with its sheet, row and column before anything is analysed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paperkit.errors import CellProblem, ScoreSheetError, WorkbookError
from paperkit.exam.manifest import Manifest, question_names
from paperkit.exam.roster import MAX_ROSTER_ROWS
from paperkit.exam.workbook import Limits, csv_rows, decode_text, read_file, read_xlsx
from paperkit.i18n import _
from paperkit.labels import label, numeral
from paperkit.marking.grading import Sitter, Slot, full_marks, paper_slots, score_cell, sitters
from paperkit.marking.options import SHEET_ROWS
from paperkit.output import fixed_zip
from paperkit.questions.kind import Mark
from paperkit.questions.registry import kind_of

SHEET = "成绩"
KEY_SHEET = "答案"  # the printed keys, one row per paper (visible, protected: a correction re-scores every row)
NORMAL_SHEET = "规范"  # hidden: each typed answer in its canonical form (full-width, spaces, √/对/T alike)
ROW_KEY_SHEET = "键"  # hidden: each row's key, looked up from 答案 by 学号 or 卷型
POINTS_SHEET = "得分"  # hidden: each cell's points
META_SHEET = "paperkit"
FIXED = ("student_id", "name", "class", "variant")  # the columns before the questions, as labels name them
HEADER_ROWS = 2  # the 大题 row, then the question row
FIRST_ROW = HEADER_ROWS + 1


@dataclass(frozen=True)
class SheetRow:
    """A student's row as read back: who, which paper, and each question's mark (None: the row was blank)."""

    sitter: Sitter
    marks: tuple[Mark, ...] | None
    row: int


@dataclass(frozen=True)
class Part:
    """A 大题 of the sheet: its heading, its question columns (0-based offsets among the questions), its points."""

    title: str
    first: int
    last: int
    points: int  # what it adds to the 满分 (a 选做题: its `choose` items; a 附加题: its own points, outside it)
    objective: bool
    role: str = ""  # "" counted, "choose" (the best `choose` of its items count), "bonus" (附加题)
    choose: int = 0

    def score(self, points: Sequence[float]) -> float:
        """What a student scored on this part, from every question's points in paper order."""
        values = list(points[self.first : self.last + 1])
        return sum(sorted(values, reverse=True)[: self.choose]) if self.role == "choose" else sum(values)


@dataclass(frozen=True)
class Columns:
    """Where everything sits on the 成绩 sheet (1-based column numbers)."""

    count: int  # questions
    parts: tuple[Part, ...]
    subtotals: tuple[str, ...]  # the headers after the questions, before 总分
    extra: tuple[str, ...]  # the roster's other columns

    @property
    def first(self) -> int:
        """The first question's column."""
        return len(FIXED) + 1

    @property
    def total(self) -> int:
        """The 总分 column."""
        return self.first + self.count + len(self.subtotals)

    @property
    def rank(self) -> int:
        """The 名次 column."""
        return self.total + 1


def paper_parts(slots: Sequence[Slot]) -> tuple[Part, ...]:
    """The 大题 of a paper: runs of questions of one part kind (a kind, or 组合题) and role, in printed order,
    numbered 一、二、…"""

    def part_of(slot: Slot) -> tuple[str, str]:
        return slot.part_kind or slot.kind, slot.role

    parts: list[Part] = []
    start = 0
    for index in range(1, len(slots) + 1):
        first = slots[start]
        if index == len(slots) or part_of(slots[index]) != part_of(first):
            kind = kind_of(part_of(first)[0])
            each = [slot.points for slot in slots[start:index]]
            points = sum(sorted(each, reverse=True)[: first.choose]) if first.role == "choose" else sum(each)
            name = f"sheet_part_{first.role}" if first.role else "sheet_part"
            title = label(name, numeral=numeral(len(parts)), name=kind.part_name)
            parts.append(Part(title, start, index - 1, points, kind.objective, first.role, first.choose))
            start = index
    return tuple(parts)


def columns(manifest: Manifest, questions: dict) -> Columns:
    """The sheet's columns: questions, a subtotal per 大题 (when more than one), 客观 and 主观 (when both), 总分."""
    slots = paper_slots(manifest, questions, next(iter(manifest.papers)))
    parts = paper_parts(slots)
    subtotals = []
    if len(parts) > 1:
        subtotals += [
            label(f"sheet_part_total{'_bonus' if p.role == 'bonus' else ''}", numeral=numeral(i), points=p.points)
            for i, p in enumerate(parts)
        ]
    objective = sum(p.points for p in parts if p.objective and p.role != "bonus")
    subjective = sum(p.points for p in parts if not p.objective and p.role != "bonus")
    if objective and subjective:
        subtotals += [label("sheet_objective", points=objective), label("sheet_subjective", points=subjective)]
    extra = tuple(dict.fromkeys(title for s in manifest.students for title in s.get("extra", {})))
    return Columns(len(slots), parts, tuple(subtotals), extra)


def headers(manifest: Manifest, questions: dict | None = None) -> list[str]:
    """The question row: the student columns, 「1（2分）」 per question, the subtotals, 总分, 名次, then the roster's
    other columns (after them, so the questions are always in the same columns)."""
    paper = next(iter(manifest.papers.values()))
    fixed = [label(f"sheet_{name}") for name in FIXED]
    names = zip(question_names(paper), paper["points"], strict=True)
    asked = [label("sheet_question", number=n, points=p) for n, p in names]
    if questions is None:
        return [*fixed, *asked]
    layout = columns(manifest, questions)
    total = label("sheet_total", points=full_marks(paper_slots(manifest, questions, next(iter(manifest.papers)))))
    return [*fixed, *asked, *layout.subtotals, total, label("sheet_rank"), *layout.extra]


def _column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet column name (0 → A, 26 → AA)."""
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _col(number: int) -> str:
    """A 1-based column number as its letters."""
    return _column_letter(number - 1)


def sheet_rows(manifest: Manifest, sitting: Sequence[Sitter], blank_rows: int) -> list[tuple[list[Any], Sitter | None]]:
    """The rows under the header: one per student on the manifest, or blank rows to fill in without a roster."""
    if sitting:
        return [([s.student_id, s.name, s.class_name, s.variant], s) for s in sitting]
    return [(["", "", "", ""], None) for _ in range(blank_rows)]


def _extra_cells(layout: Columns, sitter: Sitter | None) -> list[str]:
    """A row's roster columns beyond 学号, 姓名 and 班级, in the header's order."""
    values = dict(sitter.extra) if sitter is not None else {}
    return [values.get(title, "") for title in layout.extra]


def key_rows(manifest: Manifest, questions: dict) -> list[tuple[str, str, str, str, tuple[Slot, ...]]]:
    """The 答案 sheet's rows: (lookup, 卷型, 学号, 姓名, slots) for each paper, then for each student whose option
    order differs from their paper's (a roster printed with options shuffled per student)."""
    rows = []
    papers = {v: paper_slots(manifest, questions, v) for v in manifest.papers}
    for variant, slots in papers.items():
        rows.append((label("sheet_key_row_variant", variant=variant), variant, "", "", slots))
    for sitter in sitters(manifest, questions):
        if [s.order for s in sitter.slots] != [s.order for s in papers[sitter.variant]]:
            lookup = label("sheet_key_row_student", student_id=sitter.student_id)
            rows.append((lookup, sitter.variant, sitter.student_id, sitter.name, sitter.slots))
    return rows


def _sum(ranges: Sequence[tuple[int, int]], row: int) -> str:
    """SUM over runs of question columns (0-based offsets) of the 得分 sheet on one row."""
    cells = ",".join(
        f"{POINTS_SHEET}!{_col(len(FIXED) + 1 + a)}{row}:{_col(len(FIXED) + 1 + b)}{row}" for a, b in ranges
    )
    return f"SUM({cells})"


def _runs(parts: Sequence[Part], objective: bool | None = None) -> list[tuple[int, int]]:
    """The question columns of the counted parts (objective or not, or all), neighbouring parts joined into one
    run; a 选做题 or 附加题 is summed its own way, or not at all."""
    runs: list[tuple[int, int]] = []
    for part in parts:
        if part.role or (objective is not None and part.objective != objective):
            continue
        if runs and runs[-1][1] + 1 == part.first:
            runs[-1] = (runs[-1][0], part.last)
        else:
            runs.append((part.first, part.last))
    return runs


def _part_sum(part: Part, row: int) -> str:
    """A part's points on one row: a SUM, or for a 选做题 the sum of its best `choose` items (every cell of the
    scoring sheet holds a number, so LARGE always finds them)."""
    if part.role != "choose":
        return _sum([(part.first, part.last)], row)
    cells = f"{POINTS_SHEET}!{_col(len(FIXED) + 1 + part.first)}{row}:{_col(len(FIXED) + 1 + part.last)}{row}"
    return "+".join(f"LARGE({cells},{k})" for k in range(1, part.choose + 1))


def _counted_sum(parts: Sequence[Part], row: int, objective: bool | None = None) -> str:
    """The counted points of the parts (objective or not, or all) on one row: no 附加题, a 选做题's best items."""
    terms = [_sum(_runs(parts, objective), row)] if _runs(parts, objective) else []
    terms += [
        _part_sum(p, row) for p in parts if p.role == "choose" and (objective is None or p.objective == objective)
    ]
    return "+".join(terms)


def write_xlsx(manifest: Manifest, questions: dict, blank_rows: int = SHEET_ROWS) -> bytes:
    """scores.xlsx: what the teacher fills (成绩), the printed keys (答案), and hidden sheets that score each cell,
    so every formula stays short and a corrected key re-scores every row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    rules = manifest.options.rules
    sitting = sitters(manifest, questions)
    layout = columns(manifest, questions)
    names = headers(manifest, questions)
    first, count = layout.first, layout.count
    rows = sheet_rows(manifest, sitting, blank_rows)
    last = HEADER_ROWS + len(rows)
    keys = key_rows(manifest, questions)
    key_last = 2 + len(keys)
    default_slots = paper_slots(manifest, questions, next(iter(manifest.papers)))

    workbook = Workbook()
    sheet = workbook.create_sheet(SHEET, 0)
    workbook.remove(workbook.worksheets[1])  # the default empty sheet
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin", color="999999")

    # Row 1: the exam's title over the student columns, each 大题 over its questions, 小计 over the subtotals.
    sheet.cell(row=1, column=1, value=manifest.title)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(FIXED))
    for part in layout.parts:
        sheet.cell(row=1, column=first + part.first, value=part.title)
        if part.last > part.first:
            sheet.merge_cells(start_row=1, start_column=first + part.first, end_row=1, end_column=first + part.last)
    if layout.subtotals:
        sheet.cell(row=1, column=first + count, value=label("sheet_subtotals"))
        if len(layout.subtotals) > 1:
            sheet.merge_cells(
                start_row=1, start_column=first + count, end_row=1, end_column=first + count + len(layout.subtotals) - 1
            )
    for column, name in enumerate(names, start=1):
        sheet.cell(row=2, column=column, value=name)
    for header_row in (1, 2):
        for cell in sheet[header_row]:
            cell.font, cell.alignment, cell.fill = bold, centre, grey
            cell.border = Border(bottom=thin, right=thin)
    sheet.freeze_panes = f"{_col(first)}{FIRST_ROW}"
    for letter, width in zip("ABCD", (14, 10, 10, 6), strict=True):
        sheet.column_dimensions[letter].width = width
    for offset in range(len(names) - len(FIXED)):
        width = 7 if offset < count else 10
        sheet.column_dimensions[_col(first + offset)].width = width

    normal = workbook.create_sheet(NORMAL_SHEET)
    row_key = workbook.create_sheet(ROW_KEY_SHEET)
    scored = workbook.create_sheet(POINTS_SHEET)
    lookup_range = f"{KEY_SHEET}!$A$1:$A${key_last}"
    for row, (values, sitter) in enumerate(rows, start=FIRST_ROW):
        slots = sitter.slots if sitter else default_slots
        for column, value in enumerate([*values, *([None] * count)], start=1):
            sheet.cell(row=row, column=column, value=value)
        questions_range = f"${_col(first)}{row}:${_col(first + count - 1)}{row}"
        total = f"{_col(layout.total)}{row}"
        cells = [
            f'=IF(COUNTA({questions_range})=0,"",{_counted_sum(layout.parts, row, o)})'
            for o in (True, False)
            if _counted_sum(layout.parts, row, o)
        ]
        parts = [f'=IF({total}="","",{_part_sum(p, row)})' for p in layout.parts]
        subtotal_cells = ([*parts] if len(layout.parts) > 1 else []) + (cells if len(cells) == 2 else [])
        everything = _counted_sum(layout.parts, row)
        for column, value in enumerate(
            [
                *subtotal_cells,
                f'=IF(COUNTA({questions_range})=0,"",{everything})',
                f'=IF(ISNUMBER({total}),RANK({total},${_col(layout.total)}${FIRST_ROW}:${_col(layout.total)}${last}),"")',
                *_extra_cells(layout, sitter),
            ],
            start=first + count,
        ):
            sheet.cell(row=row, column=column, value=value)
        # 键: which 答案 row holds this row's key (the student's own, else their paper's), then each question's key.
        row_key.cell(
            row=row,
            column=2,
            value=f'=IFERROR(MATCH("{label("sheet_key_row_student", student_id="")}"&{SHEET}!$A{row},{lookup_range},0),'
            f'MATCH("{label("sheet_key_row_variant", variant="")}"&{SHEET}!$D{row},{lookup_range},0))',
        )
        for offset, slot in enumerate(slots):
            letters = _col(first + offset)
            typed = f"{SHEET}!{letters}{row}"
            kind = kind_of(slot.kind)
            takes = slot.takes_letters if sitter else _any_takes(manifest, questions, offset)
            if not takes:
                scored[f"{letters}{row}"] = f"=N({typed})"
                continue
            key_cell = f"INDEX({KEY_SHEET}!{letters}$1:{letters}${key_last},$B{row})"
            row_key[f"{letters}{row}"] = f"={kind.normal_formula(key_cell)}"
            answer, key = f"{NORMAL_SHEET}!{letters}{row}", f"{ROW_KEY_SHEET}!{letters}{row}"
            normal[f"{letters}{row}"] = (
                f'=IF(ISNUMBER({typed}),"",{kind.keyed_formula(kind.normal_formula(typed), key)})'
            )
            options = len(slot.order) if sitter else _most_options(manifest, questions, offset)
            judged = kind.judge_formula(answer, key, slot.points, rules, options)
            scored[f"{letters}{row}"] = f'=IF(ISNUMBER({typed}),{typed},IF({answer}="",0,{judged}))'

    # Validation per column: points in range everywhere; answers (letters, √ ×) where the item takes one.
    for offset, slot in enumerate(default_slots):
        letters = _col(first + offset)
        cell = f"{letters}{FIRST_ROW}"
        if any(s.slots[offset].takes_letters for s in sitting) or _any_takes(manifest, questions, offset):
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
        rule.add(f"{letters}{FIRST_ROW}:{letters}{last}")
    variants = DataValidation(type="list", formula1=_quoted(",".join(manifest.papers)), allow_blank=False)
    sheet.add_data_validation(variants)
    variants.add(f"D{FIRST_ROW}:D{last}")

    # Print: landscape, one page wide, both header rows and the names on every page, page numbers.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"1:{HEADER_ROWS}"
    sheet.print_title_cols = "A:B"
    sheet.oddFooter.center.text = label("sheet_footer_pages")
    sheet.oddHeader.center.text = manifest.title

    _write_keys(workbook.create_sheet(KEY_SHEET, 1), keys, manifest, layout, bold, grey)
    _as_text(sheet, lambda row, column: row <= HEADER_ROWS or column < first + count or column > layout.rank)
    _as_text(workbook[KEY_SHEET], lambda row, column: True)
    for hidden in (normal, row_key, scored):
        hidden.sheet_state = "hidden"
        hidden.protection.sheet = True
    meta = workbook.create_sheet(META_SHEET)
    meta.append(["exam_id", manifest.exam_id])
    meta.append(["fingerprint", fingerprint(manifest)])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    return fixed_zip(out.getvalue())


def _as_text(sheet: Any, literal: Callable[[int, int], bool]) -> None:
    """Keep roster values and titles text: openpyxl turns any string starting with 「=」 into a live formula, so a
    name like =HYPERLINK(…) would run in the teacher's spreadsheet (formula injection)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" and literal(cell.row, cell.column):
                cell.data_type = "s"


def _any_takes(manifest: Manifest, questions: dict, offset: int) -> bool:
    """Whether the question at this position takes a typed answer on any paper (a sheet without a roster)."""
    return any(paper_slots(manifest, questions, v)[offset].takes_letters for v in manifest.papers)


def _most_options(manifest: Manifest, questions: dict, offset: int) -> int:
    """The most options the question at this position has on any paper."""
    return max(len(paper_slots(manifest, questions, v)[offset].order) for v in manifest.papers)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _write_keys(sheet: Any, keys: list, manifest: Manifest, layout: Columns, bold: Any, grey: Any) -> None:
    """The 答案 sheet: a header, each question's points, then each paper's printed key (protected, no password)."""
    first = layout.first
    header = [
        label("sheet_key_lookup"),
        label("sheet_variant"),
        label("sheet_student_id"),
        label("sheet_name"),
        *[str(n) for n in range(1, layout.count + 1)],
    ]
    sheet.append(header)
    points = next(iter(manifest.papers.values()))["points"]
    sheet.append([label("sheet_key_points"), "", "", "", *points])
    for lookup, variant, student_id, name, slots in keys:
        sheet.append([lookup, variant, student_id, name, *[slot.sheet_key or None for slot in slots]])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, grey
    sheet.cell(row=len(keys) + 4, column=1, value=label("sheet_key_note"))
    sheet.column_dimensions["A"].width = 14
    for offset in range(layout.count):
        sheet.column_dimensions[_col(first + offset)].width = 7
    sheet.freeze_panes = f"{_col(first)}2"
    sheet.protection.sheet = True


CHECK_PREFIX = "paperkit "  # the CSV's last header: the exam and its fingerprint, to refuse another exam's sheet


def _another_exam(exam_id: str) -> str:
    """Why a sheet of another exam or class is refused (the end of a message that names the sheet)."""
    return _(
        "this sheet was written for another exam or class; give the one `paperkit scoresheet` wrote for {manifest}"
    ).format(manifest=exam_id)


STRANGERS = 3  # more rows than this whose names are not the roster's: the whole sheet is another class's


def fingerprint(manifest: Manifest) -> str:
    """A short digest of what a sheet must match: the exam, each paper's questions, points and option orders, and
    the roster (学号, 姓名, 卷型) — two classes or two seeds of one blueprint never share it."""
    record = {
        "exam": manifest.exam_id,
        "papers": manifest.papers,
        "students": [[s.get("student_id", ""), s.get("name", ""), s.get("variant", "")] for s in manifest.students],
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def check_header(manifest: Manifest) -> str:
    """The CSV's last header cell, 「paperkit <exam id> <fingerprint>」."""
    return f"{CHECK_PREFIX}{manifest.exam_id} {fingerprint(manifest)}"


def write_csv(manifest: Manifest, questions: dict, blank_rows: int = SHEET_ROWS) -> bytes:
    """scores.csv (UTF-8 with BOM, so Excel and WPS open it as Chinese): the student and question columns and the
    roster's others; no formulas (paperkit scores it when it reads it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    layout = columns(manifest, questions)
    writer.writerow([*headers(manifest), *map(csv_safe, layout.extra), check_header(manifest)])
    for values, sitter in sheet_rows(manifest, sitters(manifest, questions), blank_rows):
        writer.writerow([*map(csv_safe, values), *([""] * layout.count), *map(csv_safe, _extra_cells(layout, sitter))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula when a CSV is opened


def csv_safe(value: str) -> str:
    """A text cell for a CSV, neutralised as OWASP advises: one starting like a formula gets a leading 「'」."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_unsafe(value: str) -> str:
    """A CSV cell as it was before csv_safe."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


# ---- reading back --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cells:
    """A score sheet's cells as read: its sheet name, rows (number, values), exam id, and 答案 rows by lookup."""

    sheet: str
    rows: list[tuple[int, list[Any]]]
    exam_id: str = ""
    keys: dict[str, tuple[int, list[Any]]] = field(default_factory=dict)
    fingerprint: str = ""  # of the exam and roster the sheet was written for ('' in older sheets)


# What a filled sheet may reach: a roster's rows and the header, with slack for rows the teacher adds; the student
# columns, the questions, subtotals and the roster's other columns; its sheets of formulas unpacked.
READ_LIMITS = Limits(
    "a score sheet", rows=MAX_ROSTER_ROWS + 1_000, columns=1_024, cells=2_000_000, unpacked=256 * 2**20, file=64 * 2**20
)


def read_cells(path: Path) -> Cells:
    """The sheet's rows, the exam id it was made for ('' if none) and its 答案 sheet (a CSV has neither)."""
    try:
        data = read_file(path, READ_LIMITS)
        if path.suffix.lower() == ".csv":
            text = decode_text(data, str(path), _('save the sheet as "CSV UTF-8", or fill in scores.xlsx'))
            lines: list[list[Any]] = list(csv_rows(text, str(path), READ_LIMITS))
            return Cells("csv", list(enumerate(lines, start=1)))
        workbook = read_xlsx(data, str(path), READ_LIMITS, data_only=False, sheets=(SHEET, KEY_SHEET, META_SHEET))
    except WorkbookError as error:
        raise ScoreSheetError([str(error)]) from None
    if SHEET not in workbook:
        raise ScoreSheetError(
            [
                _("{path}: no sheet named {sheet}; give the scores.xlsx that paperkit scoresheet wrote").format(
                    path=path, sheet=SHEET
                )
            ]
        )
    meta = {str(row[0]): str(row[1]) for row in workbook.get(META_SHEET, []) if len(row) > 1 and row[0]}
    exam_id = meta.get("exam_id", "")
    keys: dict[str, tuple[int, list[Any]]] = {}
    for number, values in enumerate(workbook.get(KEY_SHEET, []), start=1):
        if number > 2 and values and values[0]:
            keys.setdefault(str(values[0]).strip(), (number, list(values[len(FIXED) :])))
    rows = [(n, list(row)) for n, row in enumerate(workbook[SHEET], start=1)]
    return Cells(SHEET, rows, exam_id, keys, meta.get("fingerprint", ""))


def _corrected(sitter: Sitter, cells: Cells, path: Path, problems: list[str], notes: dict[str, str]) -> Sitter:
    """The sitter with the keys the 答案 sheet holds for them, where the teacher corrected one."""
    found = cells.keys.get(label("sheet_key_row_student", student_id=sitter.student_id)) or cells.keys.get(
        label("sheet_key_row_variant", variant=sitter.variant)
    )
    if found is None:
        return sitter
    number, values = found
    slots = list(sitter.slots)
    for offset, slot in enumerate(slots):
        value = values[offset] if offset < len(values) else None
        if not slot.takes_letters or value is None or str(value).strip() == slot.sheet_key:
            continue
        kind = kind_of(slot.kind)
        where = f"{path}: sheet {KEY_SHEET}, row {number}, column {_column_letter(len(FIXED) + offset)}"
        try:
            key = kind.normalise(str(value), slot.item, slot.indices)
        except CellProblem as problem:
            problems.append(_("{where}: the corrected key {problem}").format(where=where, problem=problem))
            continue
        if key != slot.sheet_key:
            slots[offset] = replace(slot, corrected=key)
            notes[where] = _("{where}: question {number}'s key corrected from {old} to {new}").format(
                where=where, number=slot.name, old=slot.sheet_key, new=key
            )
    return replace(sitter, slots=tuple(slots))


def _header_row(rows: list[tuple[int, list[Any]]]) -> int:
    """The index of the question header: the first row whose first cell is 学号 (row 2 now, row 1 in older sheets)."""
    for index, (_number, cells) in enumerate(rows[: HEADER_ROWS + 1]):
        if cells and str(cells[0] or "").strip() == label("sheet_student_id"):
            return index
    return 0


def _csv_value(value: Any) -> Any:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def read_scores(path: Path, manifest: Manifest, questions: dict) -> list[SheetRow]:
    """Every student's marks from a filled score sheet; all problems at once as a ScoreSheetError."""
    return read_sheet(path, manifest, questions).rows


@dataclass(frozen=True)
class Scores:
    """A filled score sheet as read: each row's marks, and what the teacher corrected on its 答案 sheet."""

    rows: list[SheetRow]
    corrections: tuple[str, ...] = ()


def read_sheet(path: Path, manifest: Manifest, questions: dict) -> Scores:
    """Every student's marks, scored against the keys as the sheet's 答案 holds them; problems at once."""
    if not path.is_file():
        raise ScoreSheetError(
            [_("{path}: no such file; give the scores.xlsx or scores.csv of this exam").format(path=path)]
        )
    try:
        cells = read_cells(path)
    except ScoreSheetError:
        raise
    except Exception as error:  # openpyxl and zipfile raise many types for a damaged file
        raise ScoreSheetError(
            [
                _("{path}: not a readable score sheet ({kind}: {error})").format(
                    path=path, kind=type(error).__name__, error=error
                )
            ]
        ) from None
    sheet, exam_id = cells.sheet, cells.exam_id
    rows = cells.rows[_header_row(cells.rows) :]
    notes: dict[str, str] = {}
    where = (
        (lambda row, col: f"{path}:{row}: column {col}")
        if sheet == "csv"
        else (lambda row, col: f"{path}: sheet {sheet}, row {row}, column {col}")
    )
    if exam_id and exam_id != manifest.exam_id:
        raise ScoreSheetError(
            [
                _("{path}: this sheet is for exam {exam}, not {manifest}").format(
                    path=path, exam=exam_id, manifest=manifest.exam_id
                )
            ]
        )
    if cells.fingerprint and cells.fingerprint != fingerprint(manifest):
        raise ScoreSheetError(
            [
                _("{path}: {why} (fingerprint {fingerprint})").format(
                    path=path, why=_another_exam(manifest.exam_id), fingerprint=cells.fingerprint
                )
            ]
        )
    expected = headers(manifest)
    count = len(next(iter(manifest.papers.values()))["points"])
    problems: list[str] = []
    if not rows:
        raise ScoreSheetError(
            [
                _("{path}: the sheet is empty; expected the header row {header}…").format(
                    path=path, header=",".join(expected[:5])
                )
            ]
        )
    header_row, header = rows[0]
    shown = [str(c).strip() if c is not None else "" for c in header]
    for index, name in enumerate(expected[: len(FIXED) + count]):
        if index >= len(shown) or shown[index] != name:
            place = where(header_row, _column_letter(index))
            if index >= len(shown):
                problems.append(_("{where}: expected the header {name}, found nothing").format(where=place, name=name))
            elif not shown[index]:
                problems.append(
                    _("{where}: expected the header {name}, found an empty cell").format(where=place, name=name)
                )
            else:
                problems.append(
                    _("{where}: expected the header {name}, found {found}").format(
                        where=place, name=name, found=shown[index]
                    )
                )
    if problems:
        raise ScoreSheetError(problems)
    if sheet == "csv":
        check = next((c for c in shown if c.startswith(CHECK_PREFIX)), "")
        if check and check != check_header(manifest):
            raise ScoreSheetError(
                [_("{path}: {why} ({check})").format(path=path, why=_another_exam(manifest.exam_id), check=check)]
            )
    roster = {s.student_id: s for s in sitters(manifest, questions)}
    strangers: list[str] = []  # rows whose 姓名 is not the roster's for their 学号
    seen: dict[str, int] = {}
    result: list[SheetRow] = []
    for number, read in rows[1:]:
        values = [*read, *([None] * (len(FIXED) + count - len(read)))]
        student_id, name, class_name, variant = (
            (csv_unsafe(str(v)) if sheet == "csv" else str(v)).strip() if v is not None else ""
            for v in values[: len(FIXED)]
        )
        scores = values[len(FIXED) : len(FIXED) + count]
        if sheet == "csv":  # a CSV cell has no type: what reads as a number is points
            scores = [_csv_value(v) for v in scores]
        blank = all(v is None or (isinstance(v, str) and not v.strip()) for v in scores)
        if not student_id and not name and blank:
            continue  # an unused row
        if roster:
            sitter = roster.get(student_id)
            if sitter is None:
                if student_id:
                    problems.append(
                        _("{where}: 学号 {student} is not a student of this exam").format(
                            where=where(number, "A"), student=student_id
                        )
                    )
                else:
                    problems.append(
                        _("{where}: 学号 (empty) is not a student of this exam").format(where=where(number, "A"))
                    )
                continue
            if name and " ".join(name.split()) != " ".join(sitter.name.split()):
                strangers.append(
                    _("{where}: 学号 {student} is {roster_name} on this exam's roster, not {name}").format(
                        where=where(number, "B"), student=student_id, roster_name=sitter.name, name=name
                    )
                )
                continue
            if variant and variant != sitter.variant:
                problems.append(
                    _("{where}: 卷型 {variant}, but {name} sat paper {sat}").format(
                        where=where(number, "D"), variant=variant, name=sitter.name, sat=sitter.variant
                    )
                )
                continue
        else:
            if variant not in manifest.papers:
                papers = ", ".join(manifest.papers)
                problems.append(
                    _("{where}: 卷型 '{variant}' is not one of this exam's papers ({papers})").format(
                        where=where(number, "D"), variant=variant, papers=papers
                    )
                )
                continue
            student_id = student_id or f"row {number}"
            sitter = Sitter(student_id, name, class_name, variant, paper_slots(manifest, questions, variant))
        sitter = _corrected(sitter, cells, path, problems, notes)
        if sitter.student_id in seen:
            problems.append(
                _("{where}: 学号 {student} is also on row {row}").format(
                    where=where(number, "A"), student=sitter.student_id, row=seen[sitter.student_id]
                )
            )
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
    if len(strangers) > STRANGERS:  # a whole class's names wrong: another class's sheet, said once
        raise ScoreSheetError(
            [
                _("{path}: {count} names are not this exam's roster ({first}, …); {why}").format(
                    path=path,
                    count=len(strangers),
                    first=strangers[0].split(": ", 1)[1],
                    why=_another_exam(manifest.exam_id),
                )
            ]
        )
    problems += strangers
    if problems:
        raise ScoreSheetError(problems)
    return Scores(result, tuple(notes.values()))
