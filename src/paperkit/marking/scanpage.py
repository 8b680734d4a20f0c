"""One scanned page read for `paperkit scan`: the inputs (PDF pages, photos), the exam's sheets and their blank
renderings, and a page found, identified by its sheet id (or its 考号) and its questions decided.

The vision itself is in sheetread.py; this module knows the manifest: which sheet a QR code names, which layout
its variant has, and what a 考号 grid says.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperkit.errors import ScanError, UsageError
from paperkit.exam.manifest import Manifest
from paperkit.exam.sheet import PAGE_H, PAGE_W, QR_AT, QR_SIZE, SheetLayout, layout_from_data, shown_id
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.marking.jobs import Marked, open_exam

MAX_INPUT_BYTES = 200 * 1024 * 1024  # a scanner's PDF of a class is tens of MB
MAX_PIXELS = 60_000_000  # a 48-megapixel phone photo fits; a decompression bomb does not
BLANK_DARK, BLANK_SHARE = 0.6, 0.002  # a page with under 0.2 % of pixels at 60 % of the paper's brightness is empty
PDF_DPI = 200  # scanned PDF pages are rendered at this resolution (their scanner's own is usually 200–600)
# Why a page waits for its printed sheet id: kept in scan.json and written into review.csv and review.html as it
# is (documents, not translated); the terminal line that reports it says it in the reader's language (scan.py).
QR_UNREADABLE = "its QR code cannot be read"


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


def input_pages(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Each page of an input as a grayscale image: every page of a PDF, or one photo (JPEG, PNG, HEIC; turned
    upright by its EXIF orientation). A file that is none of these is a ScanError naming it."""
    if not path.is_file():
        raise ScanError(_("{path}: no such file").format(path=path))
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise ScanError(
            _("{path}: larger than {size} MB; split the scan into batches").format(
                path=path, size=MAX_INPUT_BYTES // 1024 // 1024
            )
        )
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
        raise ScanError(_("{path}: not a readable PDF ({error})").format(path=path, error=error)) from None
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
        raise ScanError(
            _("{path}: not a photo or scan paperkit can read ({error})").format(path=path, error=error)
        ) from None


def is_blank(image: np.ndarray) -> bool:
    """An empty page (the back of a one-sided sheet): almost no pixel darker than the paper around it."""
    small = image[::4, ::4].astype(np.float32)
    paper = float(np.percentile(small, 90))
    return float(np.mean(small < paper * BLANK_DARK)) < BLANK_SHARE


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
        raise ScanError(
            _("{path}: the printed answer sheet is missing; rebuild the exam with --answer-sheet").format(path=pdf)
        )
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


def open_scan_exam(manifest_path: Path, source: Path | None) -> Exam:
    """The exam a manifest records, with its answer sheets; an exam printed without them is a UsageError."""
    marked = open_exam(manifest_path, source)
    record = marked.manifest.answer_sheet
    if not record:
        raise UsageError(
            _("{manifest}: this exam was printed without answer sheets; rebuild it with --answer-sheet to scan").format(
                manifest=manifest_path
            )
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
        record.waiting = QR_UNREADABLE
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
        record.problem = _("sheet {sheet} is not a sheet of exam {exam}").format(
            sheet=shown_id(sheet), exam=exam.manifest.exam_id
        )
        return
    layout = exam.layouts[holder["variant"]]
    if not 1 <= page <= layout.pages:
        record.problem = _("sheet {sheet} has {pages} pages, not a page {page}").format(
            sheet=shown_id(sheet), pages=layout.pages, page=page
        )
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
