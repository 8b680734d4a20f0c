"""`paperkit scan`: scanned or photographed answer sheets into the exam's score sheet, and a review of what a
person must look at.

Each input page is found and read (sheetread.py), matched to its sheet only by the sheet id its QR code
carries (and, on a sheet printed without a student, the 考号 its student filled in), checked against the
manifest, and kept in `scan.json` beside the manifest under a fingerprint of its pixels: a page scanned again is
the same page (nothing changes), a second batch adds to the first. The answers then go into scores.xlsx (and
scores.csv): a cell the teacher has filled is never changed; an answer that needs a person stays empty,
highlighted, and listed in review.html and review.csv, whose 更正 column `scan --review` applies.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperkit.errors import ScanError, ScoreSheetError, UsageError
from paperkit.exam.manifest import Manifest
from paperkit.exam.sheet import PAGE_H, PAGE_W, SheetLayout, layout_from_data
from paperkit.labels import label
from paperkit.marking.jobs import Marked, open_exam, scoresheet_bytes
from paperkit.marking.options import SHEET_ROWS
from paperkit.output import check_output, write_atomic

MAX_INPUT_BYTES = 200 * 1024 * 1024  # a scanner's PDF of a class is tens of MB
MAX_PIXELS = 60_000_000  # a 48-megapixel phone photo fits; a decompression bomb does not
PDF_DPI = 200  # scanned PDF pages are rendered at this resolution (their scanner's own is usually 200–600)
STATE = "scan.json"
FORMAT = 1


@dataclass
class PageRecord:
    """One input page as scanning left it: where it came from, whose it is, what it says, or why not."""

    source: str
    fingerprint: str
    sheet: str = ""
    page: int = 0
    variant: str = ""
    student_id: str = ""
    problem: str = ""
    quality: dict[str, float] = field(default_factory=dict)
    absent: bool = False
    answers: list[dict[str, Any]] = field(default_factory=list)  # number, value, status, reason, confidence


@dataclass
class ScanReport:
    """What a scan run did: pages read and refused, the answers sent to review, the cells kept as the teacher
    wrote them, and the files written."""

    read: int = 0
    again: int = 0  # pages seen before (the same pixels): nothing changed
    refused: list[str] = field(default_factory=list)  # one line each: file, page, why
    review: int = 0
    kept: list[str] = field(default_factory=list)  # cells the teacher had filled differently
    missing: list[str] = field(default_factory=list)  # students with a page of their sheet not scanned yet
    written: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the terminal shows it."""
        out = [*self.refused, *self.kept, *self.missing]
        out.append(
            f"{self.read} pages read, {self.again} seen before, {len(self.refused)} refused; "
            f"{self.review} answers to review"
        )
        return out


# -- inputs -----------------------------------------------------------------------------------------------------


