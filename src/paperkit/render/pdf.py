"""HTML to PDF bytes with WeasyPrint: shipped fonts, a fetcher that loads only our own files, tags, metadata.
(About 400 lines: everything that touches WeasyPrint's API is here, so an upgrade is one file to read.)"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from paperkit.errors import RenderError
from paperkit.i18n import _
from paperkit.paths import ASSETS, FONTS, FORMULA_SCHEME, TEMPLATES
from paperkit.text.fonts import all_faces, font_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AllowList:
    """What one document may load: files under `roots`, and exactly the formula images paperkit made for it
    (by their formula: URL); no data: URI, no other scheme."""

    formulas: Mapping[str, bytes] = field(default_factory=dict)
    roots: tuple[Path, ...] = (TEMPLATES, FONTS, ASSETS)


def fonts_css() -> str:
    """@font-face rules for the shipped faces (the only fonts documents may use)."""
    rules = []
    faces = all_faces()
    for face, path in zip(faces, font_paths(faces), strict=True):
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; font-style: {face.style}; '
            f'src: url("{path.resolve().as_uri()}"); }}'
        )
    return "\n".join(rules)


@dataclass
class Fetched:
    """The URLs a render asked for and was refused (a refused load fails the render)."""

    refused: list[str] = field(default_factory=list)


def allowed_file(url: str, roots: tuple[Path, ...]) -> Path | None:
    """The file a file: URL names, if it lies under one of `roots` once decoded and resolved; else None.

    Percent-escapes are decoded first and the path resolved (`..` and symlinks followed) before the check,
    so neither `%2e%2e/` nor a symlink inside a root can reach a file outside it.
    """
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(unquote(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    inside = any(path.is_relative_to(root.resolve()) for root in roots)
    return path if inside and path.is_file() else None


def _make_fetcher(allow: AllowList, record: Fetched):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Serves files under the allowed roots and the document's own formula images; refuses everything else."""

        def fetch(self, url: str, headers=None):
            if url.startswith(FORMULA_SCHEME):
                image = allow.formulas.get(url)
                if image is None:
                    return self._refuse(url)
                return URLFetcherResponse(url, image, {"Content-Type": _mime(Path(url))})
            path = allowed_file(url, allow.roots)
            if path is None:
                return self._refuse(url)
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _mime(path)})

        def _refuse(self, url: str) -> None:
            shown = url if len(url) < 80 else url[:77] + "..."
            record.refused.append(shown)
            raise ValueError(f"paperkit refuses to load {shown}")

    return SafeFetcher()


def _mime(path: Path) -> str:
    return {
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".otf": "font/otf",
        ".ttf": "font/ttf",
        ".woff2": "font/woff2",
    }.get(path.suffix.lower(), "application/octet-stream")


def isolate_fonts() -> None:
    """Make fontconfig see no system fonts, only the shipped faces WeasyPrint loads (call before it starts).

    Output must not depend on the machine: with system fonts visible, a character the shipped faces lack
    would be drawn by whatever CJK font happens to be installed (or be a tofu box where none is).
    """
    import os
    import warnings

    os.environ["FONTCONFIG_FILE"] = str(FONTS / "fonts.conf")
    # WeasyPrint warns at import that fontconfig has no fonts: that is the point; ours come by @font-face.
    warnings.filterwarnings("ignore", message="No fonts configured in FontConfig")


@functools.lru_cache(maxsize=1)
def _font_config():
    # One FontConfiguration per process: fonts are loaded once even when a roster renders many papers.
    isolate_fonts()
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.lru_cache(maxsize=1)
def warn_if_slow_subsetting() -> None:
    """Warn once per process when HarfBuzz subsetting is missing (the fontTools fallback is ~14x slower)."""
    from weasyprint.text.ffi import harfbuzz_subset

    if not harfbuzz_subset:
        log.warning(
            _(
                "libharfbuzz-subset0 is missing: fonts are subset with fontTools, ~14x slower. "
                "Run `make` (as root) to install it."
            )
        )


