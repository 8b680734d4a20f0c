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
import io
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperkit.errors import ScanError, ScoreSheetError, UsageError
from paperkit.exam.manifest import Manifest
from paperkit.exam.sheet import (
    ID_DIGITS,
    PAGE_H,
    PAGE_W,
    QR_AT,
    QR_SIZE,
    SheetLayout,
    layout_from_data,
    shown_id,
)
from paperkit.labels import label
from paperkit.marking.jobs import Marked, open_exam, scoresheet_bytes
from paperkit.marking.options import SHEET_ROWS
from paperkit.output import check_output, write_atomic

MAX_INPUT_BYTES = 200 * 1024 * 1024  # a scanner's PDF of a class is tens of MB
MAX_PIXELS = 60_000_000  # a 48-megapixel phone photo fits; a decompression bomb does not
PDF_DPI = 200  # scanned PDF pages are rendered at this resolution (their scanner's own is usually 200–600)
STATE = "scan.json"
PAGES = "scan-pages"  # straightened pages whose QR code could not be read, kept for review
ID_ROW = "考号"  # the 题号 of a review row that asks for a page's student
SHEET_ROW = "答题卡编号"  # the 题号 of a review row that asks for a page's printed sheet id
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
    waiting: str = ""  # why the page's sheet is unknown (its QR unreadable): review.csv gives the printed id
    identity: str = ""  # why the 考号 filled in on a blank sheet could not be read ('' when it could)
    identity_read: str = ""  # the digits that could be read, for the review
    identity_crop: str = ""
    answers: list[dict[str, Any]] = field(default_factory=list)  # number, value, status, reason, confidence


@dataclass
class ScanReport:
    """What a scan run did: pages read and refused, the answers sent to review, the cells kept as the teacher
    wrote them, and the files written."""

    read: int = 0
    again: int = 0  # pages seen before (the same pixels): nothing changed
    refused: list[str] = field(default_factory=list)  # one line each: file, page, why
    review: int = 0
    unmarked: int = 0  # score strips with no score marked (yet): their cells stay empty
    kept: list[str] = field(default_factory=list)  # cells the teacher had filled differently
    unnamed: list[str] = field(default_factory=list)  # pages whose 考号 a person must type
    saved: list[Path] = field(default_factory=list)  # score files changed by hand, copied aside before the merge
    missing: list[str] = field(default_factory=list)  # students with a page of their sheet not scanned yet
    written: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the terminal shows it."""
        out = [*self.refused, *self.unnamed, *self.kept, *self.missing]
        out += [f"{path.name}: your edited copy, kept before merging the scan" for path in self.saved]
        out.append(
            f"{self.read} pages read, {self.again} seen before, {len(self.refused)} refused; "
            f"{self.review} answers to review"
        )
        if self.unmarked:
            out.append(f"{self.unmarked} written answers have no score marked on the sheet; their cells stay empty")
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

    small = cv2.resize(image[::4, ::4], (64, 64), interpolation=cv2.INTER_AREA)
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


def read_page(exam: Exam, source: str, image: np.ndarray) -> tuple[PageRecord, np.ndarray | None]:
    """One page: found, identified by its sheet id, and every question of its layout on it decided. A page whose
    QR code cannot be read comes back waiting for its printed id, with its straightened image to keep."""
    from paperkit.marking.sheetread import find_page

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
        return record, None
    if found.qr is None:
        record.waiting = "its QR code cannot be read"
        record.identity_crop = _crop_mm(
            found.image, QR_AT[0] - 4, QR_AT[1] - 3, QR_AT[0] + QR_SIZE + 4, QR_AT[1] + QR_SIZE + 6
        )
        return record, found.image
    read_sheet(exam, record, found.image, *found.qr)
    return record, None


def read_sheet(exam: Exam, record: PageRecord, image: np.ndarray, sheet: str, page: int) -> None:
    """Read a straightened page as page `page` of sheet `sheet` into `record` (or say why it is not one)."""
    from paperkit.marking.sheetread import decide_question, read_boxes

    record.waiting = ""
    holder = exam.sheets.get(sheet)
    if holder is None:
        record.problem = f"sheet {shown_id(sheet)} is not a sheet of exam {exam.manifest.exam_id}"
        return
    layout = exam.layouts[holder["variant"]]
    if not 1 <= page <= layout.pages:
        record.problem = f"sheet {shown_id(sheet)} has {layout.pages} pages, not a page {page}"
        return
    record.sheet, record.page, record.variant = sheet, page, holder["variant"]
    record.student_id = holder["student_id"]
    boxes = [b for b in layout.boxes if b.page == page]
    readings = read_boxes(image, exam.blank(sheet, page), boxes)
    if layout.id_digits:
        # A 考号 that cannot be read does not stop the page: its answers are kept until review.csv names it.
        record.student_id, record.identity = _read_id(readings, layout.id_digits)
        if record.identity:
            record.identity_read = record.student_id
            record.student_id = ""
            record.identity_crop = _crop(image, [r for r in readings if r.box.field == "id"])
    record.absent = any(r.box.field == "absent" and r.state == "filled" for r in readings)
    strips = {a.number for a in layout.areas}
    by_question: dict[int, list[Any]] = {}
    for reading in readings:
        if reading.box.field == "q":
            by_question.setdefault(reading.box.number, []).append(reading)
    record.answers = []
    for number in sorted(by_question):
        answer = decide_question(number, by_question[number], number in layout.singles, number in strips)
        crop = _crop(image, by_question[number]) if answer.status == "review" else ""
        record.answers.append(asdict(answer) | {"crop": crop})


def _read_id(readings: Sequence[Any], digits: int) -> tuple[str, str]:
    """The 考号 a student filled in on a sheet printed without one (a digit per column, trailing columns empty),
    and why not when it cannot be read (with the digits read before the trouble)."""
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
            return "".join(found), label("id_unclear", column=column + 1)
        if not filled:
            later = [c + 1 for c in range(column + 1, digits) if any(r.state != "empty" for r in columns.get(c, []))]
            if later:  # a skipped column is never closed up: 2026_8 is not 20268
                return "".join(found), label("id_gap", column=column + 1, later=later[0])
            break
        found.append(filled[0])
    if not found:
        return "", label("id_none")
    return "".join(found), ""


def _crop(image: np.ndarray, readings: Sequence[Any]) -> str:
    """A question's boxes cut from the straightened page, as a PNG data URI for the review page."""
    x0 = min(r.box.x for r in readings) - 9.0
    x1 = max(r.box.x + r.box.w for r in readings) + 2.0
    y0 = min(r.box.y for r in readings) - 1.5
    y1 = max(r.box.y + r.box.h for r in readings) + 1.5
    return _crop_mm(image, x0, y0, x1, y1)