def input_pages(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Each page of an input as a grayscale image: every page of a PDF, or one photo (JPEG, PNG, HEIC; turned
    upright by its EXIF orientation). A file that is none of these is a ScanError naming it."""
    if not path.is_file():
        raise ScanError(f"{path}: no such file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise ScanError(f"{path}: larger than {MAX_INPUT_BYTES // 1024 // 1024} MB; split the scan into batches")
    head = path.read_bytes()[:8]
    if head.startswith(b"%PDF"):
        yield from _pdf_pages(path)
        return
    yield path.name, _photo(path)


def _pdf_pages(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(path))
    except Exception as error:  # pdfium raises its own error types for damaged files
        raise ScanError(f"{path}: not a readable PDF ({error})") from None
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            scale = PDF_DPI / 72
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (width * height)) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            yield f"{path.name}#{index + 1}", np.array(bitmap.to_pil().convert("L"))
    finally:
        document.close()


def _photo(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # HEIC is read where the wheel exists; other formats need nothing more
        pass
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image)
            return np.array(upright.convert("L"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ScanError(f"{path}: not a photo or scan paperkit can read ({error})") from None


def fingerprint(image: np.ndarray) -> str:
    """A page's identity by its pixels (downsampled, so a re-encoded copy of the same scan matches)."""
    import cv2

    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    return hashlib.sha256((small // 8).astype(np.uint8).tobytes()).hexdigest()[:24]


# -- reading a page ---------------------------------------------------------------------------------------------


@dataclass
class Exam:
    """The exam being scanned: its manifest, each variant's layout, the sheets by id, and blank renderings."""

    marked: Marked
    folder: Path
    layouts: dict[str, SheetLayout]
    sheets: dict[str, dict[str, str]]
    blanks: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)

    @property
    def manifest(self) -> Manifest:
        """The exam's manifest."""
        return self.marked.manifest

    def blank(self, sheet: str, page: int) -> np.ndarray:
        """The sheet's page as paperkit printed it, read the same way a scan is (the baseline of every box)."""
        holder = self.sheets[sheet]
        key = (holder["variant"] if not holder["student_id"] else sheet, page)
        if key not in self.blanks:
            self.blanks[key] = _render_blank(self._sheet_pdf(holder), page)
        return self.blanks[key]

    def _sheet_pdf(self, holder: dict[str, str]) -> Path:
        for student in self.manifest.students:
            if student["student_id"] == holder["student_id"]:
                from paperkit.exam.plan import student_file

                name = student_file(_student(student)).replace("students/", "sheets/", 1)
                return self.folder / name
        variants = list(self.manifest.papers)
        return self.folder / ("sheet.pdf" if len(variants) == 1 else f"sheet-{holder['variant']}.pdf")


def _student(record: dict[str, Any]) -> Any:
    from paperkit.exam.roster import Student

    return Student(record["name"], record["student_id"], record.get("class", ""), record["variant"])


def _render_blank(pdf: Path, page: int) -> np.ndarray:
    import pypdfium2

    from paperkit.marking.sheetread import SCALE, flatten

    if not pdf.is_file():
        raise ScanError(f"{pdf}: the printed answer sheet is missing; rebuild the exam with --answer-sheet")
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        bitmap = document[page - 1].render(scale=SCALE * 25.4 / 72, grayscale=True)
        image = np.array(bitmap.to_pil().convert("L"))
    finally:
        document.close()
    import cv2

    size = (int(PAGE_W * SCALE), int(PAGE_H * SCALE))
    if image.shape[::-1] != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return flatten(image)


def open_scan_exam(manifest_path: Path, source: Path) -> Exam:
    """The exam a manifest records, with its answer sheets; an exam printed without them is a UsageError."""
    marked = open_exam(manifest_path, source)
    record = marked.manifest.answer_sheet
    if not record:
        raise UsageError(
            f"{manifest_path}: this exam was printed without answer sheets; rebuild it with --answer-sheet to scan"
        )
    layouts = {variant: layout_from_data(data) for variant, data in record["layouts"].items()}
    return Exam(marked, manifest_path.parent, layouts, record["sheets"])


def read_page(exam: Exam, source: str, image: np.ndarray) -> PageRecord:
    """One page: found, identified by its sheet id, and every question of its layout on it decided."""
    from paperkit.marking.sheetread import decide_question, find_page, read_boxes

    record = PageRecord(source, fingerprint(image))
    found = find_page(image, source)
    record.quality = {
        "markers": float(found.markers),
        "reprojection_mm": round(found.reprojection_mm, 3),
        "sharpness": round(found.sharpness, 1),
        "dpi": round(found.px_per_mm * 25.4),
    }
    if found.problem:
        record.problem = found.problem
        return record
    if found.qr is None:
        record.problem = "its QR code cannot be read; type its sheet id (printed under the code) into review.csv"
        return record
    sheet, page = found.qr
    holder = exam.sheets.get(sheet)
    if holder is None:
        record.problem = f"sheet {sheet} is not a sheet of exam {exam.manifest.exam_id}"
        return record
    layout = exam.layouts[holder["variant"]]
    if not 1 <= page <= layout.pages:
        record.problem = f"sheet {sheet} has {layout.pages} pages, not a page {page}"
        return record
    record.sheet, record.page, record.variant = sheet, page, holder["variant"]
    record.student_id = holder["student_id"]
    boxes = [b for b in layout.boxes if b.page == page]
    readings = read_boxes(found.image, exam.blank(sheet, page), boxes)
    if layout.id_digits:
        student_id, problem = _read_id(readings, layout.id_digits)
        if problem:
            record.problem = problem
            return record
        record.student_id = student_id
    record.absent = any(r.box.field == "absent" and r.state == "filled" for r in readings)
    strips = {a.number for a in layout.areas}
    by_question: dict[int, list[Any]] = {}
    for reading in readings:
        if reading.box.field == "q":
            by_question.setdefault(reading.box.number, []).append(reading)
    for number in sorted(by_question):
        answer = decide_question(number, by_question[number], number in layout.singles, number in strips)
        record.answers.append(asdict(answer) | {"crop": _crop(found.image, by_question[number])})
    return record


def _read_id(readings: Sequence[Any], digits: int) -> tuple[str, str]:
    """The 考号 a student filled in on a sheet printed without one: a digit per column, trailing columns empty."""
    columns: dict[int, list[Any]] = {}
    for reading in readings:
        if reading.box.field == "id":
            columns.setdefault(reading.box.number, []).append(reading)
    found: list[str] = []
    for column in range(digits):
        cells = columns.get(column, [])
        filled = [r.box.value for r in cells if r.state == "filled"]
        unclear = [r for r in cells if r.state == "unclear"]
        if unclear or len(filled) > 1:
            return "", f"the 考号 in column {column + 1} is unclear; type the 考号 into review.csv"
        if not filled:
            break
        found.append(filled[0])
    if not found:
        return "", "no 考号 filled in; type the 考号 into review.csv"
    return "".join(found), ""


def _crop(image: np.ndarray, readings: Sequence[Any]) -> str:
    """A question's boxes cut from the straightened page, as a PNG data URI for the review page."""
    import cv2

    from paperkit.marking.sheetread import SCALE

    x0 = min(r.box.x for r in readings) - 9.0
    x1 = max(r.box.x + r.box.w for r in readings) + 2.0
    y0 = min(r.box.y for r in readings) - 1.5
    y1 = max(r.box.y + r.box.h for r in readings) + 1.5
    crop = image[int(max(0, y0) * SCALE) : int(y1 * SCALE), int(max(0, x0) * SCALE) : int(x1 * SCALE)]
    ok, data = cv2.imencode(".png", np.clip(crop * 255, 0, 255).astype(np.uint8))
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else ""


# -- the run ----------------------------------------------------------------------------------------------------


def _load_state(path: Path, exam_id: str) -> dict[str, Any]:
    if not path.is_file():
        return {"paperkit_scan": FORMAT, "exam_id": exam_id, "pages": {}, "corrections": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScanError(f"{path}: not a readable scan record ({error}); move it away to start over") from None
    if not isinstance(state, dict) or state.get("paperkit_scan") != FORMAT or state.get("exam_id") != exam_id:
        raise ScanError(f"{path}: a scan record of another exam or format; move it away to start over")
    state.setdefault("corrections", {})
    return state


def scan(
    manifest_path: Path, inputs: Sequence[Path], source: Path, review: Path | None = None, rows: int = SHEET_ROWS
) -> ScanReport:
    """Read the inputs (and a filled review.csv) into the exam's scan record and its score sheet."""
    exam = open_scan_exam(manifest_path, source)
    folder = manifest_path.parent
    outputs = [folder / name for name in (STATE, "scores.xlsx", "scores.csv", "review.html", "review.csv")]
    for path in outputs:
        check_output(path, inputs=[*inputs, manifest_path])
    state = _load_state(folder / STATE, exam.manifest.exam_id)
    report = ScanReport()
    if review is not None:
        _apply_review(review, state, exam)
    for path in inputs:
        for name, image in input_pages(path):
            record = read_page(exam, name, image)
            previous = state["pages"].get(record.fingerprint)
            if previous is not None:
                report.again += 1
                continue
            if record.problem:
                report.refused.append(f"{name}: {record.problem}")
            else:
                clash = _same_page(state, record)
                if clash:
                    report.refused.append(
                        f"{name}: page {record.page} of sheet {record.sheet} was already read from {clash}; "
                        "kept the first"
                    )
                    continue
                report.read += 1
            state["pages"][record.fingerprint] = asdict(record)
    answers = collect(state, exam)
    report.missing = _missing_pages(state, exam)
    report.review = sum(1 for a in answers.values() for x in a["answers"].values() if x["status"] == "review")
    xlsx, csv_bytes, kept = merge_scores(folder, exam, answers, rows)
    report.kept = kept
    write_atomic(folder / STATE, (json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode())
    write_atomic(folder / "scores.xlsx", xlsx)
    write_atomic(folder / "scores.csv", csv_bytes)
    page, table = review_files(answers, exam)
    write_atomic(folder / "review.html", page)
    write_atomic(folder / "review.csv", table)
    report.written = outputs
    return report


def _same_page(state: dict[str, Any], record: PageRecord) -> str:
    for other in state["pages"].values():
        same = (other["sheet"], other["page"], other["student_id"]) == (record.sheet, record.page, record.student_id)
        if same and not other["problem"]:
            return str(other["source"])
    return ""


def _missing_pages(state: dict[str, Any], exam: Exam) -> list[str]:
    seen: dict[tuple[str, str], set[int]] = {}
    for page in state["pages"].values():
        if not page["problem"]:
            seen.setdefault((page["sheet"], page["student_id"]), set()).add(page["page"])
    lines = []
    for (sheet, student), pages in sorted(seen.items()):
        total = exam.layouts[exam.sheets[sheet]["variant"]].pages
        gone = [str(p) for p in range(1, total + 1) if p not in pages]
        if gone:
            lines.append(f"sheet {sheet} ({student or 'no 考号'}): page {', '.join(gone)} not scanned yet")
    return lines


def collect(state: dict[str, Any], exam: Exam) -> dict[str, dict[str, Any]]:
    """Every student's answers by question number (corrections from review applied), from the pages read."""
    found: dict[str, dict[str, Any]] = {}
    for page in sorted(state["pages"].values(), key=lambda p: (p["sheet"], p["page"], p["source"])):
        if page["problem"]:
            continue
        entry = found.setdefault(
            page["student_id"], {"variant": page["variant"], "sheet": page["sheet"], "absent": False, "answers": {}}
        )
        entry["absent"] = entry["absent"] or page["absent"]
        for answer in page["answers"]:
            entry["answers"][str(answer["number"])] = answer | {"page": page["page"], "source": page["source"]}
    for key, value in state["corrections"].items():
        student, number = key.split("/")
        if student in found and number in found[student]["answers"]:
            found[student]["answers"][number] = found[student]["answers"][number] | {
                "value": value,
                "status": "corrected",
            }
    return found


def _apply_review(path: Path, state: dict[str, Any], exam: Exam) -> None:
    """A filled review.csv: each row's 更正 becomes that answer (checked against what the question takes)."""
    if not path.is_file():
        raise ScanError(f"{path}: no such file; give the review.csv that paperkit scan wrote")
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ScanError(f"{path}: not a readable review.csv ({error})") from None
    problems = []
    for line, row in enumerate(rows, start=2):
        correction = (row.get("更正") or "").strip()
        if not correction:
            continue
        student, number = (row.get("学号") or "").strip(), (row.get("题号") or "").strip()
        if not number.isdigit():
            problems.append(f"{path}:{line}: 题号 '{number[:8]}' is not a question number")
            continue
        state["corrections"][f"{student}/{number}"] = correction
    if problems:
        raise ScoreSheetError(problems)


# -- the score sheet --------------------------------------------------------------------------------------------


def merge_scores(
    folder: Path, exam: Exam, answers: dict[str, dict[str, Any]], rows: int
) -> tuple[bytes, bytes, list[str]]:
    """scores.xlsx and scores.csv with the scanned answers in every cell still empty; a cell the teacher filled
    is kept as it is (listed when it differs), an answer to review stays empty and highlighted."""
    from openpyxl import load_workbook
    from openpyxl.styles import PatternFill

    from paperkit.marking.scoresheet import FIXED, SHEET, fixed_zip

    xlsx_path = folder / "scores.xlsx"
    base = xlsx_path.read_bytes() if xlsx_path.is_file() else scoresheet_bytes(exam.marked, rows)[0]
    try:
        book = load_workbook(io.BytesIO(base))
        sheet = book[SHEET]
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ScanError(f"{xlsx_path}: not a readable score sheet ({type(error).__name__}); move it away") from None
    first = len(FIXED) + 1
    count = len(next(iter(exam.manifest.papers.values()))["points"])
    by_id = {str(sheet.cell(row=r, column=1).value or "").strip(): r for r in range(2, sheet.max_row + 1)}
    kept: list[str] = []
    review = PatternFill("solid", fgColor="FFF2A8")
    names = {s["student_id"]: s for s in exam.manifest.students}
    for student in sorted(answers):
        entry = answers[student]
        row = by_id.get(student)
        if row is None:
            row = next((r for r in range(2, sheet.max_row + 2) if not sheet.cell(row=r, column=1).value), None)
            if row is None:
                continue
            sheet.cell(row=row, column=1, value=student)
            sheet.cell(row=row, column=4, value=entry["variant"])
            by_id[student] = row
        if entry["absent"]:
            continue  # 缺考: the row stays empty, which the analysis counts as absent
        for number, answer in entry["answers"].items():
            column = first + int(number) - 1
            if not 1 <= int(number) <= count:
                continue
            cell = sheet.cell(row=row, column=column)
            value = answer["value"] if answer["status"] in ("read", "corrected") else None
            if answer["status"] == "review" and cell.value in (None, ""):
                cell.fill = review
                continue
            if value is None or value == "":
                continue
            typed = _typed(value)
            if cell.value in (None, ""):
                cell.value = typed
            elif str(cell.value).strip() != str(typed):
                who = names.get(student, {}).get("name", student)
                kept.append(
                    f"{who} ({student}), question {number}: kept '{cell.value}' as typed; the scan reads '{value}'"
                )
    out = io.BytesIO()
    book.save(out)
    xlsx = fixed_zip(out.getvalue())
    return xlsx, _csv_from(sheet, first + count), kept


def _typed(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _csv_from(sheet: Any, total_column: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else v for v in row]
        writer.writerow([*cells[: total_column - 1], *cells[total_column:]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- review -----------------------------------------------------------------------------------------------------


def review_files(answers: dict[str, dict[str, Any]], exam: Exam) -> tuple[bytes, bytes]:
    """review.html (each answer to check, its boxes cut from the page) and review.csv (fill in 更正)."""
    names = {s["student_id"]: s["name"] for s in exam.manifest.students}
    rows = []
    for student in sorted(answers):
        for number, answer in sorted(answers[student]["answers"].items(), key=lambda kv: int(kv[0])):
            if answer["status"] != "review":
                continue
            rows.append((student, names.get(student, ""), number, answer))
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(["学号", "姓名", "题号", "读取", "原因", "来源", "更正"])
    for student, name, number, answer in rows:
        writer.writerow([student, name, number, answer["value"], answer["reason"], answer["source"], ""])
    items = "".join(
        f"<tr><td>{html.escape(student)}</td><td>{html.escape(name)}</td><td>{number}</td>"
        f'<td><img src="{answer["crop"]}" alt=""></td><td>{html.escape(answer["value"] or "—")}</td>'
        f"<td>{html.escape(answer['reason'])}</td><td>{html.escape(answer['source'])}</td></tr>"
        for student, name, number, answer in rows
    )
    title = html.escape(f"{exam.manifest.title} {label('scan_review_title')}")
    page = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #999;padding:4px 8px}"
        "table{border-collapse:collapse}img{height:3.2em}</style></head><body>"
        f"<h1>{title}</h1><p>{html.escape(label('scan_review_note'))}</p>"
        "<table><tr><th>学号</th><th>姓名</th><th>题号</th><th>答题卡</th><th>读取</th><th>原因</th><th>来源</th></tr>"
        f"{items}</table></body></html>\n"
    )
    return page.encode("utf-8"), ("\ufeff" + table.getvalue()).encode("utf-8")
