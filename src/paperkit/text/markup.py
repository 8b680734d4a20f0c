"""Turn the documented inline markup ($TeX$, **bold**, `code`) into safe HTML; TeX becomes SVG or text."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from html import unescape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from paperkit.cache import cache_key, read_cached, write_cached
from paperkit.paths import FORMULA_SCHEME
from paperkit.text.svgpath import ATTRIBUTE as PDF_ATTRIBUTE
from paperkit.text.svgpath import VERSION as PDF_OPERATORS
from paperkit.text.svgpath import pdf_operators

# Size in px at which formulas are drawn; the <img> is then sized in em, so it scales with the text.
MATH_PX = 16.0
# How far a formula may reach above and below the baseline, in em, before it would make its line taller
# (the body's line-height is 1.75: the text's own ascent and depth plus the half-leading).
MATH_ASCENT = 1.3
MATH_DEPTH = 0.44

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
_CJK_RE = re.compile(f"[{_CJK}]")
_OPEN_PUNCT = "（「『《〈“‘【〔"
_CLOSE_PUNCT = "，。、；：？！）」』》〉”’】〕"


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "zero" has no HTML, links, images, entities or autolinks: only the rules enabled here exist.
    md = MarkdownIt("zero").enable(["backticks", "emphasis", "escape"])
    md.use(dollarmath_plugin, allow_labels=False, allow_space=True, allow_digits=True, double_inline=False)
    # Without text_join an escaped "\$" stays a separate token, so a lone "$" can be told from it.
    md.disable("text_join")
    return md


def _tokens(text: str) -> list[Token]:
    return _parser().parseInline(text)[0].children or []


def inline_tokens(text: str) -> list[Token]:
    """A content text's inline tokens, as the PDF parses them (for exporters that need the same formulas)."""
    return _tokens(text)


@dataclass(frozen=True)
class Formula:
    """A rendered formula: HTML to embed, and whether it is an SVG image or plain text."""

    html: str
    is_svg: bool
    uri: str = ""  # an SVG formula's formula: URL, which the PDF stage serves from `image`
    image: bytes = b""  # the SVG


class MathError(ValueError):
    """TeX that the math renderer cannot draw."""


# Commands that plain text can show, mapped to characters the shipped text fonts have.
_TEXT_COMMANDS = {
    "times": "×",
    "cdot": "·",
    "approx": "≈",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "neq": "≠",
    "ne": "≠",
    "in": "∈",
    "infty": "∞",
    "to": "→",
    "rightarrow": "→",
    "ldots": "…",
    "dots": "…",
    "pm": "±",
    "mid": "|",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "kappa": "κ",
    "nu": "ν",
    "xi": "ξ",
    "rho": "ρ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    ",": " ",
    ";": " ",
    "quad": " ",
}
_FUNCTIONS = {"log", "exp", "max", "min", "softmax", "sin", "cos", "arg"}
_TRIVIAL_TOKEN = re.compile(
    r"\\mathrm\{([A-Za-z]+)\}|\\([A-Za-z]+|[,;])|([A-Za-z])|([0-9.]+)|([-+=<>()\[\],/|:;'!])|(\s+)"
)
_BINARY = {
    "=": "=",
    "+": "+",
    "-": "−",
    "<": "<",
    ">": ">",
    "≈": "≈",
    "×": "×",
    "≤": "≤",
    "≥": "≥",
    "≠": "≠",
    "→": "→",
    "∈": "∈",
}


def _trivial_html(tex: str) -> str | None:
    """Simple TeX (letters, digits, operators, one-level scripts) as HTML; None if it needs the renderer."""
    pieces: list[str] = []
    pos = 0
    while pos < len(tex):
        if tex.startswith("\\text{", pos):
            # Words in a formula (F_{\text{合}}) are set upright in the text font, Chinese included.
            end = _closing(tex, pos + 5)
            if end < 0 or "{" in tex[pos + 6 : end]:
                return None
            pieces.append(f'<span class="mtext">{escape(tex[pos + 6 : end])}</span>')
            pos = end + 1
            continue
        if tex[pos] in "^_":
            script, pos = _script(tex, pos + 1)
            if script is None:
                return None
            pieces.append(script)
            continue
        match = _TRIVIAL_TOKEN.match(tex, pos)
        if match is None:
            return None
        piece = _trivial_piece(match)
        if piece is None:
            return None
        pieces.append(piece)
        pos = match.end()
    return "".join(pieces)


