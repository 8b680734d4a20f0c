"""The one render path of every document: template + CSS templates → HTML → laid-out pages → PDF bytes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from paperkit.errors import RenderError
from paperkit.i18n import _
from paperkit.labels import LABELS
from paperkit.paths import TEMPLATES
from paperkit.render.page import PageGeometry
from paperkit.text.drawn import collecting_formulas
from paperkit.text.markup import plain_text, render_inline, render_paragraph
from paperkit.text.math import full_height


@functools.lru_cache(maxsize=4)
def make_environment(templates_dir: Path) -> jinja2.Environment:
    """The Jinja2 environment: autoescape on, undefined variables are errors, content via `md`/`mdp` only."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["md"] = render_inline
    env.filters["md_tall"] = lambda text: Markup(full_height(str(render_inline(text))))  # options: full height
    env.filters["mdp"] = render_paragraph
    env.filters["plain"] = plain_text
    env.globals["L"] = LABELS
    return env


def render_template(name: str, context: dict[str, Any]) -> str:
    """Render one template; template mistakes become a RenderError naming the template and line."""
    templates_dir = TEMPLATES
    env = make_environment(templates_dir)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as error:
        raise RenderError(_("template not found: {path}").format(path=templates_dir / str(error.name))) from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(
            _("{where}: template syntax error: {message}").format(
                where=f"{templates_dir / (error.name or name)}:{error.lineno}", message=error.message
            )
        ) from None
    except jinja2.UndefinedError as error:
        raise RenderError(
            _("{where}: template error: {message}").format(
                where=_template_line(error, templates_dir, name), message=error.message
            )
        ) from None


def _template_line(error: BaseException, templates_dir: Path, name: str) -> str:
    """`file:line` of the innermost template frame of a render error (Jinja2 rewrites frames to template lines)."""
    where = str(templates_dir / name)
    root = Path(templates_dir).resolve()
    frame = error.__traceback__
    while frame is not None:
        file = frame.tb_frame.f_code.co_filename
        if file.endswith(".j2") and Path(file).resolve().is_relative_to(root):
            where = f"{templates_dir / Path(file).resolve().relative_to(root)}:{frame.tb_lineno}"
        frame = frame.tb_next
    return where


def render_stylesheets(names: Sequence[str], page: PageGeometry, context: dict[str, Any] | None = None) -> list[str]:
    """CSS texts in cascade order, each a template rendered with the page geometry; base.css first."""
    values = {**(context or {}), "page": page}
    return [render_template(name, values) for name in ["base.css.j2", *names]]


@dataclass(frozen=True)
class LaidOut:
    """A document laid out into pages, not yet written: its HTML, CSS texts and the engine's pages."""

    html: str
    stylesheets: list[str]
    document: Any = field(compare=False, repr=False)  # a weasyprint Document
    overflow: str = ""  # with allow_overflow: what runs past the page edge ('' when nothing does)
    beyond: tuple[tuple[int, str], ...] = ()  # the same as (page number, text) pairs
    formulas: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)  # formula: URL → SVG

    @property
    def pages(self) -> int:
        """How many pages the layout takes."""
        return len(self.document.pages)

    def block_heights(self, css_class: str) -> list[float]:
        """The laid-out height in px of each element with `css_class`, in document order (fragments summed)."""
        heights: dict[int, float] = {}

        def visit(box: Any) -> None:
            element = getattr(box, "element", None)
            if (
                type(box).__name__ == "BlockBox"
                and element is not None
                and css_class in (element.get("class") or "").split()
            ):
                heights[id(element)] = heights.get(id(element), 0.0) + box.margin_height()
                return
            for child in getattr(box, "children", ()):
                visit(child)

        for page in self.document.pages:
            visit(page._page_box)
        return list(heights.values())

    def pdf(self, tags: bool = True) -> bytes:
        """The PDF bytes (tagged unless `tags` is off), with a /ID derived from the HTML and CSS (same input,
        same bytes)."""
        from paperkit.render.pdf import document_identifier, write_document

        return write_document(self.document, document_identifier(self.html, self.stylesheets), tags)


def lay_out_document(
    template: str,
    css: Sequence[str],
    context: dict[str, Any],
    page: PageGeometry,
    check_overflow: bool = True,
    allow_overflow: bool = False,
) -> LaidOut:
    """Template → HTML, CSS templates → stylesheets, then pages; only the formulas made here may be loaded.
    Text past the page edge is a RenderError, or with `allow_overflow` the LaidOut's `overflow` message."""
    from paperkit.render.pdf import AllowList, lay_out, overflows

    with collecting_formulas() as formulas:
        html = render_template(template, context)
    stylesheets = render_stylesheets(css, page, context)
    document = lay_out(html, stylesheets, AllowList(formulas))
    # One entry per page and text: a run cut into many boxes is reported once.
    beyond = tuple(dict.fromkeys(overflows(document))) if check_overflow else ()
    message = overflow_message(beyond)
    if message and not allow_overflow:
        raise overflow_error(message)
    return LaidOut(html, stylesheets, document, message, beyond, formulas)


def overflow_message(beyond: Sequence[tuple[int, str]]) -> str:
    """What runs past the page edge, the first three by page ('' when nothing does)."""
    if not beyond:
        return ""
    shown = _("; ").join(
        _("page {number}: 「{text}」").format(number=number, text=text[:30]) for number, text in beyond[:3]
    )
    more = _(" and {count} more").format(count=len(beyond) - 3) if len(beyond) > 3 else ""
    return _("text runs past the edge of the page ({shown}{more})").format(shown=shown, more=more)


def overflow_error(message: str) -> RenderError:
    """The error for text past the page edge, saying how to fix it or print it anyway."""
    return RenderError(
        _(
            "{message}; shorten it, or break a long formula into several $…$ "
            "(--allow-overflow prints it anyway, as a warning)"
        ).format(message=message)
    )


def render_document(template: str, css: Sequence[str], context: dict[str, Any], page: PageGeometry) -> bytes:
    """A document's PDF bytes (text past the page edge is a RenderError)."""
    return lay_out_document(template, css, context, page).pdf()
