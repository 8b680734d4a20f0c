"""The answer sheet (答题卡): where every box goes, in millimetres, and what marking it means (pure).

The layout is the sheet's one source of geometry: the template draws it, the manifest records it, the scanner
reads it. A4 portrait; six ArUco markers (4×4 dictionary, ids 0–5: the four corners and the middle of each long
edge, so a sheet is found at any rotation and with one marker covered), a QR code with an opaque sheet id (never
answers or option orders), the same id in digits, and a 考号 grid where a sheet carries no student.
About 460 lines on purpose: the geometry, its record in the manifest and its drawing context are one source of
truth that the template and the scanner both read, and change together.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from paperkit.questions.kind import SheetField

PAGE_W, PAGE_H = 210.0, 297.0
MARKER = 8.0  # mm: the side of a marker
# The markers' top-left corners (mm), by id: corners, then the middle of the left and right edges.
MARKERS: tuple[tuple[float, float], ...] = (
    (8.0, 8.0),
    (194.0, 8.0),
    (8.0, 281.0),
    (194.0, 281.0),
    (8.0, 144.5),
    (194.0, 144.5),
)
# The 4×4 data bits of ArUco DICT_4X4_50 markers 0–5, row by row (1 = white); each is drawn in a black border
# one cell wide. tests/test_sheet.py checks them against OpenCV's dictionary.
MARKER_BITS: tuple[tuple[str, str, str, str], ...] = (
    ("1011", "0101", "0011", "0010"),
    ("0000", "1111", "1001", "1010"),
    ("0011", "0011", "0010", "1101"),
    ("1001", "1001", "0100", "0110"),
    ("0101", "0100", "1001", "1110"),
    ("0111", "1001", "1100", "1101"),
)
QR_AT, QR_SIZE = (168.0, 20.0), 22.0  # mm
BODY_TOP, BODY_BOTTOM = 78.0, 272.0  # the answers' area on page 1; later pages start at CONTINUED_TOP
CONTINUED_TOP = 48.0  # below the QR code and its digits
CONTINUED_TOP_GRID = 68.0  # below the 考号 grid, which a sheet without a student carries on every page
LEFT, RIGHT = 18.0, 192.0

BUBBLE_W, BUBBLE_H = 5.2, 3.4  # an option box: [A]
BUBBLE_STEP = 6.6  # from one box's left edge to the next one's
ROW_STEP = 5.2  # from one question row to the next
NUMBER_W = 7.0  # the question number before its boxes
GROUP = 5  # questions per group of rows, as 答题卡 print them
GROUP_GAP_X, GROUP_GAP_Y = 6.0, 4.0
LINE = 8.0  # mm per writing line of an answer area
STRIP_W, STRIP_H = 4.4, 4.0  # a score-strip box
ID_DIGITS = 10  # columns of the 考号 grid on a sheet without a student
ID_BOX_W, ID_BOX_H, ID_STEP_X, ID_STEP_Y = 3.8, 2.6, 4.6, 3.3


@dataclass(frozen=True)
class Box:
    """One box on a sheet, in mm from the page's top-left corner, and what marking it means.

    `field` is "q" (a question: `number`, `value` a letter, T/F, or points of the score strip "0".."10", "+½"
    as "0.5"), "id" (a 考号 digit: `number` its column, `value` the digit) or "absent" (缺考).
    """

    page: int
    x: float
    y: float
    w: float
    h: float
    field: str
    number: int = 0
    value: str = ""
    label: str = ""  # what is printed inside the box


@dataclass(frozen=True)
class Area:
    """An answer area: the black frame a student writes a question's answer in (page, mm)."""

    page: int
    x: float
    y: float
    w: float
    h: float
    number: int
    points: int


@dataclass(frozen=True)
class SheetLayout:
    """Every box and answer area of one variant's sheet, and how many pages it takes."""

    pages: int
    boxes: tuple[Box, ...]
    areas: tuple[Area, ...]
    id_digits: int = 0  # columns of the 考号 grid (0: the sheet carries its student)
    singles: tuple[int, ...] = ()  # the questions answered by one box (single choice, 判断)

    def questions(self) -> dict[int, list[Box]]:
        """Each question's boxes, by its number."""
        found: dict[int, list[Box]] = {}
        for box in self.boxes:
            if box.field == "q":
                found.setdefault(box.number, []).append(box)
        return found

    def as_data(self) -> dict[str, Any]:
        """The layout as the manifest records it (numbers rounded to a hundredth of a mm)."""

        def rounded(record: dict[str, Any]) -> dict[str, Any]:
            return {k: round(v, 2) if isinstance(v, float) else v for k, v in record.items()}

        return {
            "pages": self.pages,
            "id_digits": self.id_digits,
            "singles": list(self.singles),
            "boxes": [rounded(asdict(b)) for b in self.boxes],
            "areas": [rounded(asdict(a)) for a in self.areas],
        }


