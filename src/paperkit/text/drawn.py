"""Formulas drawn as vector outlines: TeX → SVG with ziamath (cached on disk), the glyphs joined into one
path that carries its PDF operators, and the formula images a document's HTML refers to."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from paperkit.cache import cache_key, read_cached, write_cached
from paperkit.errors import MathError
from paperkit.text.svgpath import ATTRIBUTE as PDF_ATTRIBUTE
from paperkit.text.svgpath import VERSION as PDF_OPERATORS
from paperkit.text.svgpath import pdf_operators

# Size in px at which formulas are drawn; the <img> is then sized in em, so it scales with the text.
MATH_PX = 16.0
# How far a formula may reach above and below the baseline, in em, before it would make its line taller
# (the body's line-height is 1.75: the text's own ascent and depth plus the half-leading).
MATH_ASCENT = 1.3
MATH_DEPTH = 0.44

_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"')


def drawn_svg(tex: str) -> tuple[str, tuple[float, float, float, float]]:
    """A formula's SVG and its viewBox (x, y, width, height), from the cache or drawn now; raises MathError."""
    key = cache_key(_renderer_version(), str(MATH_PX), "inline", "one path", PDF_OPERATORS, tex)
    cached = read_cached("math", key)
    svg = cached.decode(errors="replace") if cached is not None else ""
    box = _VIEWBOX.search(svg) if svg.endswith("</svg>") else None
    if box is None:  # not cached, or a damaged entry: draw it again
        svg = _draw_svg(tex)
        box = _VIEWBOX.search(svg)
        if box is None:
            raise MathError("the math renderer produced no drawing")
        write_cached("math", key, svg.encode())
    x, y, width, height = (float(v) for v in box.groups())
    return svg, (x, y, width, height)


@functools.lru_cache(maxsize=1)
def _renderer_version() -> str:
    # Part of the cache key: a new ziamath may draw differently, and output must not depend on the cache.
    from importlib.metadata import version

    return f"ziamath {version('ziamath')}"


def _draw_svg(tex: str) -> str:
    """TeX to SVG with ziamath; raises MathError for TeX it cannot draw."""
    import ziamath  # imported here: costs ~0.13 s, paid only when a formula is not in the cache

    # Plain paths in place, not a <symbol> per glyph drawn through <use>: WeasyPrint draws each <use> of a
    # symbol as a nested SVG (its own viewport and bounding box), which made formulas half of a
    # formula-heavy handbook's time.
    ziamath.config.svg2 = False
    try:
        # Text style, as TeX sets math in a paragraph: small fractions and limits beside the operator, so
        # a formula stays within the line's height instead of opening up the line spacing.
        latex = ziamath.Latex(tex, size=MATH_PX, inline=True)
        mathml = latex.mathmlstr() if hasattr(latex, "mathmlstr") else ""
        svg = latex.svg()
    except Exception as error:  # latex2mathml raises many unrelated types; all mean "bad TeX"
        raise MathError(_tex_error_message(error)) from None
    unknown = re.search(r">(\\[A-Za-z]+)<", mathml)
    if unknown:
        raise MathError(f"unknown TeX command {unknown.group(1)}")
    return _one_path(svg)


_BLACK_PATH = re.compile(r'<path d="([^"]*)" fill="black" />')


def _one_path(svg: str) -> str:
    """The formula's glyph outlines as one path, with its PDF operators (see svgpath): WeasyPrint's cost is
    per path element as much as per point.

    Every glyph is filled black with the nonzero rule and outlines of one font wind the same way, so
    joining them draws the same shapes.
    """
    outlines = _BLACK_PATH.findall(svg)
    if not outlines:
        return svg
    rest = _BLACK_PATH.sub("", svg)
    close = rest.rindex("</svg>")
    d = " ".join(outlines)
    operators = pdf_operators(d)
    extra = f' {PDF_ATTRIBUTE}="{operators}"' if operators is not None else ""
    return f'{rest[:close]}<path d="{d}"{extra} fill="black" />{rest[close:]}'


_TEX_ERRORS = {
    "DenominatorNotFoundError": "\\frac is missing its denominator",
    "NumeratorNotFoundError": "\\frac is missing its numerator",
    "DoubleSubscriptsError": "double subscript (use braces: x_{ab})",
    "DoubleSuperscriptsError": "double superscript (use braces: x^{ab})",
    "ExtraLeftOrMissingRightError": "\\left without a matching \\right",
    "MissingEndError": "\\begin without a matching \\end",
    "MissingSuperScriptOrSubscriptError": "^ or _ with nothing after it",
    "NoAvailableTokensError": "a command is missing its argument",
    "LimitsMustFollowMathOperatorError": "\\limits must follow an operator like \\sum",
}


def _tex_error_message(error: Exception) -> str:
    reason = _TEX_ERRORS.get(type(error).__name__, f"{type(error).__name__} {error}".strip())
    return f"TeX does not render: {reason}"


_FORMULA_SRC = re.compile(r'src="(formula:[0-9a-f]+\.svg)"')

# The formula images made while a document's HTML is rendered: they, and nothing else, are served to it.
_made: ContextVar[dict[str, bytes] | None] = ContextVar("formula_images", default=None)


@contextmanager
def collecting_formulas() -> Iterator[dict[str, bytes]]:
    """Collect the formula images rendered inside the block, by URL (what the PDF stage may serve)."""
    made: dict[str, bytes] = {}
    token = _made.set(made)
    try:
        yield made
    finally:
        _made.reset(token)


def inline_formulas(html: str, images: dict[str, bytes]) -> str:
    """The HTML with each formula: URL replaced by a data: URI of its SVG, for a browser (--html, preview)."""

    def data_uri(match: re.Match[str]) -> str:
        image = images.get(match.group(1))
        if image is None:
            return match.group(0)
        return 'src="data:image/svg+xml;base64,' + base64.b64encode(image).decode("ascii") + '"'

    return _FORMULA_SRC.sub(data_uri, html)


def keep_image(uri: str, image: bytes) -> None:
    """Record a formula image made while a document's HTML renders (see collecting_formulas)."""
    made = _made.get()
    if made is not None:
        made[uri] = image
