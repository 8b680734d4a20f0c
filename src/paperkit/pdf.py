"""HTML to PDF bytes with WeasyPrint: shipped fonts, a fetcher that loads only our own files, tags, metadata."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import RenderError
from .fonts import FACES, font_paths
from .paths import ASSETS, FONTS, TEMPLATES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AllowList:
    """What one document may load: files under `roots`, and exactly the `data_uris` paperkit made for it."""

    data_uris: frozenset[str] = frozenset()
    roots: tuple[Path, ...] = (TEMPLATES, FONTS, ASSETS)


def fonts_css() -> str:
    """@font-face rules for the shipped faces (the only fonts documents may use)."""
    rules = []
    for face, path in zip(FACES, font_paths(), strict=True):
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
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
            if url.startswith("data:"):
                if url in allow.data_uris:
                    return super().fetch(url, headers)
                return self._refuse(url)
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
            "libharfbuzz-subset0 is missing: fonts are subset with fontTools, ~14x slower. "
            "Run `make` (as root) to install it."
        )


def lay_out(html: str, stylesheets: list[str], allow: AllowList):
    """Lay out HTML with the given CSS texts into pages (to count or inspect them); refused loads are errors."""
    isolate_fonts()
    from weasyprint import CSS, HTML

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
        raise RenderError(f"the PDF engine failed: {type(error).__name__}: {error}") from None
    if record.refused:
        raise RenderError(
            "refused to load "
            + ", ".join(sorted(set(record.refused)))
            + " (documents may load only paperkit's templates, fonts and assets)"
        )
    return document


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
    if not value.isdigit():
        raise RenderError(f"SOURCE_DATE_EPOCH={value}: expected a whole number of seconds since 1970-01-01 (UTC)")
    moment = datetime.datetime.fromtimestamp(int(value), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_document(document, identifier: bytes) -> bytes:
    """A laid-out document as tagged PDF bytes, dated by its content or SOURCE_DATE_EPOCH, never by the clock."""
    fallback = source_date()  # checked even when unused: a malformed value is an error, not silently ignored
    if not document.metadata.created:
        document.metadata.created = fallback or None
    try:
        return document.write_pdf(pdf_tags=True, pdf_identifier=identifier, uncompressed_pdf=False)
    except Exception as error:  # as in lay_out: name the engine's failure, don't trace it
        raise RenderError(f"the PDF engine failed: {type(error).__name__}: {error}") from None


def merge_for_duplex(documents: list[bytes]) -> bytes:
    """One print job from several PDFs, each padded with blank pages to an even count so it starts a new sheet."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in documents:
        reader = PdfReader(io.BytesIO(data))
        writer.append(reader, import_outline=False)
        if len(reader.pages) % 2:
            last = reader.pages[-1].mediabox
            writer.add_blank_page(width=last.width, height=last.height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def impose_two_up(data: bytes, sheet_mm: tuple[float, float]) -> bytes:
    """Pages two to a side of a landscape sheet (1|2, 3|4, …), in order for duplex printing; an odd last page
    gets an empty right column."""
    import io

    from pypdf import PdfReader, PdfWriter, Transformation

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    width, height = (size * 72 / 25.4 for size in sheet_mm)
    for first in range(0, len(reader.pages), 2):
        side = writer.add_blank_page(width=width, height=height)
        for column, page in enumerate(reader.pages[first : first + 2]):
            side.merge_transformed_page(page, Transformation().translate(tx=column * width / 2, ty=0))
    writer.add_metadata({k: v for k, v in (reader.metadata or {}).items() if isinstance(v, str)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
