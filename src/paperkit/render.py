"""Models to HTML: one Jinja2 environment (autoescaped, strict) and the filters templates may use."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from .errors import RenderError
from .markup import plain_text, render_inline, render_paragraph
from .page import PageGeometry
from .paths import TEMPLATES


@functools.lru_cache(maxsize=4)
def make_environment(templates_dir: Path = TEMPLATES) -> jinja2.Environment:
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
    env.filters["mdp"] = render_paragraph
    env.filters["plain"] = plain_text
    return env


def render_template(name: str, context: dict[str, Any], templates_dir: Path = TEMPLATES) -> str:
    """Render one template; template mistakes become a RenderError naming the template and line."""
    env = make_environment(templates_dir)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as error:
        raise RenderError(f"template not found: {templates_dir / str(error.name)}") from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(
            f"{templates_dir / (error.name or name)}:{error.lineno}: template syntax error: {error.message}"
        ) from None
    except jinja2.UndefinedError as error:
        raise RenderError(f"{_template_line(error, templates_dir, name)}: template error: {error.message}") from None


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


def render_stylesheets(names: list[str], page: PageGeometry, templates_dir: Path = TEMPLATES) -> list[str]:
    """CSS texts in cascade order, each a template rendered with the page geometry; base.css first."""
    return [render_template(name, {"page": page}, templates_dir) for name in ["base.css.j2", *names]]