def _script(tex: str, pos: int) -> tuple[str | None, int]:
    """A super/subscript starting at `pos` (after ^ or _), as <sup>/<sub> HTML."""
    kind = "sup" if tex[pos - 1] == "^" else "sub"
    if pos >= len(tex):
        return None, pos
    if tex[pos] == "{":
        end = _closing(tex, pos)
        if end < 0 or "^" in tex[pos + 1 : end] or "_" in tex[pos + 1 : end]:
            return None, pos
        inner = tex[pos + 1 : end]
        body = _trivial_html(inner) if inner else None
        return (f"<{kind}>{body}</{kind}>" if body is not None else None), end + 1
    match = _TRIVIAL_TOKEN.match(tex, pos)
    if match is None or match.group(6):
        return None, pos
    piece = _trivial_piece(match)
    if match.group(4):
        # A script of digits takes one digit, as in TeX (x^23 is x², then 3).
        piece, end = escape(tex[pos]), pos + 1
    else:
        end = match.end()
    return (f"<{kind}>{piece}</{kind}>" if piece is not None else None), end


def _closing(tex: str, pos: int) -> int:
    """The index of the } that closes the { at `pos`, or -1."""
    depth = 0
    for index in range(pos, len(tex)):
        if tex[index] == "{" and tex[index - 1 : index] != "\\":
            depth += 1
        elif tex[index] == "}" and tex[index - 1 : index] != "\\":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _trivial_piece(match: re.Match[str]) -> str | None:
    roman, command, letter, number, operator, space = match.groups()
    if command is not None:
        if command in _FUNCTIONS:
            return f'<span class="mfn">{command}</span>'
        char = _TEXT_COMMANDS.get(command)
        if char is None:
            return None
        if "α" <= char <= "ω":  # lowercase Greek is a variable: italic, as the drawn formulas set it
            return f"<var>{char}</var>"
        return f'<span class="mo">{char}</span>' if char in _BINARY else str(escape(char))
    if roman is not None:
        return f'<span class="mfn">{escape(roman)}</span>'
    if letter is not None:
        return f"<var>{letter}</var>"
    if number is not None:
        return number
    if operator is not None:
        if operator in _BINARY:
            # Binary operators get their spacing from CSS (.mo): the text fonts lack thin spaces.
            return f'<span class="mo">{escape(_BINARY[operator])}</span>'
        return str(escape(operator))
    if space is not None:
        return ""
    return None


# Text-set formulas longer than this (in TeX characters) may break after their operators.
LONG_FORMULA = 24
_OPERATOR = re.compile(r'(<span class="mo">[^<]*</span>)')


# A function name and a variable (or a script) that touch get a thin space between them, as TeX sets
# "B I L sin θ"; marked here, as only here "touch" is known (a CSS sibling selector also matches across the
# "(" of "ln(x)", a text node it does not see).
_BEFORE_FUNCTION = re.compile(r'(</var>|</sub>|</sup>)<span class="mfn">')
_AFTER_FUNCTION = re.compile(r'(<span class="mfn(?: sp)?">[^<]*</span>)<var>')


def _thin_spaces(html: str) -> str:
    """Mark (class "sp") a function name that follows a variable or script, and a variable that follows one."""
    return _AFTER_FUNCTION.sub(r'\1<var class="sp">', _BEFORE_FUNCTION.sub(r'\1<span class="mfn sp">', html))


_SCRIPT = re.compile(r"<(sub|sup)>(.*?)</\1>")
_MO = re.compile(r'<span class="mo">([^<]*)</span>')


def _spaced_operators(html: str) -> str:
    """A short formula's operator spans as the operator between two four-per-em spaces (none in a script).

    The math face has the spaces, so a formula that cannot break needs no element per operator: a formula-heavy
    handbook had a span for each, and WeasyPrint's cost grows with the elements it styles and lays out.
    """
    html = _SCRIPT.sub(lambda m: "<" + m[1] + ">" + _MO.sub(r"\1", m[2]) + "</" + m[1] + ">", html)
    return _MO.sub("\u2005\\1\u2005", html)


def _break_after_operators(html: str) -> str:
    """A zero-width space (a line-break opportunity) after each operator span of a text-set formula."""
    return _OPERATOR.sub("\\1\u200b", html)


_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"')


