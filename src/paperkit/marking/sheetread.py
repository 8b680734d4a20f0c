"""Reading one scanned or photographed answer-sheet page: find it, straighten it, and measure every box.

The sheet was generated here, so every box's place is known to a hundredth of a millimetre (exam/sheet.py).
The page is found by its ArUco markers (any rotation; one covered marker still leaves five), mapped onto the
sheet's own coordinates by a homography, flattened (uneven light divided out), and each box measured against
the same box on the blank sheet as paperkit rendered it: only what the student (or the teacher) added counts.
A box is filled, empty or unclear by two thresholds on two measures (how much of it is covered, how dark);
unclear is never guessed: it goes to review. All of paperkit's vision lives here (about 450 lines, one concern:
a page image in, box readings out; the thresholds and the code that reads them are tuned together).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from paperkit.exam.sheet import MARKER, MARKERS, PAGE_H, PAGE_W, QR_AT, QR_SIZE, Box, read_payload
from paperkit.i18n import _
from paperkit.labels import label

SCALE = 8.0  # px per mm of the straightened page (A4 → 1680 × 2376)
DETECT_SIDE = 1800  # px: markers are looked for on a copy this long (about 5 px/mm of a page filling a photo)
INNER = 0.2  # the core of a box: a fifth off each side, clear of its printed border
WHOLE = 0.12  # the whole inside of a box, just clear of its border (where a thin tick still shows)

# Following a bent page (bend): tiles matched first on a COARSE px/mm copy. A box whose border, where the field
# puts it, is lighter than BORDER_KEPT of the blank's is lost (unclear), never measured.
COARSE, MEDIUM = 2.0, 4.0
BORDER_KEPT = 0.5
BORDER_BAND = 0.6  # mm either side of where a border should be
SETTLE_BAND = 0.6  # mm either side of the field's place where a box's own borders are looked for
INK = 0.28  # a pixel this much darker than the paper (0–1) is ink

# Decisions, on a box's coverage (share of its inner pixels that are ink, less the blank sheet's) and its ink
# (mean darkness, less the blank's): filled above both FILLED bounds, empty below both EMPTY bounds, else
# unclear. Tuned on bench seeds 1000–1099 (bench/scan_bench.py), tested on others.
FILLED_COVERAGE, FILLED_INK = 0.70, 0.25
EMPTY_COVERAGE, EMPTY_INK, EMPTY_TRACE = 0.12, 0.07, 0.05
RESIDUE_COVERAGE, RESIDUE_INK, RESIDUE_TRACE = 0.12, 0.24, 0.10  # lighter than this: what an eraser leaves

# The page gate: fewer markers, a worse fit or a blurrier page is rejected with its reason.
MIN_MARKERS = 3
MAX_REPROJECTION_MM = 0.9
MIN_SHARPNESS = 12.0  # variance of the Laplacian of the straightened page
MIN_PX_PER_MM = 2.6  # 66 dpi


@dataclass(frozen=True)
class Reading:
    """One box as read: how much ink it gained over the blank sheet, and what that means."""

    box: Box
    coverage: float
    ink: float
    state: str  # "filled", "empty" or "unclear"
    confidence: float  # 0–1: how far from the nearest threshold
    trace: float = 0.0  # share of ink pixels anywhere inside the border
    lost: bool = False  # the box could not be found where the page has it


@dataclass
class Page:
    """A page as found: its QR payload, the quality gate's figures and verdict, and the straightened image."""

    source: str
    markers: int = 0
    reprojection_mm: float = 0.0
    sharpness: float = 0.0
    px_per_mm: float = 0.0
    qr: tuple[str, int] | None = None
    problem: str = ""  # why the page cannot be read ('' when it can)
    image: Any = field(default=None, repr=False)  # the straightened, flattened page (float32, paper = 1)


def _dictionary() -> Any:
    return cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)


def _detector() -> Any:
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    parameters.adaptiveThreshWinSizeMax = 53
    return cv2.aruco.ArucoDetector(_dictionary(), parameters)


def _marker_corners_mm(marker: int) -> np.ndarray:
    x, y = MARKERS[marker]
    return np.array([[x, y], [x + MARKER, y], [x + MARKER, y + MARKER], [x, y + MARKER]], dtype=np.float32)


