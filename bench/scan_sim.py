"""Simulated students and scanners for the answer-sheet reader: marks drawn at the manifest's boxes, then the
page degraded as a scanner or a phone would (used by bench/scan_bench.py and tests/test_scan.py).

Everything is seeded: `random.Random(seed)` per page (the bench's own randomness, never paperkit's selection).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

from paperkit.exam.sheet import SheetLayout

# How a student marks a box (what the reader should make of it):
#   filled styles must read "filled"; the others must never read "filled" silently.
FILLED_STYLES = ("full", "pencil", "light", "overshoot")
WRONG_STYLES = ("tick", "cross", "dot", "half")  # 填涂示例's 错误 marks: unclear at worst, never filled
NOISE_STYLES = ("erased", "stray")  # must read empty (or unclear)


def render_page(pdf: bytes, page: int, dpi: int) -> np.ndarray:
    """A page of a PDF as a grayscale image (uint8) at `dpi`."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    bitmap = document[page].render(scale=dpi / 72, grayscale=True)
    image = np.array(bitmap.to_pil().convert("L"))
    document.close()
    return image


def _rect(box: object, px_per_mm: float) -> tuple[int, int, int, int]:
    x, y, w, h = (getattr(box, name) * px_per_mm for name in ("x", "y", "w", "h"))
    return int(x), int(y), int(x + w), int(y + h)


def mark(image: np.ndarray, box: object, style: str, px_per_mm: float, rng: random.Random) -> None:
    """Draw one mark into a box, in place. Graphite darkens what is under it and an eraser lifts only graphite:
    the mark is drawn on a white layer and laid over the page (the darker of the two wins), so printed borders
    and letters stay as dark as they were."""
    x0, y0, x1, y1 = _rect(box, px_per_mm)
    w, h = x1 - x0, y1 - y0
    top, left = max(0, y0 - h), max(0, x0 - w)
    bottom, right = min(image.shape[0], y1 + h), min(image.shape[1], x1 + w)
    layer = np.full((bottom - top, right - left), 255, np.uint8)
    _draw(layer, (x0 - left, y0 - top, x1 - left, y1 - top), style, px_per_mm, rng)
    np.minimum(image[top:bottom, left:right], layer, out=image[top:bottom, left:right])