def _crop_mm(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> str:
    """A rectangle (mm) of the straightened page as a PNG data URI."""
    import cv2

    from paperkit.marking.sheetread import SCALE

    crop = image[int(max(0, y0) * SCALE) : int(y1 * SCALE), int(max(0, x0) * SCALE) : int(x1 * SCALE)]
    ok, data = cv2.imencode(".png", np.clip(crop * 255, 0, 255).astype(np.uint8))
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else ""


# -- the run ----------------------------------------------------------------------------------------------------


def _load_state(path: Path, exam_id: str) -> dict[str, Any]:
    if not path.is_file():
        return {"paperkit_scan": FORMAT, "exam_id": exam_id, "pages": {}, "corrections": {}, "identities": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScanError(f"{path}: not a readable scan record ({error}); move it away to start over") from None
    if not isinstance(state, dict) or state.get("paperkit_scan") != FORMAT or state.get("exam_id") != exam_id:
        raise ScanError(f"{path}: a scan record of another exam or format; move it away to start over")
    for part in ("pages", "corrections", "identities"):
        if not isinstance(state.get(part), dict):
            raise ScanError(f"{path}: a damaged scan record (no '{part}'); move it away to start over")
    return state


def scan(
    manifest_path: Path, inputs: Sequence[Path], source: Path, review: Path | None = None, rows: int = SHEET_ROWS
) -> ScanReport:
    """Read the inputs (and a filled review.csv) into the exam's scan record and its score sheet."""
    if not inputs and review is None:
        raise UsageError("nothing to read: give scanned sheets (PDF, JPEG, PNG, HEIC), or --review review.csv")
    exam = open_scan_exam(manifest_path, source)
    folder = manifest_path.parent
    outputs = [folder / name for name in (STATE, "scores.xlsx", "scores.csv", "review.html", "review.csv")]
    for path in outputs:
        check_output(path, inputs=[*inputs, manifest_path])
    state = _load_state(folder / STATE, exam.manifest.exam_id)
    report = ScanReport()
    kept_images: dict[str, np.ndarray] = {}
    for path in inputs:
        for name, image in input_pages(path):
            record, straight = read_page(exam, name, image)
            if record.fingerprint in state["pages"]:
                report.again += 1
                continue
            if record.problem:  # not kept: a better scan of the page is read next time
                report.refused.append(f"{name}: {record.problem}")
                continue
            clash = _same_page(state, record)
            if clash:
                report.refused.append(
                    f"{name}: page {record.page} of sheet {shown_id(record.sheet)} was already read from {clash}; "
                    "kept the first"
                )
                continue
            report.read += 1
            state["pages"][record.fingerprint] = asdict(record)
            if straight is not None:  # kept until review.csv gives the page's printed sheet id
                kept_images[record.fingerprint] = straight
    if review is not None:  # after the pages, so one run can read a batch and apply its review
        _apply_review(review, state, exam, folder)
    answers = collect(state, exam)
    report.missing = _missing_pages(state, exam)
    statuses = [x["status"] for a in answers.values() for x in a["answers"].values()]
    report.review, report.unmarked = statuses.count("review"), statuses.count("unmarked")
    report.unnamed = _unnamed(state)
    xlsx, csv_bytes, kept = merge_scores(folder, exam, answers, rows)
    report.kept = kept
    report.saved = _keep_copies(folder, state, scoresheet_bytes(exam.marked, rows))
    state["written"] = {"scores.xlsx": _digest(xlsx), "scores.csv": _digest(csv_bytes)}
    for fingerprint, straight in kept_images.items():
        write_atomic(folder / PAGES / f"{fingerprint}.png", _png(straight))
    write_atomic(folder / "scores.xlsx", xlsx)
    write_atomic(folder / "scores.csv", csv_bytes)
    write_atomic(folder / STATE, (json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode())
    page, table = review_files(answers, state, exam)
    write_atomic(folder / "review.html", page)
    write_atomic(folder / "review.csv", table)
    report.written = outputs
    return report


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keep_copies(folder: Path, state: dict[str, Any], fresh: tuple[bytes, bytes]) -> list[Path]:
    """Copy aside each score file that someone changed since paperkit wrote it: the merge keeps every typed
    cell, but a workbook's charts or a CSV edited by hand survive only in the copy."""
    saved = []
    written = state.get("written", {})
    for name, untouched in zip(("scores.xlsx", "scores.csv"), fresh, strict=True):
        path = folder / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if _digest(data) in (written.get(name), _digest(untouched)):
            continue
        stem, suffix = name.rsplit(".", 1)
        number = 1
        while (copy := folder / f"{stem}.before-scan-{number}.{suffix}").exists():
            number += 1
        write_atomic(copy, data)
        saved.append(copy)
    return saved


def _png(straight: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.clip(straight * 255, 0, 255).astype(np.uint8))
    if not ok:
        raise ScanError("could not encode a page image")
    return bytes(data.tobytes())


def _unnamed(state: dict[str, Any]) -> list[str]:
    """One line per page whose sheet or 考号 could not be read and that review.csv has not named yet."""
    lines = []
    for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"]):
        if page["waiting"]:
            lines.append(f"{page['source']}: {page['waiting']}; type the id printed under it into review.csv")
        elif page["identity"] and fingerprint not in state["identities"]:
            lines.append(f"{page['source']}: {page['identity']}; its answers wait until review.csv gives the 考号")
    return lines


def _same_page(state: dict[str, Any], record: PageRecord) -> str:
    if record.identity or record.waiting:  # a page still without its student is told apart by its pixels alone
        return ""
    for other in state["pages"].values():
        same = (other["sheet"], other["page"], other["student_id"]) == (record.sheet, record.page, record.student_id)
        if same and not other["problem"]:
            return str(other["source"])
    return ""


def _missing_pages(state: dict[str, Any], exam: Exam) -> list[str]:
    seen: dict[tuple[str, str], set[int]] = {}
    for page in state["pages"].values():
        if page["sheet"]:
            seen.setdefault((page["sheet"], page["student_id"]), set()).add(page["page"])
    lines = []
    unseen = [s for s in exam.manifest.students if (s["student_id"] not in {k[1] for k in seen})]
    if seen and unseen:
        names = "、".join(f"{s['name']}（{s['student_id']}）" for s in unseen[:5])
        more = f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""
        lines.append(f"{len(unseen)} students have no sheet scanned yet: {names}{more}")
    for (sheet, student), pages in sorted(seen.items()):
        total = exam.layouts[exam.sheets[sheet]["variant"]].pages
        gone = [str(p) for p in range(1, total + 1) if p not in pages]
        if gone:
            lines.append(f"sheet {sheet} ({student or 'no 考号'}): page {', '.join(gone)} not scanned yet")
    return lines


def collect(state: dict[str, Any], exam: Exam) -> dict[str, dict[str, Any]]:
    """Every student's answers by question number (corrections from review applied), from the pages read;
    a page whose 考号 is still unknown waits."""
    found: dict[str, dict[str, Any]] = {}
    pages = sorted(state["pages"].items(), key=lambda kv: (kv[1]["sheet"], kv[1]["page"], kv[1]["source"]))
    for fingerprint, page in pages:
        student = page["student_id"] or state["identities"].get(fingerprint, "")
        if not student:
            continue
        entry = found.setdefault(
            student, {"variant": page["variant"], "sheet": page["sheet"], "absent": False, "answers": {}}
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


REVIEW_COLUMNS = ("学号", "姓名", "题号", "读取", "原因", "来源", "页面", "更正")
BLANK_ANSWER = "-"  # what a teacher types in 更正 for "the student left it blank"


def _apply_review(path: Path, state: dict[str, Any], exam: Exam, folder: Path) -> None:
    """A filled review.csv: each row's 更正 becomes that answer (checked against the boxes the question has), or,
    on a 考号 row, that page's student. Any bad row stops the run with every problem listed, nothing applied."""
    if not path.is_file():
        raise ScanError(f"{path}: no such file; give the review.csv that paperkit scan wrote")
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ScanError(f"{path}: not a readable review.csv ({error})") from None
    problems: list[str] = []
    corrections: dict[str, str] = {}
    identities: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        correction = unicodedata.normalize("NFKC", row.get("更正") or "").strip()
        if not correction:
            continue
        where = f"{path}:{line}"
        number = (row.get("题号") or "").strip()
        if number == SHEET_ROW:
            problem = _name_sheet(exam, state, folder, (row.get("页面") or "").strip(), correction)
            if problem:
                problems.append(f"{where}: {problem}")
            continue
        if number == ID_ROW:
            fingerprint = (row.get("页面") or "").strip()
            if fingerprint not in state["pages"]:
                problems.append(f"{where}: 页面 '{fingerprint[:24]}' is not a page this exam's scans have read")
            elif not correction.isdigit() or len(correction) > ID_DIGITS:
                problems.append(f"{where}: 更正 '{correction[:24]}' is not a 考号 (digits only)")
            else:
                identities[fingerprint] = correction
            continue
        student = (row.get("学号") or "").strip()
        value, problem = _checked(exam, state, student, number, correction)
        if problem:
            problems.append(f"{where}: {problem}")
        else:
            corrections[f"{student}/{number}"] = value
    if problems:
        raise ScoreSheetError(problems, f"{path.name}")
    state["corrections"].update(corrections)
    state["identities"].update(identities)


def _name_sheet(exam: Exam, state: dict[str, Any], folder: Path, fingerprint: str, typed: str) -> str:
    """Read a kept page as the sheet and page a teacher typed (as printed under its QR code: `ABCD-EFGH · 2`);
    '' when done, else why not."""
    page = state["pages"].get(fingerprint)
    if page is None or not page["waiting"]:
        return f"页面 '{fingerprint[:24]}' is not a page waiting for its sheet id"
    text = "".join(ch for ch in typed.upper() if ch.isalnum())
    sheet, number = text[:8], text[8:]
    if sheet not in exam.sheets or not number.isdigit():
        return f"更正 '{typed[:24]}' is not a sheet id and page of this exam (as printed: ABCD-EFGH · 1)"
    image_path = folder / PAGES / f"{fingerprint}.png"
    try:
        import cv2

        image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
    except cv2.error:
        image = None
    if image is None:
        return f"{image_path}: the kept page image is missing; scan the page again"
    record = PageRecord(**{k: v for k, v in page.items() if k in PageRecord.__dataclass_fields__})
    read_sheet(exam, record, image.astype(np.float32) / 255.0, sheet, int(number))
    if record.problem:
        return f"更正 '{typed[:24]}': {record.problem}"
    state["pages"][fingerprint] = asdict(record)
    return ""


def _checked(exam: Exam, state: dict[str, Any], student: str, number: str, text: str) -> tuple[str, str]:
    """A correction as the score sheet takes it, or why it cannot be: letters among the question's boxes (each
    once), T/F, or points from 0 to the question's in half points; '-' for left blank."""
    variants = {
        p["variant"] for f, p in state["pages"].items() if (p["student_id"] or state["identities"].get(f)) == student
    }
    if not variants:
        return "", f"学号 '{student[:24]}' has no scanned page"
    layout = exam.layouts[variants.pop()]
    values = sorted({b.value for b in layout.boxes if b.field == "q" and str(b.number) == number})
    if not values:
        return "", f"题号 '{number[:8]}' is not a question of this sheet"
    if text == BLANK_ANSWER:
        return "", ""
    if int(number) in {a.number for a in layout.areas}:
        points = next(a.points for a in layout.areas if str(a.number) == number)
        try:
            given = float(text)
        except ValueError:
            return "", f"更正 '{text[:24]}' is not points (0 to {points})"
        if not 0 <= given <= points or given * 2 != int(given * 2):
            return "", f"更正 '{text[:24]}' is not 0 to {points} points in half points"
        return f"{given:g}", ""
    marks = {"√": "T", "×": "F", "X": "F", "对": "T", "错": "F"}
    letters = "".join(sorted(marks.get(ch, ch) for ch in text.upper() if not ch.isspace()))
    if not letters or any(ch not in values for ch in letters) or len(set(letters)) != len(letters):
        return "", f"更正 '{text[:24]}' is not among this question's boxes ({' '.join(values)}) or '-'"
    if int(number) in layout.singles and len(letters) > 1:
        return "", f"更正 '{text[:24]}': question {number} takes one answer"
    return letters, ""


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


def review_files(answers: dict[str, dict[str, Any]], state: dict[str, Any], exam: Exam) -> tuple[bytes, bytes]:
    """review.html (each answer to check, its boxes cut from the page) and review.csv (fill in 更正): the pages
    still without a 考号 first, then every answer a person must decide."""
    from paperkit.render.document import render_template

    names = {s["student_id"]: s["name"] for s in exam.manifest.students}
    rows = [
        {
            "student": "",
            "name": "",
            "number": SHEET_ROW,
            "value": "",
            "reason": page["waiting"],
            "source": page["source"],
            "page": fingerprint,
            "crop": page["identity_crop"],
        }
        for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"])
        if page["waiting"]
    ]
    rows += [
        {
            "student": "",
            "name": "",
            "number": ID_ROW,
            "value": page["identity_read"],
            "reason": page["identity"],
            "source": page["source"],
            "page": fingerprint,
            "crop": page["identity_crop"],
        }
        for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"])
        if page.get("identity") and fingerprint not in state["identities"]
    ]
    for student in sorted(answers):
        for number, answer in sorted(answers[student]["answers"].items(), key=lambda kv: int(kv[0])):
            if answer["status"] == "review":
                rows.append(
                    {
                        "student": student,
                        "name": names.get(student, ""),
                        "number": number,
                        "value": answer["value"],
                        "reason": answer["reason"],
                        "source": answer["source"],
                        "page": "",
                        "crop": answer["crop"],
                    }
                )
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(REVIEW_COLUMNS)
    for row in rows:
        writer.writerow(
            [row["student"], row["name"], row["number"], row["value"], row["reason"], row["source"], row["page"], ""]
        )
    page = render_template(
        "scan-review.html.j2",
        {
            "title": f"{exam.manifest.title} {label('scan_review_title')}",
            "note": label("scan_review_note"),
            "rows": rows,
            "columns": REVIEW_COLUMNS,
        },
    )
    return page.encode("utf-8"), ("\ufeff" + table.getvalue()).encode("utf-8")