def layout_from_data(data: dict[str, Any]) -> SheetLayout:
    """A layout as a manifest records it; a malformed one is a ValueError (the manifest reader says where)."""
    try:
        return SheetLayout(
            pages=int(data["pages"]),
            boxes=tuple(
                Box(
                    int(b["page"]),
                    float(b["x"]),
                    float(b["y"]),
                    float(b["w"]),
                    float(b["h"]),
                    str(b["field"]),
                    int(b.get("number", 0)),
                    str(b.get("value", "")),
                    str(b.get("label", "")),
                )
                for b in data["boxes"]
            ),
            areas=tuple(
                Area(
                    int(a["page"]),
                    float(a["x"]),
                    float(a["y"]),
                    float(a["w"]),
                    float(a["h"]),
                    int(a["number"]),
                    int(a["points"]),
                )
                for a in data["areas"]
            ),
            id_digits=int(data.get("id_digits", 0)),
            singles=tuple(int(n) for n in data.get("singles", ())),
        )
    except KeyError as error:
        raise ValueError(f"a box or area has no {error}") from None
    except TypeError as error:
        raise ValueError(f"malformed ({error})") from None


def exam_layout(questions: Sequence[tuple[int, int, SheetField]], blank: bool) -> SheetLayout:
    """The layout of a variant's sheet: its questions, with a 考号 grid when printed without a student."""
    return lay_out(questions, ID_DIGITS if blank else 0)


@dataclass
class _Cursor:
    page: int = 1
    y: float = BODY_TOP
    top: float = CONTINUED_TOP  # where a continued page's answers start

    def room(self, height: float) -> None:
        """Move to a new page when `height` does not fit below the cursor."""
        if self.y + height > BODY_BOTTOM:
            self.page += 1
            self.y = self.top


def lay_out(fields: Sequence[tuple[int, int, SheetField]], id_digits: int = 0) -> SheetLayout:
    """Boxes and areas for the questions (number, points, field) in paper order: the bubble questions in groups
    of five rows, as many groups to a row as fit, then an answer area per written question with its score strip.
    With `id_digits`, a 考号 grid (for sheets printed without a student) and a 缺考 box go in the header."""
    boxes: list[Box] = [Box(1, 22.0, 56.5, 5.2, 3.6, "absent", label="")]
    cursor = _Cursor(top=CONTINUED_TOP_GRID if id_digits else CONTINUED_TOP)
    bubbles = [(n, f) for n, _, f in fields if f.bubbles]
    groups = [bubbles[i : i + GROUP] for i in range(0, len(bubbles), GROUP)]
    x = LEFT
    row_height = 0.0
    for group in groups:
        width = NUMBER_W + max(len(f.bubbles) for _, f in group) * BUBBLE_STEP
        height = len(group) * ROW_STEP
        if x + width > RIGHT:
            x = LEFT
            cursor.y += row_height + GROUP_GAP_Y
            row_height = 0.0
        cursor.room(height)
        for row, (number, item) in enumerate(group):
            y = cursor.y + row * ROW_STEP
            for index, (value, printed) in enumerate(item.bubbles):
                boxes.append(
                    Box(
                        cursor.page,
                        x + NUMBER_W + index * BUBBLE_STEP,
                        y,
                        BUBBLE_W,
                        BUBBLE_H,
                        "q",
                        number,
                        value,
                        printed,
                    )
                )
        x += width + GROUP_GAP_X
        row_height = max(row_height, height)
    if groups:
        cursor.y += row_height + GROUP_GAP_Y + 2.0
    areas: list[Area] = []
    for number, points, item in fields:
        if item.bubbles:
            continue
        height = 7.0 + item.lines * LINE
        cursor.room(height)
        area = Area(cursor.page, LEFT, cursor.y, RIGHT - LEFT, height, number, points)
        areas.append(area)
        boxes += _score_strip(area)
        cursor.y += height + 3.0
    for page in range(1, cursor.page + 1):  # every page of a sheet without a student says whose it is
        boxes += _id_grid(id_digits, page)
    singles = tuple(number for number, _, item in fields if item.bubbles and item.single)
    return SheetLayout(cursor.page, tuple(boxes), tuple(areas), id_digits, singles)