def _svg_formula(tex: str) -> Formula:
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
    _, top, width, height = (float(v) for v in box.groups())
    depth = top + height
    image = svg.encode()
    # A short URL in the HTML, served by the PDF stage: a data: URI would put the whole drawing in the HTML as
    # often as the formula occurs (a formula-heavy handbook's HTML was 29 MB, parsed in Python).
    uri = f"{FORMULA_SCHEME}{hashlib.sha256(image).hexdigest()[:20]}.svg"
    # A tall formula may reach into the leading (as TeX lets it) but never opens up the line spacing: the
    # part above MATH_ASCENT or below MATH_DEPTH is taken back by negative margins. The bottom margin edge
    # is what sits on the baseline, so the vertical offset counts only the depth the margin leaves.
    above = max(0.0, -top / MATH_PX - MATH_ASCENT)
    below = max(0.0, depth / MATH_PX - MATH_DEPTH)
    style = (
        f"width:{width / MATH_PX:.3f}em;height:{height / MATH_PX:.3f}em;vertical-align:{below - depth / MATH_PX:.3f}em"
    )
    if above:
        style += f";margin-top:{-above:.3f}em"
    if below:
        style += f";margin-bottom:{-below:.3f}em"
    html = f'<img class="math" src="{uri}" alt="{escape(tex)}" style="{style}">'
    return Formula(html, is_svg=True, uri=uri, image=image)


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


def _brace_problem(tex: str) -> str | None:
    depth = 0
    for char in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return "TeX does not render: a } without its {"
    return "TeX does not render: a { without its }" if depth else None


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


_TEXT_ARG = re.compile(r"\\text\{[^{}]*\}")


@functools.lru_cache(maxsize=4096)
def render_math(tex: str) -> Formula:
    """One formula as HTML: plain text for trivial TeX, else an <img> of its SVG; raises MathError."""
    tex = tex.strip()
    if not tex:
        raise MathError("empty formula $$")
    cjk = _CJK_RE.search(_TEXT_ARG.sub("", tex))
    if cjk:
        char = cjk.group(0)
        raise MathError(
            f"Chinese character 「{char}」 inside $…$; write it as \\text{{{char}}} (set in the Chinese font, as in "
            f"F_{{\\text{{合}}}}) or move it outside the math"
        )
    braces = _brace_problem(tex)
    if braces:
        raise MathError(braces)
    trivial = _trivial_html(tex)
    if trivial is not None:
        trivial = _thin_spaces(trivial.replace("</var><var>", ""))  # one box for "ma": same look, less layout
        if len(tex) > LONG_FORMULA:
            # A long formula may break after a binary operator or relation, as TeX breaks one in a paragraph;
            # a short one stays on one line (.math is nowrap).
            return Formula(f'<span class="math long">{_break_after_operators(trivial)}</span>', is_svg=False)
        return Formula(f'<span class="math">{_spaced_operators(trivial)}</span>', is_svg=False)
    if _CJK_RE.search(tex):
        raise MathError(
            "Chinese in \\text{} is set only in simple formulas (letters, digits, operators, one level of "
            "^ and _); split the formula, or move the words outside the math"
        )
    return _svg_formula(tex)


def math_spans(text: str) -> list[str]:
    """The TeX of every $…$ formula in a text, in order."""
    return [t.content for t in _tokens(text) if t.type == "math_inline"]


def _math_problem(tex: str, error: MathError) -> str:
    # "$5 到 $12" is two prices, not a formula with Chinese in it: say how to write a dollar sign.
    if tex[:1].isdigit() and _CJK_RE.search(tex):
        return f"${tex}$ looks like two dollar amounts, not a formula: write \\$ for a dollar sign (\\$5 到 \\$12)"
    return f"${tex}$: {error}"


def inline_problems(text: str) -> list[str]:
    """What is wrong with a text's markup (unmatched $, TeX that does not render), as messages."""
    problems: list[str] = []
    for token in _tokens(text):
        if token.type == "text" and "$" in token.content:
            problems.append("unmatched $ (close the formula with $, or write \\$ for a dollar sign)")
        elif token.type == "math_inline":
            try:
                render_math(token.content)
            except MathError as error:
                problems.append(_math_problem(token.content, error))
    return problems


def visible_text(text: str) -> str:
    """The characters a reader sees set in the text fonts (markup removed, formulas left out)."""
    out = []
    for token in _tokens(text):
        if token.type in ("text", "text_special", "code_inline"):
            out.append(token.content)
        elif token.type in ("em_open", "em_close") or (token.type.startswith("strong") and token.markup != "**"):
            out.append(token.markup)
        elif token.type == "math_inline":
            try:
                formula = render_math(token.content)
            except MathError:
                continue
            if not formula.is_svg:  # the zero-width spaces a long formula may break at are not seen
                out.append(unescape(re.sub(r"<[^>]+>", "", formula.html)).replace("\u200b", ""))
        elif token.type == "softbreak":
            out.append(" ")
    return "".join(out)


