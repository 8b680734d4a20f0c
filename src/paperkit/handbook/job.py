"""The handbook and checklist jobs: a source folder into their PDFs (and HTML), written through output.py."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paperkit.cache import cache_key, prune_cached, read_cached, write_cached
from paperkit.content.models import Handbook
from paperkit.errors import OutputError, RenderError
from paperkit.handbook.context import (
    CHECKLIST_LAYOUTS,
    ChecklistLayout,
    checklist_context,
    estimate_checklist_pages,
    exercises_document,
    handbook_document,
)
from paperkit.handbook.options import DEFAULTS, HandbookOptions
from paperkit.handbook.parts import hint_key, part_count
from paperkit.handbook.rebuild import Built, build_key, keep_build, rebuild_from_cache
from paperkit.i18n import _
from paperkit.output import check_kept, check_output, write_atomic, write_kept
from paperkit.render.document import LaidOut, lay_out_document, render_template
from paperkit.render.fingerprint import build_fingerprint
from paperkit.render.page import DEFAULT_PAGE, PageGeometry
from paperkit.render.pdf import overflows
from paperkit.source import open_handbook, select_modules
from paperkit.text.drawn import collecting_formulas, inline_formulas


@dataclass(frozen=True)
class Rendered:
    """A rendered document: the HTML that was laid out, its PDF bytes and page count."""

    html: str
    pdf: bytes
    pages: int
    document: Any = field(default=None, compare=False, repr=False)  # the laid-out pages, for inspection
    overflow: str = ""  # with allow_overflow: what runs past the page edge
    formulas: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)  # formula: URL → SVG

    def browser_html(self) -> str:
        """The HTML as one file a browser can show: its formula images inlined as data: URIs."""
        return inline_formulas(self.html, self.formulas)


def _rendered(laid: LaidOut) -> Rendered:
    return Rendered(laid.html, laid.pdf(), laid.pages, laid.document, laid.overflow, laid.formulas)


def render_handbook(handbook: Handbook, options: HandbookOptions = DEFAULTS) -> Rendered:
    """The handbook as HTML and PDF, set as `options` say (a proof of `options.modules` has page numbers of its
    own, and its cover says so); text past the page edge is a RenderError, or with `options.allow_overflow` the
    Rendered's `overflow` message."""
    doc = handbook_document(handbook, options)
    laid = lay_out_document(
        doc.template, list(doc.stylesheets), doc.context, options.page, allow_overflow=options.allow_overflow
    )
    return _rendered(laid)


def render_handbook_in_parts(
    handbook: Handbook, options: HandbookOptions, runs: int, hint: str = "", html: bool = False, jobs: int = 0
) -> Rendered:
    """The whole handbook laid out as its front matter and `runs` runs of modules on `jobs` worker processes (one
    per part when 0), joined into one PDF (parts.py, assemble.py); the same pages as render_handbook, and the
    same bytes whatever `jobs` is. `hint` names the cached page numbers of the last build; with `html` the
    Rendered carries the one-document HTML too."""
    from paperkit.handbook.parts import Unsettled, lay_out_in_parts
    from paperkit.render.assemble import join_parts
    from paperkit.render.workers import lazy_engine

    workers = min(jobs or runs + 1, runs + 1)
    try:
        with lazy_engine(workers) as engine:  # no worker starts when every part is in the cache
            laid = lay_out_in_parts(handbook, options, engine, runs, hint)
    except Unsettled:  # a page count that flips with a page number's width: one process always settles
        return render_handbook(handbook, options)
    page_html, formulas = handbook_html(handbook, options) if html else ("", {})
    pdf = _joined([part.pdf for part in laid.parts], laid.numbers, join_parts)
    return Rendered(page_html, pdf, laid.pages, None, laid.overflow, formulas)


JOINED_CACHE = "handbook-joined"
MAX_JOINED = 8  # about 1 MB each: the last few handbooks and editions


def _joined(parts: list[bytes], numbers: bytes, join: Callable[[list[bytes], bytes], bytes]) -> bytes:
    """The parts joined and stamped; the same parts and stamp as a build before give that build's PDF from the
    cache (the join is deterministic, so the bytes are the same either way; it is most of a build with no change)."""
    digests = (hashlib.sha256(data).hexdigest() for data in (*parts, numbers))
    key = cache_key(JOINED_CACHE, build_fingerprint(), *digests)  # the join's code and libraries too
    cached = read_cached(JOINED_CACHE, key)
    if cached is not None and cached.startswith(b"%PDF-"):
        return cached
    pdf = join(parts, numbers)
    write_cached(JOINED_CACHE, key, pdf)
    prune_cached(JOINED_CACHE, MAX_JOINED)
    return pdf


def handbook_html(handbook: Handbook, options: HandbookOptions) -> tuple[str, dict[str, bytes]]:
    """The handbook's HTML as one document (for --html) and its formula images, without laying it out."""
    with collecting_formulas() as formulas:
        doc = handbook_document(handbook, options)
        page_html = render_template(doc.template, doc.context)
    return page_html, dict(formulas)