def find_page(gray: np.ndarray, source: str) -> Page:
    """Find a sheet page in a grayscale image (uint8) and straighten it; the Page says why when it cannot."""
    page = Page(source)
    longest = max(gray.shape)
    shrink = 1.0
    work = gray
    if longest > DETECT_SIDE:  # detect on a smaller copy (faster), then refine the corners on the full image
        shrink = DETECT_SIDE / longest
        work = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    corners, ids, _rejected = _detector().detectMarkers(work)
    found: dict[int, np.ndarray] = {}
    for quad, marker in zip(corners, ids.flatten() if ids is not None else (), strict=False):
        if 0 <= int(marker) < len(MARKERS) and int(marker) not in found:
            found[int(marker)] = quad.reshape(4, 2) / shrink
    if shrink < 1.0 and found:
        points = np.concatenate(list(found.values())).astype(np.float32).reshape(-1, 1, 2)
        window = max(2, round(1.0 / shrink))
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
        refined = cv2.cornerSubPix(gray, points, (window, window), (-1, -1), criteria).reshape(-1, 4, 2)
        found = dict(zip(found, refined, strict=True))
    page.markers = len(found)
    if len(found) < MIN_MARKERS:
        page.problem = _("found {found} of the {marks} alignment marks (at least {least} needed)").format(
            found=len(found), marks=len(MARKERS), least=MIN_MARKERS
        )
        return page
    source_points = np.concatenate([found[m] for m in sorted(found)]).astype(np.float32)
    target_mm = np.concatenate([_marker_corners_mm(m) for m in sorted(found)])
    homography, _inliers = cv2.findHomography(source_points, target_mm * SCALE, 0)
    if homography is None:
        page.problem = _("the alignment marks do not make a page")
        return page
    mapped = cv2.perspectiveTransform(source_points.reshape(-1, 1, 2), homography).reshape(-1, 2) / SCALE
    page.reprojection_mm = float(np.sqrt(np.mean(np.sum((mapped - target_mm) ** 2, axis=1))))
    side = np.mean([np.linalg.norm(found[m][1] - found[m][0]) for m in found])
    page.px_per_mm = float(side / MARKER)
    size = (int(PAGE_W * SCALE), int(PAGE_H * SCALE))
    straight = cv2.warpPerspective(gray, homography, size, flags=cv2.INTER_LINEAR, borderValue=255)
    page.sharpness = float(cv2.Laplacian(straight[400:2000, 150:1530], cv2.CV_64F).var())
    page.image = flatten(straight)
    page.qr = read_qr(straight)
    if page.reprojection_mm > MAX_REPROJECTION_MM:
        page.problem = _("the page is bent or folded: its marks are {off:.1f} mm off a flat page").format(
            off=page.reprojection_mm
        )
    elif page.px_per_mm < MIN_PX_PER_MM:
        dpi, least = page.px_per_mm * 25.4, MIN_PX_PER_MM * 25.4
        page.problem = _("too coarse: {dpi:.0f} dpi at the sheet (at least {least:.0f} needed)").format(
            dpi=dpi, least=least
        )
    elif page.sharpness < MIN_SHARPNESS:
        page.problem = _("too blurred to read (sharpness {sharpness:.0f}, at least {least:.0f})").format(
            sharpness=page.sharpness, least=MIN_SHARPNESS
        )
    return page