def _score_strip(area: Area) -> list[Box]:
    """The boxes a marker fills with the points given: 0…points (tens and units above ten), and ½."""
    right = area.x + area.w - 2.0
    y = area.y + 1.5
    boxes: list[Box] = []
    if area.points <= 10:
        values = [str(v) for v in range(area.points + 1)] + ["0.5"]
        for index, value in enumerate(reversed(values)):
            label = "½" if value == "0.5" else value
            boxes.append(
                Box(
                    area.page,
                    right - (index + 1) * (STRIP_W + 0.6),
                    y,
                    STRIP_W,
                    STRIP_H,
                    "q",
                    area.number,
                    value,
                    label,
                )
            )
        return boxes
    tens = [str(10 * v) for v in range(1, area.points // 10 + 1)]
    units = [str(v) for v in range(10)] + ["0.5"]
    for row, values in enumerate((units, tens)):
        for index, value in enumerate(reversed(values)):
            label = "½" if value == "0.5" else value
            boxes.append(
                Box(
                    area.page,
                    right - (index + 1) * (STRIP_W + 0.6),
                    y + row * (STRIP_H + 0.8),
                    STRIP_W,
                    STRIP_H,
                    "q",
                    area.number,
                    value,
                    label,
                )
            )
    return boxes


def _id_grid(digits: int, page: int) -> list[Box]:
    """The 考号 bubbles: a column per digit, 0–9 top to bottom, right of the header's fields."""
    boxes = []
    left, top = 118.0, 30.0
    for column in range(digits):
        for digit in range(10):
            boxes.append(
                Box(
                    page,
                    left + column * ID_STEP_X,
                    top + digit * ID_STEP_Y,
                    ID_BOX_W,
                    ID_BOX_H,
                    "id",
                    column,
                    str(digit),
                    str(digit),
                )
            )
    return boxes


# -- identity ------------------------------------------------------------------------------------------------


def sheet_id(exam_id: str, holder: str) -> str:
    """An opaque id for one student's sheet (or one variant's blank sheet): 8 letters and digits from SHA-256 of
    the exam and the holder; nothing in it says who or which answers."""
    digest = hashlib.sha256(f"{exam_id}/{holder}".encode()).digest()
    return base64.b32encode(digest).decode()[:8]


def check_digits(text: str) -> str:
    """Two check characters for a QR payload or a typed id (a misread one fails the check)."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:2]


def qr_payload(sheet: str, page: int) -> str:
    """What a sheet page's QR code holds: `PK1-<sheet id>-<page>-<check>` and nothing else."""
    body = f"PK1-{sheet}-{page}"
    return f"{body}-{check_digits(body)}"


def read_payload(text: str) -> tuple[str, int] | None:
    """A QR payload back into (sheet id, page), or None if it is not one of ours or its check fails."""
    parts = text.strip().split("-")
    if len(parts) != 4 or parts[0] != "PK1" or not parts[2].isdigit():
        return None
    body = "-".join(parts[:3])
    return (parts[1], int(parts[2])) if check_digits(body) == parts[3] else None


def shown_id(sheet: str) -> str:
    """The sheet id as printed under the QR code (and typed into review.csv), in two groups of four."""
    return f"{sheet[:4]}-{sheet[4:]}"


# -- drawing -------------------------------------------------------------------------------------------------


def marker_svg(marker: int) -> str:
    """An ArUco marker as vector SVG (6×6 cells: a black border around the 4×4 bits), MARKER mm square."""
    cell = MARKER / 6
    rects = [f'<rect x="0" y="0" width="{MARKER:.3f}" height="{MARKER:.3f}" fill="#000"/>']
    for row, bits in enumerate(MARKER_BITS[marker]):
        for col, bit in enumerate(bits):
            if bit == "1":
                x, y = (col + 1) * cell, (row + 1) * cell
                rects.append(f'<rect x="{x:.3f}" y="{y:.3f}" width="{cell:.3f}" height="{cell:.3f}" fill="#fff"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{MARKER}mm" height="{MARKER}mm" '
        f'viewBox="0 0 {MARKER} {MARKER}" shape-rendering="crispEdges">{"".join(rects)}</svg>'
    )


def qr_svg(payload: str) -> str:
    """The QR code of a payload as vector SVG, QR_SIZE mm square (segno, error correction M)."""
    import io

    import segno

    code = segno.make_qr(payload, error="m", boost_error=False)
    modules = code.symbol_size(border=0)[0]
    out = io.BytesIO()
    code.save(out, kind="svg", border=0, scale=1, xmldecl=False, svgns=True, nl=False, svgclass=None, lineclass=None)
    svg = out.getvalue().decode()
    # Size it in mm: the symbol is `modules` units square.
    sized = f'width="{QR_SIZE}mm" height="{QR_SIZE}mm" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges"'
    return svg.replace(f'width="{modules}" height="{modules}"', sized, 1)


@dataclass(frozen=True)
class SheetHolder:
    """Whom a sheet is for: a student of a roster (printed on the sheet), or a variant's blank sheet."""

    sheet: str
    variant: str
    name: str = ""
    student_id: str = ""
    class_name: str = ""
    extra: tuple[str, ...] = field(default=())


def _strip_left(layout: SheetLayout, area: Area) -> float:
    return min(b.x for b in layout.boxes if b.field == "q" and b.number == area.number and b.page == area.page)


def _mm(value: float) -> str:
    return f"{value:.2f}mm"


def _area_name(name: str) -> str:
    """An answer area's heading: 「3.」, or a 组合题's sub-question 「5(3)」 (it ends in its bracket)."""
    return name if name.endswith(")") else f"{name}."


def sheet_context(
    layout: SheetLayout,
    holder: SheetHolder,
    title: str,
    exam_label: str,
    lang: str,
    labels: dict[str, str],
    names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Everything answer-sheet.html.j2 draws, page by page, each element at its place in mm (no arithmetic in
    the template). `labels` are the printed words (labels.py); `names` how the paper names each question
    (「17(2)」 for a 组合题's sub-question), by its number on the sheet."""
    names = names or {}
    from markupsafe import Markup

    pages = []
    for number in range(1, layout.pages + 1):
        boxes = [b for b in layout.boxes if b.page == number]
        rows: dict[tuple[int, float], float] = {}
        for box in boxes:
            if box.field == "q" and box.label and not any(a.number == box.number for a in layout.areas):
                key = (box.number, box.y)
                rows[key] = min(rows.get(key, box.x), box.x)
        pages.append(
            {
                "number": number,
                "first": number == 1,
                "markers": [
                    {"left": _mm(x), "top": _mm(y), "svg": Markup(marker_svg(i))} for i, (x, y) in enumerate(MARKERS)
                ],
                "qr": {
                    "left": _mm(QR_AT[0]),
                    "top": _mm(QR_AT[1]),
                    "svg": Markup(qr_svg(qr_payload(holder.sheet, number))),
                    "text": f"{shown_id(holder.sheet)} · {number}",
                    "text_top": _mm(QR_AT[1] + QR_SIZE + 1.0),
                },
                "boxes": [
                    {
                        "left": _mm(b.x),
                        "top": _mm(b.y),
                        "width": _mm(b.w),
                        "height": _mm(b.h),
                        "label": b.label,
                        "field": b.field,
                    }
                    for b in boxes
                ],
                "numbers": [
                    {"left": _mm(x - NUMBER_W), "top": _mm(y), "text": names.get(n, str(n))}
                    for (n, y), x in sorted(rows.items())
                ],
                "areas": [
                    {
                        "left": _mm(a.x),
                        "top": _mm(a.y),
                        "width": _mm(a.w),
                        "height": _mm(a.h),
                        # 「3.」; a 组合题's sub-question 「5(3)」 ends in its bracket
                        "number": _area_name(names.get(a.number, str(a.number))),
                        "points": labels["sheet_points"].format(points=a.points),
                        # 得分 ends 1 mm left of the strip's leftmost box (the template right-aligns it there).
                        "score_right": _mm(a.x + a.w - _strip_left(layout, a) + 1.0),
                    }
                    for a in layout.areas
                    if a.page == number
                ],
                "page_of": labels["sheet_page_of"].format(page=number, pages=layout.pages),
            }
        )
    return {
        "lang": lang,
        "title": title,
        "label": exam_label,
        "score": labels["sheet_score"],
        "variant": holder.variant,
        "holder": {"name": holder.name, "student_id": holder.student_id, "class_name": holder.class_name},
        "id_grid": layout.id_digits > 0,
        "id_grid_head": [{"left": _mm(118.0 + c * ID_STEP_X)} for c in range(layout.id_digits)],
        "pages": pages,
    }