def render_checklist(
    handbook: Handbook, page: PageGeometry, layouts: tuple[ChecklistLayout, ...] = CHECKLIST_LAYOUTS
) -> Rendered:
    """The checklist on exactly one page: the roomiest layout that fits, or a RenderError if none does."""
    # Rendering an overflowing layout costs seconds, so a cheap estimate picks where to start and
    # rejects hopeless content; the rendered page count has the last word.
    estimates = [estimate_checklist_pages(handbook, layout, page) for layout in layouts]
    pages = math.ceil(estimates[-1])
    if estimates[-1] <= 1.5:
        start = next((n for n, estimate in enumerate(estimates) if estimate <= 1.1), len(layouts) - 1)
        for layout in layouts[start:]:
            context = checklist_context(handbook, layout, page)
            laid = lay_out_document("checklist.html.j2", ["checklist.css.j2"], context, page, check_overflow=False)
            if laid.pages > 1:
                # The columns were balanced by estimated heights; balance them by the measured ones and retry
                # (a module is as tall in any column of a layout).
                measured = laid.block_heights("mod")
                if len(measured) == len(handbook.modules):
                    context = checklist_context(handbook, layout, page, measured)
                    laid = lay_out_document(
                        "checklist.html.j2", ["checklist.css.j2"], context, page, check_overflow=False
                    )
            pages = laid.pages
            if pages == 1 and not overflows(laid.document):  # a layout whose columns overflow is no fit
                return _rendered(laid)
    raise RenderError(
        _(
            "the checklist does not fit on one {paper} page: {modules} modules and {sections} sections need about "
            "{pages} pages even in the densest layout that keeps its tick boxes, type and date lines large enough "
            "to write in ({layout}); shorten the titles (short_title for modules) or split the handbook"
        ).format(
            paper=page.paper,
            modules=len(handbook.modules),
            sections=len(handbook.sections),
            pages=pages,
            layout=layouts[-1].name,
        )
    )


def build_handbook(
    source: Path,
    out: Path,
    options: HandbookOptions = DEFAULTS,
    html: bool = False,
    on_overflow: Callable[[str], None] | None = None,
    jobs: int = 1,
    on_warning: Callable[[str], None] | None = None,
    word: Callable[[dict[str, Any]], bytes] | None = None,
) -> list[Path]:
    """Validate `source` and write the handbook PDF (and its HTML beside it with `html`); return the files written.
    Text past the page edge is a RenderError, or with `options.allow_overflow` passed to `on_overflow`; what prints
    less well than it should (a soft figure) goes to `on_warning`. A handbook
    large enough (not a proof) is laid out in parts on up to `jobs` processes; the bytes are the same for any
    `jobs`."""
    if html and out.with_suffix(".html") == out:
        raise OutputError(
            _("--out {out} with --html: the HTML would overwrite the PDF; give the PDF a .pdf name").format(out=out)
        )
    word_target = out.with_name(f"{out.stem}-exercises.docx")
    targets = [out, *([out.with_suffix(".html")] if html else []), *([word_target] if options.docx else [])]
    for target in targets:
        check_output(target, inputs=[source])
    # A PDF built before from the same bytes is written from the cache (rebuild.py); --html and --docx write more
    # than the PDF and always build.
    if not html and rebuild_from_cache(source, out, options, on_overflow, on_warning):
        return [out]
    key = build_key(source, options) if not (html or options.docx) else None
    handbook = open_handbook(source)
    if on_warning is not None:
        for note in handbook.notes:
            on_warning(note)  # a figure that prints soft: said before the seconds the build takes
    word_file = b""
    if options.docx and word is not None:
        # --docx: the 练习 as a Word file the teacher may edit; one they changed is never replaced (checked first,
        # so nothing is written when it would be).
        shown = replace(handbook, modules=select_modules(handbook, options.modules))
        word_file = word(exercises_document(shown, options.answers, options.page.chars_per_line))
        check_kept({word_target: word_file}, force=False)
    # The content decides the parts (the bytes never depend on the machine); --jobs only how many processes.
    runs = part_count(handbook, options.page) if options.modules is None else 1
    if runs > 1:
        rendered = render_handbook_in_parts(handbook, options, runs, hint_key(str(source), options, runs), html, jobs)
    else:
        rendered = render_handbook(handbook, options)
    if rendered.overflow and on_overflow is not None:
        on_overflow(f"{out}: {rendered.overflow}")
    write_atomic(out, rendered.pdf)
    if key and build_key(source, options) == key:  # a file saved while it was built: the PDF is not of those bytes
        keep_build(key, Built(rendered.pdf, handbook.notes, rendered.overflow))
    written = [out]
    if html:
        written.append(out.with_suffix(".html"))
        write_atomic(written[-1], rendered.browser_html().encode("utf-8"))
    if word_file:
        written += write_kept({word_target: word_file})[0]
    return written


def build_checklist(source: Path, out: Path, page: PageGeometry = DEFAULT_PAGE) -> Path:
    """Validate `source` and write the one-page checklist PDF; return the file written."""
    check_output(out, inputs=[source])
    write_atomic(out, render_checklist(open_handbook(source), page).pdf)
    return out