def flatten(straight: np.ndarray) -> np.ndarray:
    """The page with its lighting divided out: paper 1.0 everywhere, ink darker (float32)."""
    small = cv2.resize(straight, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (straight.shape[1], straight.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(straight.astype(np.float32) / np.maximum(paper.astype(np.float32), 1.0), 0.0, 1.0)


def read_qr(straight: np.ndarray) -> tuple[str, int] | None:
    """The sheet id and page from the QR code where the sheet prints it (None if unreadable or not ours)."""
    import zxingcpp

    x, y = QR_AT
    margin = 4.0
    crop = straight[
        int((y - margin) * SCALE) : int((y + QR_SIZE + margin) * SCALE),
        int((x - margin) * SCALE) : int((x + QR_SIZE + margin) * SCALE),
    ]
    for image in (crop, cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)):
        for code in zxingcpp.read_barcodes(image):
            payload = read_payload(code.text)
            if payload is not None:
                return payload
    return None


def _inside(image: np.ndarray, box: Box, inset: float) -> np.ndarray:
    # At least half a millimetre in: a neighbour's overshoot or a slightly off fit stays outside.
    dx, dy = (max(box.w * inset, 0.5), max(box.h * inset, 0.5)) if inset else (0.0, 0.0)
    top, bottom = int((box.y + dy) * SCALE), int((box.y + box.h - dy) * SCALE)
    left, right = int((box.x + dx) * SCALE), int((box.x + box.w - dx) * SCALE)
    return 1.0 - image[max(0, top) : max(0, bottom), max(0, left) : max(0, right)]


def measure(image: np.ndarray, box: Box) -> tuple[float, float, float]:
    """A box's coverage (share of its core's pixels that are ink), ink (the core's mean darkness), and trace
    (share of ink pixels anywhere inside its border: a thin tick or cross shows here) on a flattened page."""
    core = _inside(image, box, INNER)
    whole = _inside(image, box, WHOLE)
    if core.size == 0 or whole.size == 0:
        return 0.0, 0.0, 0.0
    return float(np.mean(core > INK)), float(np.mean(core)), float(np.mean(whole > INK))


def decide(coverage: float, ink: float, trace: float = 0.0) -> tuple[str, float]:
    """Filled, empty or unclear, and the confidence (how far from the nearest threshold, 0–1). A box with a
    trace of ink (a tick, a cross) is never empty, however clean its core."""
    if coverage >= FILLED_COVERAGE and ink >= FILLED_INK:
        margin = min((coverage - FILLED_COVERAGE) / (1 - FILLED_COVERAGE), (ink - FILLED_INK) / (1 - FILLED_INK))
        return "filled", min(1.0, 0.5 + margin)
    if coverage <= EMPTY_COVERAGE and ink <= EMPTY_INK and trace <= EMPTY_TRACE:
        margin = min((EMPTY_COVERAGE - coverage) / EMPTY_COVERAGE, (EMPTY_INK - ink) / EMPTY_INK)
        return "empty", min(1.0, 0.5 + margin / 2)
    return "unclear", 0.0


def read_boxes(image: np.ndarray, blank: np.ndarray, boxes: list[Box]) -> list[Reading]:
    """Every box of a page, each measured against the same box on the blank sheet, where the page really has it.

    The homography puts a box within a fraction of a millimetre on a flat page. A curled or bowed page is followed
    in two steps: a smooth displacement field fitted to large tiles of the printed page (bend), then each group of
    boxes (a question's row, a 考号 column) matched within a millimetre of where the field puts it, a search too
    short to slip onto a neighbouring row. A box whose printed border is not where that puts it is unclear."""
    field = bend(image, blank)
    medium_scan, medium_blank = _scaled(image, MEDIUM), _scaled(blank, MEDIUM)
    placed: list[tuple[Box, Box, float]] = []  # each box, where the page has it, and how clear its border is there
    for group in _groups(boxes):
        x0, y0 = min(b.x for b in group), min(b.y for b in group)
        x1, y1 = max(b.x + b.w for b in group), max(b.y + b.h for b in group)
        centre = field((x0 + x1) / 2, (y0 + y1) / 2)
        local = _match(medium_scan, medium_blank, MEDIUM, (x0 - 1.5, y0 - 1.5, x1 + 1.5, y1 + 1.5), centre, 1.0)
        # A clear local match corrects the field for the whole group; each box keeps the field's own slope.
        delta = (local[0] - centre[0], local[1] - centre[1]) if local is not None and local[2] >= MIN_LOCAL else (0, 0)
        for box in group:
            dx, dy = field(box.x + box.w / 2, box.y + box.h / 2)
            moved = _settle(image, replace(box, x=box.x + dx + delta[0], y=box.y + dy + delta[1]))
            placed.append((box, moved, _border(image, moved) / max(_border(blank, box), 1e-3)))
    # A blurred or coarse page shows every border fainter than the crisp blank: a box is lost only when its border
    # is much fainter than this page's typical one.
    typical = float(np.median([clear for _, _, clear in placed])) if placed else 1.0
    readings = []
    for box, moved, clear in placed:
        if clear < BORDER_KEPT * typical:
            readings.append(Reading(box, 0.0, 0.0, "unclear", 0.0, 0.0, lost=True))
            continue
        now, was = measure(image, moved), measure(blank, box)
        gained = [max(0.0, a - b) for a, b in zip(now, was, strict=True)]
        state, confidence = decide(*gained)
        readings.append(Reading(box, gained[0], gained[1], state, confidence, gained[2]))
    return readings


def _groups(boxes: list[Box]) -> list[list[Box]]:
    """Boxes that move together on a bent page: a question's boxes in one row, one column of the 考号 grid."""
    found: dict[tuple[str, int, float], list[Box]] = {}
    for box in boxes:
        line = round(box.y, 1) if box.field != "id" else 0.0
        found.setdefault((box.field, box.number, line), []).append(box)
    return list(found.values())


def _scaled(image: np.ndarray, scale: float) -> np.ndarray:
    return cv2.resize(image, None, fx=scale / SCALE, fy=scale / SCALE, interpolation=cv2.INTER_AREA)


# Tiles of the page matched to find how it bends (mm): each large enough that nothing within SEARCH of it looks
# the same (a tile spans several groups of boxes, never only a repeating grid).
TILE = 30.0
TILE_X = tuple(float(x) for x in range(25, 190, 20))
TILE_Y = tuple(float(y) for y in range(30, 275, 20))
SEARCH = 5.0
MIN_MATCH = 0.5  # a tile matched worse than this is left out of the fit
MIN_LOCAL = 0.6  # a group matched worse than this keeps the field's shift
SMOOTH = 8.0  # mm: how far the field looks around a point (inverse-distance weights 1 / (d² + SMOOTH²))
UNIQUE_MARGIN = 0.08  # how much better a tile's best match must be than its best match elsewhere
Field = Callable[[float, float], tuple[float, float]]


def bend(image: np.ndarray, blank: np.ndarray) -> Field:
    """How far (mm) each point of the straightened page is from where the homography put it, from the shifts of
    the tiles that match the blank sheet well and unambiguously."""
    coarse_scan, coarse_blank = _scaled(image, COARSE), _scaled(blank, COARSE)
    medium_scan, medium_blank = _scaled(image, MEDIUM), _scaled(blank, MEDIUM)
    points = []
    for cx in TILE_X:
        for cy in TILE_Y:
            area = (cx - TILE / 2, cy - TILE / 2, cx + TILE / 2, cy + TILE / 2)
            coarse = _match(coarse_scan, coarse_blank, COARSE, area, (0.0, 0.0), SEARCH, unique=True)
            if coarse is None or coarse[2] < MIN_MATCH:
                continue
            fine = _match(medium_scan, medium_blank, MEDIUM, area, coarse[:2], 1.0)
            if fine is not None and fine[2] >= MIN_MATCH:
                points.append((cx, cy, fine[0], fine[1]))
    return _surface(points)


def _surface(points: list[tuple[float, float, float, float]]) -> Field:
    """A smooth field through the tiles' shifts (inverse-distance weighted, so it never runs wild where no tile
    matched), anchored at the alignment marks (which the homography fits) with no shift. A tile that disagrees with
    its neighbours by more than a millimetre matched a student's marks, not the print, and is left out."""
    kept = []
    for x, y, dx, dy in points:
        near = [(ox, oy) for px, py, ox, oy in points if 0 < np.hypot(px - x, py - y) <= 45.0]
        if len(near) < 2:
            continue  # a tile no neighbour confirms is not trusted
        mx, my = float(np.median([n[0] for n in near])), float(np.median([n[1] for n in near]))
        if np.hypot(dx - mx, dy - my) > 1.0:
            continue
        kept.append((x, y, dx, dy))
    anchors = [(x + MARKER / 2, y + MARKER / 2, 0.0, 0.0) for x, y in MARKERS]
    table = np.array(kept + anchors, dtype=np.float64)

    def shift(x: float, y: float) -> tuple[float, float]:
        weights = 1.0 / (np.hypot(table[:, 0] - x, table[:, 1] - y) ** 2 + SMOOTH**2)
        total = float(weights.sum())
        return float(weights @ table[:, 2]) / total, float(weights @ table[:, 3]) / total

    return shift


def _match(
    scan: np.ndarray,
    blank: np.ndarray,
    scale: float,
    area: tuple[float, float, float, float],
    start: tuple[float, float],
    search: float,
    unique: bool = False,
) -> tuple[float, float, float] | None:
    """The shift (mm) within ±search of `start` where the blank's `area` best matches the scan, and how well.
    With `unique`, None unless the best match stands clear of every other more than a millimetre away (a tile of
    one straight line, or of a repeating grid, would match equally well somewhere else)."""
    h, w = blank.shape
    left, top = max(0, int(area[0] * scale)), max(0, int(area[1] * scale))
    right, bottom = min(w, int(area[2] * scale)), min(h, int(area[3] * scale))
    template = blank[top:bottom, left:right]
    if template.size == 0 or float(template.std()) < 0.05:
        return None  # nothing printed here to align on
    pad = int(np.ceil(search * scale))
    sx, sy = round(start[0] * scale), round(start[1] * scale)
    y_from, x_from = top + sy - pad, left + sx - pad
    window = scan[
        max(0, y_from) : y_from + template.shape[0] + 2 * pad, max(0, x_from) : x_from + template.shape[1] + 2 * pad
    ]
    if window.shape[0] < template.shape[0] or window.shape[1] < template.shape[1]:
        return None
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if unique:
        near = max(1, int(np.ceil(1.0 * scale)))
        others = scores.copy()
        others[max(0, by - near) : by + near + 1, max(0, bx - near) : bx + near + 1] = -1.0
        if others.size and float(others.max()) > best - UNIQUE_MARGIN:
            return None
        # And sharp in both directions: a tile of one long line matches as well a millimetre along it.
        steps = [(by, bx - near), (by, bx + near), (by - near, bx), (by + near, bx)]
        inside = [scores[y, x] for y, x in steps if 0 <= y < scores.shape[0] and 0 <= x < scores.shape[1]]
        if len(inside) < 4 or float(max(inside)) > best - UNIQUE_MARGIN:
            return None
    return (max(0, x_from) + bx - left) / scale, (max(0, y_from) + by - top) / scale, float(best)


def _line(profile: np.ndarray, start: float) -> float | None:
    """Where (mm) the darkest line of a profile is, if it is clearly a printed line."""
    if profile.size == 0:
        return None
    index = int(np.argmax(profile))
    return start + index / SCALE if profile[index] > 0.3 else None


def _settle(image: np.ndarray, box: Box) -> Box:
    """The box moved onto its printed borders: each side's line found within BORDER_BAND mm, kept only when the
    lines found are as far apart as the box is wide and tall (a filled box, whose fill hides them, stays put).
    Both lines of a pair must move together, so the search cannot settle on a neighbour a row away."""
    band = SETTLE_BAND
    x0, x1 = int((box.x + 0.15 * box.w) * SCALE), int((box.x + 0.85 * box.w) * SCALE)
    y0, y1 = int((box.y + 0.15 * box.h) * SCALE), int((box.y + 0.85 * box.h) * SCALE)
    found: list[float | None] = []
    for edge in (box.y, box.y + box.h):
        start = max(0, int((edge - band) * SCALE))
        found.append(_line((1.0 - image[start : int((edge + band) * SCALE), x0:x1]).mean(axis=1), start / SCALE))
    for edge in (box.x, box.x + box.w):
        start = max(0, int((edge - band) * SCALE))
        found.append(_line((1.0 - image[y0:y1, start : int((edge + band) * SCALE)]).mean(axis=0), start / SCALE))
    top, bottom, left, right = found
    dy = dx = 0.0
    if top is not None and bottom is not None and abs((bottom - top) - box.h) < 0.25:
        dy = (top - box.y + bottom - box.y - box.h) / 2
    if left is not None and right is not None and abs((right - left) - box.w) < 0.25:
        dx = (left - box.x + right - box.x - box.w) / 2
    return replace(box, x=box.x + dx, y=box.y + dy)


def _border(image: np.ndarray, box: Box) -> float:
    """How clearly a box's printed border is where `box` says: for each side, the darkest line (averaged along the
    side) within BORDER_BAND mm of it, averaged over the four sides. A box placed half a millimetre off still
    finds its lines; one placed on the gap between two rows does not."""
    band = BORDER_BAND
    x0, x1 = int((box.x + 0.15 * box.w) * SCALE), int((box.x + 0.85 * box.w) * SCALE)
    y0, y1 = int((box.y + 0.15 * box.h) * SCALE), int((box.y + 0.85 * box.h) * SCALE)
    sides = []
    for edge in (box.y, box.y + box.h):  # top and bottom: rows, averaged across the box
        rows = image[max(0, int((edge - band) * SCALE)) : int((edge + band) * SCALE), x0:x1]
        sides.append(float((1.0 - rows).mean(axis=1).max()) if rows.size else 0.0)
    for edge in (box.x, box.x + box.w):  # left and right: columns, averaged down the box
        columns = image[y0:y1, max(0, int((edge - band) * SCALE)) : int((edge + band) * SCALE)]
        sides.append(float((1.0 - columns).mean(axis=0).max()) if columns.size else 0.0)
    return sum(sides) / 4


@dataclass(frozen=True)
class Answer:
    """What one question's boxes say: the value read (letters, T/F, points; '' for none), whether it stands
    without a person looking (`status` "read", "blank", "unmarked" for a score strip not filled in, or "review"),
    why not, and how sure the reader is."""

    number: int
    value: str
    status: str
    reason: str = ""
    confidence: float = 1.0


def _residue(reading: Reading) -> bool:
    return (
        reading.state == "unclear"
        and reading.coverage <= RESIDUE_COVERAGE
        and reading.ink <= RESIDUE_INK
        and reading.trace <= RESIDUE_TRACE
    )


def decide_question(number: int, readings: list[Reading], single: bool, strip: bool) -> Answer:
    """A question's answer from its boxes: bubbles (one value for a single-answer item, several for a multi one)
    or a score strip (an integer box, and ½). Faint marks beside a clear one are what an eraser left; anything
    else unclear, several marks where one belongs, or no score at all goes to review, never guessed."""
    filled = [r for r in readings if r.state == "filled"]
    unclear = [r for r in readings if r.state == "unclear" and not _residue(r)]
    residue = [r for r in readings if _residue(r)]
    confidence = min((r.confidence for r in readings if r.state != "unclear"), default=1.0)
    if any(r.lost for r in readings):
        return Answer(number, "", "review", label("review_lost"), 0.0)
    if unclear:
        shown = "、".join(r.box.label or r.box.value for r in unclear)
        return Answer(number, _value(filled, strip), "review", label("review_unclear", boxes=shown), 0.0)
    if strip:
        units = [r for r in filled if r.box.value != "0.5"]
        half = any(r.box.value == "0.5" for r in filled)
        if not filled:  # not marked yet (or skipped): the cell stays empty, and the run counts these
            return Answer(number, "", "unmarked", label("review_no_score"), confidence)
        if len({r.box.value for r in units}) > 1 and not _tens_and_units(units):
            return Answer(number, _value(filled, strip), "review", label("review_several_scores"), 0.0)
        if not units and half:
            return Answer(number, "0.5", "read", "", confidence)
        return Answer(number, _value(filled, strip), "read", "", confidence)
    if not filled:
        if residue:
            return Answer(number, "", "review", label("review_only_erased"), 0.0)
        return Answer(number, "", "blank", "", confidence)
    if single and len(filled) > 1:
        return Answer(number, _value(filled, strip), "review", label("review_several_boxes"), 0.0)
    return Answer(number, _value(filled, strip), "read", label("review_erasure_beside") if residue else "", confidence)


def _tens_and_units(units: list[Reading]) -> bool:
    tens = [r for r in units if int(r.box.value) >= 10]
    ones = [r for r in units if int(r.box.value) < 10]
    return len(tens) <= 1 and len(ones) <= 1


def _value(filled: list[Reading], strip: bool) -> str:
    if strip:
        total = sum(float(r.box.value) for r in filled)
        return f"{total:g}"
    return "".join(sorted(r.box.value for r in filled))
