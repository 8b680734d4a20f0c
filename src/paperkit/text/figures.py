"""Figures in content texts: `![caption](figures/circuit.svg){width=40% right}` in any text field.

When the content is read, each reference is checked (a file inside the source, of the type its bytes say, within
the size limits, an SVG with no script or external reference, a raster sharp enough at its printed width) and
rewritten to a content-addressed `formula:fig-<hash>.<ext>` URL whose bytes this module keeps: the PDF stage
serves them from memory as it serves formulas, so WeasyPrint never reads a file of the teacher's. The bytes are
the same in every worker (they are forked after the content is read) and the URL names them, so two sources, or
an edited figure, can never be confused.

Placement: centred on a line of its own (the default, numbered 图 1, 图 2 … in the document with its caption),
`right` (floated beside the text, as Chinese papers set a figure beside its stem), or `inline` (in the line,
no number: a small symbol or a figure option). Width: `width=40mm` or `width=50%` of the text column.
"""

from __future__ import annotations

import hashlib
import re
import struct
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from paperkit.i18n import _
from paperkit.paths import FORMULA_SCHEME

FIGURE = re.compile(r"!\[(?P<caption>[^\]\n]*)\]\((?P<src>[^()\s]+)\)(?:\{(?P<options>[^{}\n]*)\})?")
FIGURE_PREFIX = f"{FORMULA_SCHEME}fig-"
# A reference the content reader checked and pointed at kept bytes: only these print as figures (an image
# written in a code span, or escaped as \![, stays text).
KEPT = re.compile(
    r"!\[(?P<caption>[^\]\n]*)\]\((?P<src>" + re.escape(FIGURE_PREFIX) + r"[0-9a-f]+\.(?:svg|png|jpg))\)"
    r"(?:\{(?P<options>[^{}\n]*)\})?"
)
MAX_FIGURE_BYTES = 4 * 1024 * 1024  # a figure for a printed page; a larger file is a photo to scale down
MAX_PIXELS = 40_000_000  # decoding a larger raster would take gigabytes
MIN_DPI = 300  # below this at its printed width a raster prints soft
TEXT_WIDTH_MM = 170.0  # the A4 text column a width in % is measured against (for the resolution check)
DEFAULT_WIDTH = "60%"
FOLDER = "figures"  # the source's folder figures are read from, and the only one
KINDS = {".svg": "svg", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
MIME = {"svg": "image/svg+xml", "png": "image/png", "jpeg": "image/jpeg"}

_images: dict[str, bytes] = {}  # URL → bytes, filled as content is read (content-addressed: never stale)


class FigureProblem(ValueError):
    """A figure reference or file that cannot be printed; the message says why and what to do."""


@dataclass(frozen=True)
class Placement:
    """Where a figure goes and how wide it is printed."""

    place: str = "center"  # center | right | inline
    width: str = DEFAULT_WIDTH  # CSS: "40mm" or "60%"

    @property
    def width_mm(self) -> float:
        """The printed width in mm (a % of the A4 text column)."""
        number = float(self.width[:-2] if self.width.endswith("mm") else self.width[:-1])
        return number if self.width.endswith("mm") else number * TEXT_WIDTH_MM / 100


_WIDTH = re.compile(r"width=(\d{1,3}(?:\.\d{1,2})?)(mm|%)")


def parse_options(text: str) -> Placement:
    """`{width=40% right}` into a Placement; FigureProblem for anything else."""
    place, width = "center", DEFAULT_WIDTH
    for word in re.split(r"[\s,，]+", text.strip()):
        if not word:
            continue
        if word in ("center", "right", "inline"):
            place = word
            continue
        match = _WIDTH.fullmatch(word)
        if match is None:
            raise FigureProblem(
                _("figure option '{option}' is not one of width=…mm, width=…%, center, right, inline").format(
                    option=word[:30]
                )
            )
        number, unit = float(match[1]), match[2]
        if (unit == "mm" and not 3 <= number <= 180) or (unit == "%" and not 3 <= number <= 100):
            raise FigureProblem(_("figure width {width} is out of range (3–180 mm, or 3–100 %)").format(width=word[6:]))
        width = f"{match[1]}{unit}"
    return Placement(place, width)


def read_figure(root: Path, src: str) -> tuple[bytes, str]:
    """A figure file named relative to the source folder: its bytes and kind (svg, png, jpeg)."""
    parts = Path(src).parts
    if src.startswith(("/", "\\")) or ":" in src or ".." in parts or len(parts) < 2 or parts[0] != FOLDER:
        raise FigureProblem(
            _("figure '{src}': give a file of the source's {folder}/ folder, like {folder}/circuit.svg").format(
                src=src[:60], folder=FOLDER
            )
        )
    kind = KINDS.get(Path(src).suffix.lower())
    if kind is None:
        raise FigureProblem(_("figure '{src}': expected an .svg, .png or .jpg file").format(src=src[:60]))
    path = root / src
    try:
        if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()):
            raise FigureProblem(_("figure '{src}': a link out of the source folder is not read").format(src=src))
        if not path.is_file():
            raise FigureProblem(_("figure '{src}': no such file in {folder}").format(src=src, folder=root))
        if path.stat().st_size > MAX_FIGURE_BYTES:
            raise FigureProblem(
                _("figure '{src}': larger than {size} MB; scale it down").format(
                    src=src, size=MAX_FIGURE_BYTES // 1024 // 1024
                )
            )
        data = path.read_bytes()
    except OSError as error:
        raise FigureProblem(
            _("figure '{src}': cannot be read ({reason})").format(src=src, reason=error.strerror)
        ) from None
    if _kind_of(data) != kind:
        found = _kind_of(data)
        if found is None:
            raise FigureProblem(
                _("figure '{src}': its name says {kind} but its bytes are NOT AN IMAGE").format(
                    src=src, kind=kind.upper()
                )
            )
        raise FigureProblem(
            _("figure '{src}': its name says {kind} but its bytes are {found}").format(
                src=src, kind=kind.upper(), found=found.upper()
            )
        )
    if kind == "svg":
        check_svg(data, src)
    return data, kind