def lay_out(html: str, stylesheets: list[str], allow: AllowList):
    """Lay out HTML with the given CSS texts into pages (to count or inspect them); refused loads are errors."""
    isolate_fonts()
    from weasyprint import CSS, HTML
    from weasyprint import svg as weasy_svg

    from paperkit.text.svgpath import install

    install(weasy_svg)  # formulas' outlines are copied, not parsed (see svgpath)
    warn_if_slow_subsetting()
    record = Fetched()
    fetcher = _make_fetcher(allow, record)
    base_url = TEMPLATES.resolve().as_uri() + "/"
    font_config = _font_config()
    try:
        source = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        css = [CSS(string=fonts_css(), font_config=font_config, url_fetcher=fetcher)]
        css += [
            CSS(string=text, base_url=base_url, font_config=font_config, url_fetcher=fetcher) for text in stylesheets
        ]
        document = source.render(stylesheets=css, font_config=font_config, pdf_tags=True)
    except RenderError:
        raise
    except Exception as error:  # WeasyPrint raises assorted types for broken input; name it, don't trace it
        raise RenderError(
            _("the PDF engine failed: {kind}: {error}").format(kind=type(error).__name__, error=error)
        ) from None
    if record.refused:
        raise RenderError(
            _("refused to load {urls} (documents may load only paperkit's templates, fonts and assets)").format(
                urls=", ".join(sorted(set(record.refused)))
            )
        )
    return document


def overflows(document) -> list[tuple[int, str]]:
    """(page number, text) of every piece of text or image that reaches past its page's text area.

    The stylesheets wrap long words and scale wide formulas, so this is a gate: anything still
    running off the page (a formula that cannot break, a long course name) is found here, not on paper.
    """
    from weasyprint.formatting_structure import boxes

    found: list[tuple[int, str]] = []
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        left = box.margin_left + box.border_left_width + box.padding_left
        right = left + box.width
        stack = [box]
        while stack:
            current = stack.pop()
            if isinstance(current, boxes.MarginBox):
                continue  # running headers, page numbers and the seal line live in the margins
            if isinstance(current, boxes.TextBox | boxes.InlineReplacedBox):
                start, end = current.position_x, current.position_x + current.margin_width()
                # Up to 3 px (0.8 mm) is not an overflow: a closing mark (，) kept with the last letters of a
                # broken long word can reach that far into the margin, where no one sees it on paper.
                if end > right + 3 or start < left - 3:
                    found.append((number, getattr(current, "text", "") or _("(a formula)")))
            stack.extend(reversed(getattr(current, "children", ())))
    return found


def document_identifier(html: str, stylesheets: list[str]) -> bytes:
    """A stable /ID derived from the input: the same document always gets the same bytes."""
    return hashlib.sha256("\0".join([html, *stylesheets]).encode()).hexdigest()[:32].encode()