def plain_text(text: str) -> str:
    """The text with markup removed and each formula as readable text (for PDF titles, bookmarks, search)."""
    out = []
    for token in _tokens(text):
        if token.type == "math_inline":
            out.append(tex_text(token.content))
        elif token.type in ("text", "text_special", "code_inline"):
            out.append(token.content)
        elif token.type == "softbreak":
            out.append(" ")
    return "".join(out)


_TEX_WRAPPERS = re.compile(r"\\(?:mathrm|text|textrm|mathit|mathbf|operatorname|vec|hat|bar|mathbb)\{([^{}]*)\}")
_TEX_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+|[,;:! ])")


def tex_text(tex: str) -> str:
    """A formula as plain text: O(S^2) stays, BIL\\sin\\theta becomes "BIL sin θ", \\frac{a}{b} "a/b"."""

    def command(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _FUNCTIONS:
            return f" {name} "
        if name in ("left", "right"):
            return ""
        return _TEXT_COMMANDS.get(name, " " if not name.isalpha() else name)

    text = _TEX_WRAPPERS.sub(r"\1", tex)
    text = re.sub(
        r"\\sqrt\{([^{}]*)\}", lambda m: f"√({m.group(1)})" if len(m.group(1)) > 1 else f"√{m.group(1)}", text
    )
    text = text.replace("\\top", "T")
    text = _TEX_FRAC.sub(lambda m: f"{m.group(1)}/{m.group(2)}", text)
    text = _TEX_COMMAND.sub(command, text).replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def render_paragraph(text: str) -> Markup:
    """Like render_inline, but the last two characters stay together: no one-character last line (clreq)."""
    html = str(render_inline(text))
    # Closing punctuation at the end (some of it in compression spans) goes with the last two units.
    end = len(html)
    while True:
        if end > 0 and html[end - 1] in _CLOSE_PUNCT:
            end -= 1
        elif html.endswith(_HALT_CLOSE, 0, end) and html.endswith(_HALT_OPEN, 0, end - len(_HALT_CLOSE) - 1):
            end -= len(_HALT_OPEN) + 1 + len(_HALT_CLOSE)
        else:
            break
    # Only the plain text after the last tag can end the paragraph: searching the whole HTML (formula images
    # included) made the regex's scan quadratic in the paragraph's size.
    start = html.rfind(">", 0, end) + 1
    match = _PARAGRAPH_END.search(html, start, end)
    if match is None:
        return Markup(html)
    return Markup(f'{html[: match.start()]}<span class="keep">{html[match.start() :]}</span>')


# The paragraph's last two units (a Chinese character, or a run of Latin letters and digits), when they
# end the HTML's plain text (before any closing punctuation), not a tag or an entity.
_UNIT = f"(?:[{_CJK}]|[A-Za-z0-9]+)"
_PARAGRAPH_END = re.compile(f"(?<![A-Za-z0-9]){_UNIT}[ \u2005]?{_UNIT}$")

# Consecutive punctuation (clreq 3.1.6): of two full-width marks whose blank halves meet, one is set
# half-width with the font's own `halt` feature (Noto CJK has no `chws`). The first of a pair when it
# is a closing bracket or a comma, stop, colon or semicolon; the second of two opening brackets.
_CLOSING_BRACKETS = "）」』》〉】〕”’"
_OPENING_BRACKETS = "（「『《〈【〔“‘"
_HALT_FIRST = re.compile(f"[{_CLOSING_BRACKETS}，。、；：](?=[{_CLOSING_BRACKETS}{_OPENING_BRACKETS}，。、；：？！])")
_HALT_SECOND = re.compile(f"(?<=[{_OPENING_BRACKETS}])[{_OPENING_BRACKETS}]")
_HALT_OPEN = '<span class="halt">'
_HALT_CLOSE = "</span>"


def compress_punctuation(html: str) -> str:
    """Escaped text with one mark of each consecutive full-width pair wrapped to be set half-width."""
    html = _HALT_FIRST.sub(lambda m: f"{_HALT_OPEN}{m.group(0)}{_HALT_CLOSE}", html)
    return _HALT_SECOND.sub(lambda m: f"{_HALT_OPEN}{m.group(0)}{_HALT_CLOSE}", html)


_LINE_BREAKS = re.compile(r"(\n[ \t]*(?:\n[ \t]*)*)")


def render_inline(text: str) -> Markup:
    """A content text as safe HTML: only the documented markup becomes tags, all else is escaped."""
    pieces: list[tuple[str, str]] = []  # (kind, html): kind is "text", "atom" or "tag"
    for token in _tokens(text):
        kind = token.type
        if kind in ("text", "text_special"):
            # Line breaks of a `|` block are kept: a line break is a line break, a blank line starts a new one
            # after an empty line (a multi-step answer must not print as one wall of text).
            for chunk in _LINE_BREAKS.split(token.content):
                if chunk.startswith("\n"):
                    pieces.append(("tag", "<br><br>" if chunk.count("\n") > 1 else "<br>"))
                elif chunk:
                    pieces.append(("text", chunk))
        elif kind == "softbreak":
            pieces.append(("text", " "))
        elif kind == "code_inline":
            pieces.append(("atom", f"<code>{escape(token.content)}</code>"))
        elif kind == "math_inline":
            try:
                formula = render_math(token.content)
                pieces.append(("atom", formula.html))
                made = _made.get()
                if formula.uri and made is not None:
                    made[formula.uri] = formula.image
            except MathError:
                # Validation reports it; rendering shows the source rather than failing.
                pieces.append(("text", f"${token.content}$"))
        elif kind in ("strong_open", "strong_close") and token.markup == "**":
            pieces.append(("tag", "<strong>" if kind == "strong_open" else "</strong>"))
        else:
            pieces.append(("text", token.markup or token.content))
    return Markup("".join(_spaced(pieces)))


def _spaced(pieces: list[tuple[str, str]]) -> list[str]:
    """Escape text pieces and apply Chinese–Latin spacing, including across formula and code boundaries."""
    out: list[str] = []
    visible = [i for i, (kind, _) in enumerate(pieces) if kind != "tag"]
    for n, index in enumerate(visible):
        kind, html = pieces[index]
        if kind != "text":
            continue
        before = pieces[visible[n - 1]] if n > 0 else None
        after = pieces[visible[n + 1]] if n + 1 < len(visible) else None
        text = space_text(html)
        if before is not None and before[0] == "atom":
            text = _space_after_atom(text)
        if after is not None and after[0] == "atom":
            text = _space_before_atom(text)
        pieces[index] = ("done", compress_punctuation(str(escape(text))))
    out.extend(html for _, html in pieces)
    return out


# U+2005 (a quarter em) between Chinese and Latin text, per W3C clreq. The shipped fonts map it
# to their quarter-em space glyph; unlike U+0020, justification never stretches it.
QUARTER_EM = "\u2005"
_CJK_THEN_LATIN = re.compile(f"([{_CJK}])[ {QUARTER_EM}]?(?=[A-Za-z0-9])")
_LATIN_THEN_CJK = re.compile(f"([A-Za-z0-9%])[ {QUARTER_EM}]?(?=[{_CJK}])")
_SPACE_BY_CLOSE = re.compile(f"[ {QUARTER_EM}]+(?=[{_CLOSE_PUNCT}])")
_SPACE_BY_OPEN = re.compile(f"(?<=[{_OPEN_PUNCT}{_CLOSE_PUNCT}])[ {QUARTER_EM}]+")


def space_text(text: str) -> str:
    """A quarter em between Chinese and Latin text, no space around full-width punctuation."""
    text = _CJK_THEN_LATIN.sub(rf"\1{QUARTER_EM}", text)
    text = _LATIN_THEN_CJK.sub(rf"\1{QUARTER_EM}", text)
    text = _SPACE_BY_CLOSE.sub("", text)
    return _SPACE_BY_OPEN.sub("", text)


def _space_after_atom(text: str) -> str:
    """Text that follows a formula or code: a quarter em before Chinese, nothing before punctuation."""
    rest = text[1:] if text[:1] in (" ", QUARTER_EM) else text
    if _CJK_RE.match(rest):
        return QUARTER_EM + rest
    if rest[:1] and rest[0] in _CLOSE_PUNCT:
        return rest
    return text


def _space_before_atom(text: str) -> str:
    """Text that precedes a formula or code: a quarter em after Chinese, nothing after punctuation."""
    rest = text[:-1] if text[-1:] in (" ", QUARTER_EM) else text
    if rest and _CJK_RE.match(rest[-1]):
        return rest + QUARTER_EM
    if rest[-1:] and rest[-1] in _OPEN_PUNCT + _CLOSE_PUNCT:
        return rest
    return text