def _kind_of(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "svg" if head.startswith((b"<svg", b"<?xml", b"<!--")) and b"<svg" in data[:65536].lower() else None


_EXTERNAL = re.compile(r"^\s*(?!#)\S")  # any reference that is not to an element of the same file


def check_svg(data: bytes, src: str) -> None:
    """An SVG a page may draw: well-formed, no DTD or entities, no script, event handler, foreign object or
    reference to anything outside it (WeasyPrint would try to load it)."""
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        raise FigureProblem(
            _("figure '{src}': an SVG with a DOCTYPE or entities is not read; save it as plain SVG").format(src=src)
        )
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise FigureProblem(_("figure '{src}': not well-formed SVG ({error})").format(src=src, error=error)) from None
    if _local(root.tag) != "svg":
        raise FigureProblem(
            _("figure '{src}': not an SVG drawing (its root is <{tag}>)").format(src=src, tag=_local(root.tag))
        )
    for element in root.iter():
        tag = _local(element.tag)
        if tag in ("script", "foreignObject", "iframe", "object", "embed"):
            raise FigureProblem(_("figure '{src}': <{tag}> is not allowed in a figure").format(src=src, tag=tag))
        for name, value in element.attrib.items():
            local = _local(name)
            if local.lower().startswith("on"):
                raise FigureProblem(
                    _("figure '{src}': the event handler {attribute}= is not allowed in a figure").format(
                        src=src, attribute=local
                    )
                )
            if local == "href" and _EXTERNAL.match(value):
                raise FigureProblem(
                    _("figure '{src}': <{tag}> refers to '{target}'; embed it in the SVG instead").format(
                        src=src, tag=tag, target=value[:40]
                    )
                )
            if "url(" in value and re.search(r"url\(\s*['\"]?(?!#)", value):
                raise FigureProblem(
                    _("figure '{src}': {attribute}= refers to a file; only #ids of the SVG itself").format(
                        src=src, attribute=local
                    )
                )
        if tag == "style" and re.search(r"@import|url\(\s*['\"]?(?!#)", element.text or ""):
            raise FigureProblem(
                _("figure '{src}': its <style> loads a file; only #ids of the SVG itself").format(src=src)
            )


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def raster_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """A PNG's or JPEG's size in pixels, read from its header (None if it cannot be found)."""
    if kind == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if kind == "jpeg":
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return width, height
            at += 2 + length
    return None


def check_raster(data: bytes, kind: str, placement: Placement, src: str) -> str:
    """FigureProblem for a raster too large to decode; a warning ('' if none) for one that prints soft."""
    size = raster_size(data, kind)
    if size is None:
        raise FigureProblem(
            _("figure '{src}': its {kind} header gives no size; save it again").format(src=src, kind=kind.upper())
        )
    width, height = size
    if width * height > MAX_PIXELS:
        raise FigureProblem(
            _("figure '{src}': {width}×{height} pixels is more than a page needs; scale it down").format(
                src=src, width=width, height=height
            )
        )
    dpi = width / (placement.width_mm / 25.4)
    if dpi < MIN_DPI:
        return _(
            "figure '{src}' is {width} pixels wide: {dpi:.0f} dpi at {printed}, under the {minimum} dpi "
            "a printed figure needs (give it {pixels} pixels or print it smaller)"
        ).format(
            src=src,
            width=width,
            dpi=dpi,
            printed=placement.width,
            minimum=MIN_DPI,
            pixels=round(MIN_DPI * placement.width_mm / 25.4),
        )
    return ""


def keep(data: bytes, kind: str) -> str:
    """The URL a figure's bytes are served under (kept for this process and the workers it forks)."""
    suffix = "svg" if kind == "svg" else "png" if kind == "png" else "jpg"
    uri = f"{FIGURE_PREFIX}{hashlib.sha256(data).hexdigest()[:24]}.{suffix}"
    _images[uri] = data
    return uri


def figure_image(uri: str) -> bytes | None:
    """A kept figure's bytes."""
    return _images.get(uri)


def figure_html(uri: str, caption: Markup, placement: Placement) -> Markup:
    """A figure as HTML: an image (inline), or a numbered block with its caption (centre, right)."""
    style = f"width:{placement.width}"
    if placement.place == "inline":
        return Markup(f'<img class="fig-inline" src="{uri}" alt="{escape(str(caption))}" style="{style}">')
    caption_html = Markup('<span class="fig-caption">{}</span>').format(caption) if caption else Markup("")
    return (
        Markup(
            f'<span class="fig fig-{placement.place}" style="{style}"><img src="{uri}" alt="{escape(str(caption))}">'
        )
        + caption_html
        + Markup("</span>")
    )
