"""A TeX formula into HTML: simple ones set as text in the math faces, others drawn (drawn.py); the TeX
checks behind `paperkit validate`'s math messages, and a formula as plain text for titles and search."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import escape

from paperkit.errors import MathError
from paperkit.i18n import _
from paperkit.paths import FORMULA_SCHEME
from paperkit.text import drawn
from paperkit.text.drawn import MATH_ASCENT, MATH_DEPTH, MATH_PX, drawn_svg

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
_CJK_RE = re.compile(f"[{_CJK}]")


@dataclass(frozen=True)
class Formula:
    """A rendered formula: HTML to embed, and whether it is an SVG image or plain text."""

    html: str
    is_svg: bool
    uri: str = ""  # an SVG formula's formula: URL, which the PDF stage serves from `image`
    image: bytes = b""  # the SVG


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
}
# Function names TeX sets upright (\\sin, \\ln, …): all of them as text, so 「tan α = 2 tan β」 beside
# 「sin α = 2 sin β」 is one look (a name missing here sent its whole formula to the drawn path).
_FUNCTIONS = {
    *("log", "ln", "lg", "exp", "max", "min", "sup", "inf", "lim", "arg", "det", "dim", "deg", "gcd", "ker", "Pr"),
    *("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "coth"),
    "softmax",
}
# \\mathrm{m} or \\operatorname{softmax} (an upright word), \\mathrm{\\mu} (an upright Greek letter, as in units),
# a command, a letter, a number, an operator, white space.
_TRIVIAL_TOKEN = re.compile(
    r"\\(?:mathrm|operatorname)\{([A-Za-z]+)\}|\\mathrm\{\\([A-Za-z]+)\}|\\([A-Za-z]+|[,;: !])"
    r"|([A-Za-z])|([0-9.]+)|([-+=<>()\[\],/|:;'!])|(\s+)"
)
# Math spaces as text: \\, \\: \\; (thin to thick) and \\  (a word space, as in 「2\\ \\mathrm{m}」); \\! takes none.
# (The math face has U+2005, a quarter em, and the word space; a \\quad is four of the former.)
_SPACES = {",": "\u2005", ":": "\u2005", ";": "\u2005", " ": " ", "!": "", "quad": "\u2005" * 4}
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
    "·": "·",  # \\cdot and \\pm are binary in TeX (a · b, a ± b), spaced as the drawn formulas space them
    "±": "±",
    ":": ":",  # a relation in TeX (3 : 4), and \\mathbin{:} asks for the same room
}


_WORD_OR_COMMAND = re.compile(r"\\[A-Za-z]+|[A-Za-z]+")


def _upright_words(tex: str) -> str:
    """A unit's \\mathrm{m/s^2} as \\mathrm{m}/\\mathrm{s}^2 (and \\mathrm{\\mu m} as \\mathrm{\\mu}\\mathrm{m}), so a
    formula with units is set as text like any other, not drawn: one look for 「2 m/s²」 wherever it stands."""
    out: list[str] = []
    pos = 0
    while (at := tex.find("\\mathrm{", pos)) >= 0:
        end = _closing(tex, at + 7)
        if end < 0:
            return tex
        inner = tex[at + 8 : end]
        out.append(tex[pos:at])
        if re.fullmatch(r"[A-Za-z]+|\\[A-Za-z]+", inner) or "{" in inner.replace("^{", "").replace("_{", ""):
            out.append(tex[at : end + 1])
        else:
            out.append(_WORD_OR_COMMAND.sub(_upright, inner))
        pos = end + 1
    return "".join([*out, tex[pos:]])


def _upright(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word.startswith("\\"):
        return f"\\mathrm{{{word}}}"
    return f"\\mathrm{{{word}}}" if "α" <= _TEXT_COMMANDS.get(word[1:], "") <= "ω" else word


def _trivial_html(tex: str) -> str | None:
    """Simple TeX (letters, digits, operators, one-level scripts) as HTML; None if it needs the renderer."""
    tex = _upright_words(tex) if "\\mathrm{" in tex else tex
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
    if match is None or match.group(7):
        return None, pos
    piece = _trivial_piece(match)
    if match.group(5):
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
    roman, upright, command, letter, number, operator, space = match.groups()
    if upright is not None:  # \\mathrm{\\mu}: μ of a unit (μm), upright as the unit's letters are
        char = _TEXT_COMMANDS.get(upright)
        return f'<span class="mfn">{char}</span>' if char and "α" <= char <= "ω" else None
    if command is not None:
        if command in _FUNCTIONS:
            return f'<span class="mfn">{command}</span>'
        if command in _SPACES:
            return _SPACES[command]
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
# "B I L sin θ" (and a number before a function name: 「2 tan β」); marked here, as only here "touch" is
# known (a CSS sibling selector also matches across the "(" of "ln(x)", a text node it does not see).
_BEFORE_FUNCTION = re.compile(
    r'(?:(</var>|</sub>|</sup>)|([0-9)]))<span class="mfn">(?=(?:' + "|".join(sorted(_FUNCTIONS)) + ")</span>)"
)  # (a function name only: the O of \\mathrm{H_2O} is no function)
_AFTER_FUNCTION = re.compile(r'(<span class="mfn(?: sp)?">[^<]*</span>)<var>')
_FUNCTION_NUMBER = re.compile(r'<span class="mfn( sp)?">((?:' + "|".join(sorted(_FUNCTIONS)) + r")</span>[0-9])")


def _thin_spaces(html: str) -> str:
    """Mark (class "sp") a function name that follows a variable or script, and a variable that follows one."""
    html = _BEFORE_FUNCTION.sub(lambda m: f'{m[1] or m[2]}<span class="mfn sp">', html)
    html = _FUNCTION_NUMBER.sub(r'<span class="mfn\1 se">\2', html)  # 「ln 2」: a thin space after the name
    return _AFTER_FUNCTION.sub(r'\1<var class="sp">', html)


_SCRIPT = re.compile(r"<(sub|sup)>(.*?)</\1>")
_MO = re.compile(r'<span class="mo">([^<]*)</span>')


def _spaced_operators(html: str) -> str:
    """A short formula's operator spans as the operator between two four-per-em spaces (none in a script).

    The math face has the spaces, so a formula that cannot break needs no element per operator: a formula-heavy
    handbook had a span for each, and WeasyPrint's cost grows with the elements it styles and lays out.
    """
    html = _SCRIPT.sub(lambda m: "<" + m[1] + ">" + _MO.sub(r"\1", m[2]) + "</" + m[1] + ">", html)
    out: list[str] = []
    last = 0
    for match in _MO.finditer(html):
        before = html[last : match.start()]
        # A sign with nothing before it but the start, another operator or an opening bracket is unary and
        # stays with its number, as TeX sets it: 「E₁ = −13.6 eV」, not 「E₁ = − 13.6 eV」.
        unary = match[1] in _SIGNS and (not before.strip() or before.rstrip().endswith(("(", "[", "{", ",", ";")))
        out += [before, match[1] if unary else f"\u2005{match[1]}\u2005"]
        last = match.end()
    return "".join([*out, html[last:]])


_SIGNS = ("−", "-", "+", "±", "∓")


def _break_after_operators(html: str) -> str:
    """A zero-width space (a line-break opportunity) after each operator span of a text-set formula."""
    return _OPERATOR.sub("\\1\u200b", html)


# TeX's rule for a binary sign (− + ±) that has no left operand — at the start, after a relation, an
# operator, punctuation, an opening bracket or another sign — is to set it as an ordinary symbol, close to
# what follows: 「E₁ = −13.6 eV」. ziamath spaces every one as binary (「E₁ = − 13.6 eV」), so such a sign is
# braced ({-}: an ordinary atom) before it is drawn. The text path does the same in _spaced_operators.
_RELATIONS = {
    *("le", "leq", "ge", "geq", "ne", "neq", "approx", "to", "rightarrow", "leftarrow", "Rightarrow", "gets"),
    *("in", "notin", "equiv", "sim", "propto", "ll", "gg", "subset", "subseteq", "mapsto", "mid", "colon"),
    *("times", "cdot", "pm", "mp", "div", "cup", "cap", "left", "{", "sum", "prod", "int"),
}
_GAPS = {",", ";", ":", "!", " ", "quad", "qquad"}
_TEXT_GROUPS = {
    *("text", "textrm", "textit", "textbf", "textsf", "texttt", "textnormal", "mathrm", "mathit", "mathbf"),
    *("operatorname", "mbox", "hspace", "mspace", "kern", "mkern", "vspace"),  # (a length: -1em stays)
}
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def _unary_signs(tex: str) -> str:
    """`tex` with each sign that has no left operand braced as an ordinary symbol (`= -1` → `= {-}1`)."""
    out: list[str] = []
    loose = True  # would a sign here have no left operand?
    pos = 0
    while pos < len(tex):
        char = tex[pos]
        if char == "\\":
            match = _COMMAND.match(tex, pos)
            name = match.group(1) if match else char
            out.append(match.group(0) if match else char)
            pos += len(out[-1])
            end = _closing(tex, pos) if name in _TEXT_GROUPS and tex[pos : pos + 1] == "{" else -1
            if end > 0:  # words, not math: a brace there would print (\text{-a} stays as written)
                out.append(tex[pos : end + 1])
                pos, loose = end + 1, False
            elif name not in _GAPS:
                loose = name in _RELATIONS or name in _FUNCTIONS
            continue
        pos += 1
        if char.isspace():
            out.append(char)
            continue
        if char in "-+" and loose:
            out.append("{" + char + "}")
            loose = False
            continue
        out.append(char)
        script_group = char == "{" and "".join(out[:-1]).rstrip()[-1:] in ("^", "_")
        loose = (char in "([{=<>,;:-+" and not script_group) or char in "^_"
    return "".join(out)


def _svg_formula(source: str) -> Formula:
    tex = _unary_signs(source)
    svg, (_, top, width, height) = drawn_svg(tex)
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
    html = f'<img class="math" src="{uri}" alt="{escape(source)}" style="{style}">'
    return Formula(html, is_svg=True, uri=uri, image=image)


_KEPT_IN_LINE = re.compile(r'(<img class="math" [^>]*style="[^"]*?vertical-align:)([-\d.]+)em([^"]*)"')


def full_height(html: str) -> str:
    """`html` with its drawn formulas at their full height: no part taken back into the leading, so a line of
    them opens up as far as they reach. For rows of options, where a fraction's descender under one option
    otherwise met the root over the option below it."""

    def one(match: re.Match[str]) -> str:
        rest = match.group(3)
        below = re.search(r";margin-bottom:-([\d.]+)em", rest)
        shift = float(below.group(1)) if below else 0.0
        rest = re.sub(r";margin-(?:top|bottom):-[\d.]+em", "", rest)
        return f'{match.group(1)}{float(match.group(2)) - shift:.3f}em{rest}"'

    return _KEPT_IN_LINE.sub(one, html)


def _brace_problem(tex: str) -> str | None:
    depth = 0
    for char in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return _("TeX does not render: a {closing} without its {opening}").format(closing="}", opening="{")
    if depth:
        return _("TeX does not render: a {opening} without its {closing}").format(opening="{", closing="}")
    return None


_TEXT_ARG = re.compile(r"\\text\{[^{}]*\}")
_SPACING_CLASS = re.compile(r"\\math(?:bin|rel)\{([^{}]*)\}")


@functools.lru_cache(maxsize=4096)
def render_math(tex: str) -> Formula:
    """One formula as HTML: plain text for trivial TeX, else an <img> of its SVG; raises MathError."""
    # ziamath draws nothing for the symbol inside \mathbin{…} or \mathrel{…} (「3 \mathbin{:} 4」 printed 「34」):
    # the symbol alone gets its own operator spacing.
    tex = _SPACING_CLASS.sub(r" \1 ", tex).strip()
    if not tex:
        raise MathError(_("empty formula $$"))
    cjk = _CJK_RE.search(_TEXT_ARG.sub("", tex))
    if cjk:
        char = cjk.group(0)
        raise MathError(
            _(
                "Chinese character 「{char}」 inside $…$; write it as \\text{{{char}}} (set in the Chinese font, as in "
                "F_{{\\text{{合}}}}) or move it outside the math"
            ).format(char=char)
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
    return _svg_formula(tex)  # Chinese in \text{} is drawn from the body's serif (drawn._chinese_glyphs)


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


def draw_ahead(texs: Iterable[str], workers: int) -> int:
    """Draw on `workers` processes the formulas among `texs` that are drawn (not set as text) and not yet in
    the cache; returns how many (drawn.draw_ahead)."""
    texs = [_SPACING_CLASS.sub(r" \1 ", tex).strip() for tex in texs]  # as render_math draws them
    wanted = [tex for tex in texs if tex and not _CJK_RE.search(tex) and not _brace_problem(tex)]
    return drawn.draw_ahead([_unary_signs(tex) for tex in wanted if _trivial_html(tex) is None], workers)
