"""The jobs: turn a source directory into files under build/, writing each output atomically."""

from __future__ import annotations

import errno
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OutputError, RenderError
from .handbook import (
    CHECKLIST_LAYOUTS,
    ChecklistLayout,
    check_answers,
    checklist_context,
    estimate_checklist_pages,
    handbook_context,
)
from .models import Handbook
from .page import PageGeometry, geometry_for
from .pdf import document_identifier, lay_out, write_document
from .render import render_stylesheets, render_template
from .validate import open_handbook


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file and a rename: readers see the old file or the new one."""
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give a file name for the output")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {path}: {_reason(error)}") from None
        raise


def check_output(path: Path, directory: bool = False) -> None:
    """Fail before any rendering if `path` (a file, or a folder with `directory`) obviously cannot be written."""
    if not directory and path.is_dir():
        raise OutputError(f"{path} is a directory; give a file name for the output")
    if directory and path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file; give a folder for the output")
    for parent in path.parents:
        if parent.is_dir():
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write {path}: permission denied in {parent}")
            return
        if parent.exists():
            raise OutputError(f"cannot write {path}: {parent} is a file, not a directory")


def _reason(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        return "a part of the path is a file, not a directory"
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    return error.strerror or str(error)


# ---- handbook and checklist -------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A rendered document: the HTML that was laid out, its PDF bytes and page count."""

    html: str
    pdf: bytes
    pages: int
    document: Any = field(default=None, compare=False, repr=False)  # the laid-out pages, for inspection


def _lay_out(template: str, css: list[str], context: dict[str, Any], page: PageGeometry):
    """The one rendering path of every document: template → HTML, CSS templates → stylesheets → laid-out pages."""
    html = render_template(template, context)
    stylesheets = render_stylesheets([], page) + [render_template(name, {**context, "page": page}) for name in css]
    return html, stylesheets, lay_out(html, stylesheets)


def _finish(html: str, stylesheets: list[str], document) -> Rendered:
    return Rendered(
        html, write_document(document, document_identifier(html, stylesheets)), len(document.pages), document
    )


def render_handbook(handbook: Handbook, page: PageGeometry, answers: str = "inline") -> Rendered:
    """The handbook as HTML and PDF for one paper and answer mode."""
    context = handbook_context(handbook, answers)
    return _finish(*_lay_out("handbook.html.j2", ["handbook.css.j2"], context, page))


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
            html, stylesheets, document = _lay_out(
                "checklist.html.j2", ["checklist.css.j2"], checklist_context(handbook, layout, page), page
            )
            pages = len(document.pages)
            if pages == 1:
                return _finish(html, stylesheets, document)
    raise RenderError(
        f"the checklist does not fit on one {page.paper} page: {len(handbook.modules)} modules and "
        f"{len(handbook.sections)} sections need about {pages} pages even in the densest layout "
        f"({layouts[-1].name}); shorten the titles (short_title for modules) or split the handbook"
    )


def build_handbook(
    source: Path, out: Path, paper: str = "A4", answers: str = "inline", html: bool = False
) -> list[Path]:
    """Validate `source` and write the handbook PDF (and its HTML beside it with `html`); return the files written."""
    page = geometry_for(paper)
    check_answers(answers)
    for target in [out, out.with_suffix(".html")] if html else [out]:
        check_output(target)
    rendered = render_handbook(open_handbook(source), page, answers)
    write_atomic(out, rendered.pdf)
    written = [out]
    if html:
        written.append(out.with_suffix(".html"))
        write_atomic(written[-1], rendered.html.encode("utf-8"))
    return written


def build_checklist(source: Path, out: Path, paper: str = "A4") -> Path:
    """Validate `source` and write the one-page checklist PDF; return the file written."""
    page = geometry_for(paper)
    check_output(out)
    write_atomic(out, render_checklist(open_handbook(source), page).pdf)
    return out
