"""Formulas drawn as vector outlines: TeX → SVG with ziamath (cached on disk), the glyphs joined into one
path that carries its PDF operators, and the formula images a document's HTML refers to."""

from __future__ import annotations

import base64
import functools
import re
import signal
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from multiprocessing import get_context
from typing import Any

from paperkit.cache import cache_dir, cache_key, read_cached, write_cached
from paperkit.errors import MathError
from paperkit.i18n import N_, _
from paperkit.paths import FONTS
from paperkit.text.fonts import chinese_math_font
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


def _key(tex: str) -> str:
    # A formula with Chinese is drawn from the serif face too: a new face draws it again.
    face = f"{(FONTS / 'NotoSerifSC-Regular.otf').stat().st_size}" if _CHINESE.search(tex) else ""
    return cache_key(_renderer_version(), str(MATH_PX), "inline", "one path", PDF_OPERATORS, "em", face, tex)


def drawn_svg(tex: str) -> tuple[str, tuple[float, float, float, float]]:
    """A formula's SVG and its viewBox (x, y, width, height), from the cache or drawn now; raises MathError."""
    key = _key(tex)
    cached = read_cached("math", key)
    svg = cached.decode(errors="replace") if cached is not None else ""
    box = _VIEWBOX.search(svg) if svg.endswith("</svg>") else None
    if box is None:  # not cached, or a damaged entry: draw it again
        svg = _draw_svg(tex)
        box = _VIEWBOX.search(svg)
        if box is None:
            raise MathError(_("the math renderer produced no drawing"))
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
    _tex_spacing()
    _chinese_glyphs(tex)
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
        raise MathError(_("unknown TeX command {command}").format(command=unknown.group(1)))
    return _one_path(svg)


def _tex_spacing() -> None:
    """Math spaces of TeX's size: ziamath turns an em into points and then into pixels (×1.333) although its
    font size is in pixels already, so every space in em (an operator's 5/18 em, \\quad, a fraction's padding)
    came out a third too wide — 「a = F/m」 drawn beside 「a = 2 m/s²」 set as text showed it. Measured: the gaps
    around a drawn 「=」 were 0.37 em, the text path's 0.25 em, TeX's 0.28 em."""
    from ziamath.nodes.mnode import Mnode

    if getattr(Mnode.size_px, "_paperkit", False):
        return
    measured = Mnode.size_px

    def size_px(self: Any, size: str, fontsize: float | None = None) -> float:
        px = measured(self, size, fontsize)
        return px / 1.333 if size.endswith(("mathspace", "em", "ex", "mu")) else px

    size_px._paperkit = True  # type: ignore[attr-defined]
    Mnode.size_px = size_px  # type: ignore[method-assign]


_CHINESE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_fallback: dict[str, object] = {}  # the font the math font's missing Chinese glyphs come from, for this formula


def _chinese_glyphs(tex: str) -> None:
    """Let the math font fall back to the body's Chinese serif for the Chinese of `tex` (F_{\\text{合}})."""
    import ziafont
    from ziamath.mathfont import MathFont

    if not getattr(MathFont.findglyph, "_paperkit", False):
        found = MathFont.findglyph

        def findglyph(self: MathFont, char: str, variant: Any) -> Any:
            glyph = found(self, char, variant)
            fallback = _fallback.get("font")
            if getattr(glyph, "index", None) == 0 and fallback is not None and _CHINESE.match(char):
                return fallback.glyph(char)  # type: ignore[attr-defined]
            return glyph

        findglyph._paperkit = True  # type: ignore[attr-defined]
        MathFont.findglyph = findglyph  # type: ignore[method-assign]
    chars = "".join(_CHINESE.findall(tex))
    if not chars:
        _fallback.pop("font", None)
        return
    # ziafont reads a font from a file only: a temporary one, read whole when it is opened.
    with tempfile.NamedTemporaryFile(suffix=".ttf") as handle:
        handle.write(chinese_math_font(chars))
        handle.flush()
        _fallback["font"] = ziafont.Font(handle.name)


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
    "DenominatorNotFoundError": N_("\\frac is missing its denominator"),
    "NumeratorNotFoundError": N_("\\frac is missing its numerator"),
    "DoubleSubscriptsError": N_("double subscript (use braces: x_{ab})"),
    "DoubleSuperscriptsError": N_("double superscript (use braces: x^{ab})"),
    "ExtraLeftOrMissingRightError": N_("\\left without a matching \\right"),
    "MissingEndError": N_("\\begin without a matching \\end"),
    "MissingSuperScriptOrSubscriptError": N_("^ or _ with nothing after it"),
    "NoAvailableTokensError": N_("a command is missing its argument"),
    "LimitsMustFollowMathOperatorError": N_("\\limits must follow an operator like \\sum"),
}


def _tex_error_message(error: Exception) -> str:
    known = _TEX_ERRORS.get(type(error).__name__)
    reason = _(known) if known is not None else f"{type(error).__name__} {error}".strip()
    return _("TeX does not render: {reason}").format(reason=reason)


_FORMULA_SRC = re.compile(r'src="(formula:(?:fig-)?[0-9a-f]+\.(svg|png|jpg))"')
_MIME = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg"}

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
        mime = _MIME[match.group(2)]
        return f'src="data:{mime};base64,' + base64.b64encode(image).decode("ascii") + '"'

    return _FORMULA_SRC.sub(data_uri, html)


def keep_image(uri: str, image: bytes) -> None:
    """Record a formula image made while a document's HTML renders (see collecting_formulas)."""
    made = _made.get()
    if made is not None:
        made[uri] = image


# Fewer new formulas than this are drawn where they are met: starting processes would cost more than it saves.
DRAW_AHEAD_MIN = 40


def draw_ahead(texs: Iterable[str], workers: int) -> int:
    """Draw the formulas the cache lacks on `workers` processes (each stores what it draws), so the one-core
    pass that follows (validation, the document) finds them drawn; returns how many were drawn. Nothing is
    drawn ahead without a cache, for a few formulas, or on one core; TeX that does not draw is left for that
    pass to report."""
    if workers < 2 or cache_dir() is None:
        return 0
    todo = [tex for tex in dict.fromkeys(texs) if read_cached("math", _key(tex)) is None]
    if len(todo) < DRAW_AHEAD_MIN:
        return 0
    # Interleaved, so formulas of one kind (long ones in one module) spread over the workers.
    chunks = [todo[start::workers] for start in range(workers)]
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_quiet_worker) as pool:
            list(pool.map(_draw_all, chunks))
    except (BrokenProcessPool, OSError):
        return 0  # only a head start: a worker that died (out of memory) leaves the drawing to the pass after
    return len(todo)


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group: the parent reports it once, the workers just stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _draw_all(texs: list[str]) -> None:
    for tex in texs:
        # TeX that does not draw is reported, with its file and line, by the pass that reads the content.
        with suppress(MathError):
            drawn_svg(tex)