def _draw(image: np.ndarray, rect: tuple[int, int, int, int], style: str, px_per_mm: float, rng: random.Random) -> None:
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    grey = {"full": rng.randint(10, 50), "pencil": rng.randint(60, 105), "light": rng.randint(115, 140)}.get(
        style, rng.randint(20, 70)
    )
    if style in ("full", "pencil", "light"):
        # Pencil strokes: cover 85–100 % of the box, a little jitter at the edges.
        pad_x, pad_y = rng.uniform(0.0, 0.12) * w, rng.uniform(0.0, 0.15) * h
        pts = np.array(
            [
                [x0 + pad_x * rng.random(), y0 + pad_y * rng.random()],
                [x1 - pad_x * rng.random(), y0 + pad_y * rng.random()],
                [x1 - pad_x * rng.random(), y1 - pad_y * rng.random()],
                [x0 + pad_x * rng.random(), y1 - pad_y * rng.random()],
            ],
            dtype=np.int32,
        )
        cv2.fillPoly(image, [pts], grey)
    elif style == "overshoot":
        cv2.ellipse(
            image,
            ((x0 + x1) // 2, (y0 + y1) // 2),
            (int(w * rng.uniform(0.55, 0.7)), int(h * rng.uniform(0.6, 0.8))),
            rng.uniform(-8, 8),
            0,
            360,
            grey,
            -1,
        )
    elif style == "tick":
        thick = max(1, round(px_per_mm * 0.45))  # a 2B pencil line, about 0.45 mm
        cv2.polylines(
            image,
            [
                np.array(
                    [[x0 + w * 0.15, y0 + h * 0.55], [x0 + w * 0.4, y1 - h * 0.1], [x1 - w * 0.1, y0 + h * 0.05]],
                    np.int32,
                )
            ],
            False,
            grey,
            thick,
        )
    elif style == "cross":
        thick = max(1, round(px_per_mm * 0.45))  # a 2B pencil line, about 0.45 mm
        cv2.line(image, (x0 + w // 8, y0 + h // 8), (x1 - w // 8, y1 - h // 8), grey, thick)
        cv2.line(image, (x1 - w // 8, y0 + h // 8), (x0 + w // 8, y1 - h // 8), grey, thick)
    elif style == "dot":
        cv2.circle(image, ((x0 + x1) // 2, (y0 + y1) // 2), max(2, int(min(w, h) * 0.28)), grey, -1)
    elif style == "half":
        cv2.rectangle(image, (x0 + 1, y0 + 1), ((x0 + x1) // 2, y1 - 1), grey, -1)
    elif style == "erased":
        # What an eraser leaves of a full fill: a light grey smudge.
        residue = rng.randint(200, 228)
        cv2.rectangle(image, (x0 + 1, y0 + 1), (x1 - 1, y1 - 1), residue, -1)
    elif style == "stray":
        thick = max(1, round(px_per_mm * 0.35))
        cv2.line(image, (x0 - w // 3, y0 + h // 2), (x0 + w // 4, y0 + h // 3), rng.randint(30, 90), thick)


@dataclass(frozen=True)
class Condition:
    """How a page is degraded: a scanner at some dpi, or a phone photo."""

    name: str
    dpi: int
    rotation: float = 0.0  # degrees, any
    jitter: float = 0.0  # ± degrees around the rotation
    keystone: float = 0.0  # share of the page's width the top edge shrinks by (a photo from below)
    shadow: float = 0.0  # how dark the darkest corner gets (0–1)
    blur: float = 0.0  # Gaussian sigma in px
    jpeg: int = 0  # quality (0: lossless)
    downscale: int = 0  # long side in px after a chat app's resize (0: none)
    curl: float = 0.0  # mm a page's edge lifts (a gentle bow)
    cover_marker: bool = False  # a thumb over one alignment mark


def degrade(image: np.ndarray, condition: Condition, rng: random.Random) -> np.ndarray:
    """The page as the condition's scanner or camera would deliver it (grayscale uint8, JPEG-decoded)."""
    h, w = image.shape
    out = image
    if condition.cover_marker:
        out = out.copy()
        # A thumb over one corner's marker (23 × 19 mm: the QR code below the top-right one stays clear).
        cw, ch = int(w * 0.11), int(h * 0.065)
        corner = rng.choice([(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)])
        cv2.rectangle(out, corner, (corner[0] + cw, corner[1] + ch), rng.randint(90, 150), -1)
    if condition.curl:
        px = condition.curl * w / 210
        map_x, map_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        bow = (np.sin(np.pi * map_x / w) * px).astype(np.float32)
        out = cv2.remap(out, map_x, map_y - bow, cv2.INTER_LINEAR, borderValue=255)
    # Put the page on a darker table with a margin, then turn and tilt it.
    pad = int(max(h, w) * (0.12 if condition.keystone or condition.jitter else 0.03))
    canvas = np.full((h + 2 * pad, w + 2 * pad), 235 if not condition.keystone else 120, np.uint8)
    canvas[pad : pad + h, pad : pad + w] = out
    angle = condition.rotation + rng.uniform(-condition.jitter, condition.jitter)
    ch, cw = canvas.shape
    center = (cw / 2, ch / 2)
    matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(ch * sin + cw * cos), int(ch * cos + cw * sin)
    matrix[0, 2] += nw / 2 - center[0]
    matrix[1, 2] += nh / 2 - center[1]
    border = 235 if not condition.keystone else 120
    out = cv2.warpAffine(canvas, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=border)
    if condition.keystone:
        h2, w2 = out.shape
        k = condition.keystone * w2 * rng.uniform(0.6, 1.0)
        src = np.float32([[0, 0], [w2, 0], [w2, h2], [0, h2]])
        dst = np.float32([[k, rng.uniform(0, k / 3)], [w2 - k, rng.uniform(0, k / 3)], [w2, h2], [0, h2]])
        out = cv2.warpPerspective(out, cv2.getPerspectiveTransform(src, dst), (w2, h2), borderValue=border)
    if condition.shadow:
        h2, w2 = out.shape
        yy, xx = np.mgrid[0:h2, 0:w2].astype(np.float32)
        cx, cy = rng.choice([(0, 0), (w2, 0), (0, h2), (w2, h2)])
        distance = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / math.hypot(w2, h2)
        light = 1.0 - condition.shadow * np.clip(1.0 - distance * 1.6, 0, 1)
        out = (out.astype(np.float32) * light).astype(np.uint8)
    if condition.blur:
        out = cv2.GaussianBlur(out, (0, 0), condition.blur)
    if condition.downscale and max(out.shape) > condition.downscale:
        factor = condition.downscale / max(out.shape)
        out = cv2.resize(out, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 2.0, out.shape)
    out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if condition.jpeg:
        _ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, condition.jpeg])
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return out


def as_png(image: np.ndarray) -> bytes:
    """A grayscale image as PNG bytes."""
    _ok, data = cv2.imencode(".png", image)
    return data.tobytes()


def as_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    """A grayscale image as JPEG bytes."""
    _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes()


def as_pdf(images: list[np.ndarray], dpi: int) -> bytes:
    """Scanned pages as one PDF (what a scanner's scan-to-PDF writes), each at `dpi`."""
    from PIL import Image

    pages = [Image.fromarray(image) for image in images]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()


def filled_pages(
    pdf: bytes, layout: SheetLayout, marks: dict[tuple[int, str], str], dpi: int, seed: int
) -> list[np.ndarray]:
    """Every page of a sheet as printed at `dpi`, with `marks` drawn: (question number, box value) → style
    (question 0 with a digit's value and the column in the key's number: see `id_marks`)."""
    import pypdfium2

    rng = random.Random(seed)
    px_per_mm = dpi / 25.4
    pages = []
    for page in range(1, len(pypdfium2.PdfDocument(pdf)) + 1):
        image = render_page(pdf, page - 1, dpi)
        for box in layout.boxes:
            if box.page != page:
                continue
            key = (box.number, box.value) if box.field == "q" else (-1 - box.number, box.value)
            if box.field == "absent":
                key = (0, "absent")
            style = marks.get(key)
            if style:
                mark(image, box, style, px_per_mm, rng)
        pages.append(image)
    return pages


def id_marks(student_id: str, style: str = "full") -> dict[tuple[int, str], str]:
    """The marks of a 考号 filled in on a blank sheet: column c's digit is key (-1 - c, digit)."""
    return {(-1 - column, digit): style for column, digit in enumerate(student_id)}