def source_date() -> str:
    """SOURCE_DATE_EPOCH as a W3C date-time ('' when unset): the only clock a document may show."""
    import datetime
    import os

    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return ""
    # 253402300799 is 9999-12-31T23:59:59Z, the last moment a PDF date can hold.
    if not value.isdigit() or len(value) > 12 or int(value) > 253402300799:
        raise RenderError(
            _(
                "SOURCE_DATE_EPOCH={value}: expected a whole number of seconds since 1970-01-01 (UTC), "
                "at most 253402300799 (the end of the year 9999)"
            ).format(value=value[:20])
        )
    moment = datetime.datetime.fromtimestamp(int(value), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_document(document, identifier: bytes, tags: bool = True) -> bytes:
    """A laid-out document as PDF bytes (tagged unless `tags` is off), dated by its content or SOURCE_DATE_EPOCH,
    never by the clock."""
    fallback = source_date()  # checked even when unused: a malformed value is an error, not silently ignored
    if not document.metadata.created:
        document.metadata.created = fallback or None
    try:
        return document.write_pdf(pdf_tags=tags, pdf_identifier=identifier, uncompressed_pdf=False)
    except Exception as error:  # as in lay_out: name the engine's failure, don't trace it
        raise RenderError(
            _("the PDF engine failed: {kind}: {error}").format(kind=type(error).__name__, error=error)
        ) from None


def merge_for_duplex(documents: Iterable[bytes], titles: Sequence[str] = (), padding: bytes | None = None) -> bytes:
    """One print job from several PDFs, each padded to an even page count so it starts a new sheet.

    `titles` gives each document a bookmark; `padding` is the one-page PDF a padding page shows (本页无试题),
    a blank page without it. Each font is embedded once for the whole job (see SharedFonts). `documents` may
    be a generator: each is read, appended and let go, so memory grows with the pages, not the documents.
    """
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    fonts = SharedFonts(writer)
    pad = PdfReader(io.BytesIO(padding)) if padding is not None else None
    if pad is not None:
        fonts.take(pad)
    for index, data in enumerate(documents):
        reader = PdfReader(io.BytesIO(data))
        fonts.take(reader)
        start = len(writer.pages)
        writer.append(reader, import_outline=False)
        _let_go(writer, reader, start)
        if index < len(titles):
            writer.add_outline_item(title=titles[index], page_number=start)
        if len(reader.pages) % 2:
            if pad is not None:
                writer.append(pad, import_outline=False)  # the same pad each time: its objects are cloned once
            else:
                last = reader.pages[-1].mediabox
                writer.add_blank_page(width=last.width, height=last.height)
    fonts.finish()
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _let_go(writer, reader, start: int) -> None:
    """Drop what ties the writer to an appended reader, so the reader (its bytes and parsed objects) is freed.

    pypdf keeps every appended reader alive to translate later links into it (the translation table, the
    merged-pages map and each page's `original_page`); our documents link nowhere into one another. Without
    this a class of 200 held 290 MB after the merge; with it, 90 MB.
    """
    writer.reset_translation(reader)
    writer._merged_in_pages.clear()
    for page in writer.pages[start:]:
        vars(page).pop("original_page", None)


def face_files() -> dict[str, Path]:
    """The PDF font name WeasyPrint gives each shipped face ("PK-Serif-Bold", "PK-Math-Italic"), and its file."""
    return {
        face.family.replace(" ", "-").replace("-Extra", "")
        + ("-Bold" if face.weight == 700 else "")
        + ("-Italic" if face.style == "italic" else "")
        + ("-Extra" if face.of else ""): FONTS / face.file
        for face in all_faces()
    }


@dataclass(frozen=True)
class EmbeddedFace:
    """A shipped face as a document embeds it: its name, its CID font and the descriptor's program key."""

    face: str
    descendant: Any
    descriptor: Any
    key: str  # /FontFile3 (CFF: the CJK faces) or /FontFile2 (TrueType: the math faces)

    @property
    def codes(self) -> set[int]:
        """The glyph codes the font's /W array lists: `c [w …]` runs and `first last w` ranges."""
        from pypdf.generic import IndirectObject

        # Resolved here rather than by _resolved: a handbook's arrays hold some 300,000 items.
        items: list[Any] = [
            i.get_object() if isinstance(i, IndirectObject) else i for i in self.descendant.get("/W", [])
        ]
        codes: set[int] = set()
        index = 0
        while index < len(items):
            first = int(items[index])
            if not isinstance(items[index + 1], int | float):
                codes.update(range(first, first + len(items[index + 1])))
                index += 2
            else:
                codes.update(range(first, int(items[index + 1]) + 1))
                index += 3
        return codes


def embedded_face(font: Any, files: Mapping[str, Path]) -> EmbeddedFace | None:
    """The shipped face a font dictionary (pypdf's or pikepdf's) embeds, or None for any other font."""
    face = str(font.get("/BaseFont", "")).split("+", 1)[-1].replace("-Oblique", "")
    if font.get("/Subtype") != "/Type0" or face not in files:
        return None
    descendant = _resolved(_resolved(font["/DescendantFonts"])[0])
    descriptor = _resolved(descendant["/FontDescriptor"])
    key = next((k for k in ("/FontFile3", "/FontFile2") if k in descriptor), None)
    return EmbeddedFace(face, descendant, descriptor, key) if key is not None else None


def _resolved(value: Any) -> Any:
    """A pypdf reference resolved (pikepdf resolves its own)."""
    from pypdf.generic import IndirectObject

    return value.get_object() if isinstance(value, IndirectObject) else value


class SharedFonts:
    """One font program per shipped face for every document of a merged job: the union of their glyphs.

    Each document embeds its own subset of each face, with the face's glyph ids kept (as WeasyPrint embeds
    fonts), so one program holding every glyph any of them uses serves them all: a class of 45 embeds the
    fonts once instead of 45 times. `take` points a document's font descriptors at the shared program before
    it is appended (so its own program is never copied), `finish` cuts the program. A font that is not a
    shipped face is left as it is.
    """

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.files = face_files()
        self.programs: dict[str, Any] = {}  # face → the writer's (still empty) font program stream
        self.used: dict[str, set[int]] = {}

    def take(self, reader: Any) -> None:
        """Record the glyphs each shipped face of `reader` uses and point its descriptors at the shared program."""
        from pypdf.generic import DecodedStreamObject, NameObject

        for page in reader.pages:
            resources = page.get("/Resources")
            fonts = resources.get_object().get("/Font") if resources is not None else None
            for font in (fonts.get_object() if fonts is not None else {}).values():
                embedded = embedded_face(font.get_object(), self.files)
                if embedded is None:
                    continue
                if embedded.face not in self.programs:
                    stream = DecodedStreamObject()
                    if embedded.key == "/FontFile3":
                        stream[NameObject("/Subtype")] = NameObject("/OpenType")
                    self.programs[embedded.face] = self.writer._add_object(stream.flate_encode())
                self.used.setdefault(embedded.face, set()).update(embedded.codes)
                embedded.descriptor[NameObject(embedded.key)] = self.programs[embedded.face]

    def finish(self) -> None:
        """Cut each shared program from the shipped face: every glyph the taken documents use, ids kept."""
        from paperkit.render.hbsubset import subset_font

        for face, program in self.programs.items():
            program.get_object().set_data(subset_font(self.files[face].read_bytes(), self.used[face]))


DUPLEX_NOTE = "双面打印请选「短边翻转」(duplex: flip on the short edge)"


def impose_two_up(data: bytes, sheet_mm: tuple[float, float]) -> bytes:
    """Pages two to a side of a landscape sheet (1|2, 3|4, …), in order for duplex printing; an odd last page
    gets an empty right column."""
    import io

    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    width, height = (size * 72 / 25.4 for size in sheet_mm)
    for first in range(0, len(reader.pages), 2):
        side = writer.add_blank_page(width=width, height=height)
        for column, page in enumerate(reader.pages[first : first + 2]):
            side.merge_transformed_page(page, Transformation().translate(tx=column * width / 2, ty=0))
    writer.add_metadata({k: v for k, v in (reader.metadata or {}).items() if isinstance(v, str)})
    # Landscape sides printed both ways round must flip on the short edge (短边翻转) or every back is upside
    # down: said where a print dialog looks (the PDF's duplex preference) and where a person does (Subject).
    writer.create_viewer_preferences()[NameObject("/Duplex")] = NameObject("/DuplexFlipShortEdge")
    writer.add_metadata({"/Subject": DUPLEX_NOTE})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
