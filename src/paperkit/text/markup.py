"""Turn the documented inline markup ($TeX$, **bold**, `code`) into safe HTML, spaced and punctuated as
Chinese typesetting wants; each formula is set by math.py."""

from __future__ import annotations

import functools
import re
from html import unescape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from paperkit.errors import MathError
from paperkit.i18n import _
from paperkit.text.drawn import keep_image
from paperkit.text.figures import KEPT, figure_html, figure_image, parse_options
from paperkit.text.math import render_math, tex_text
from paperkit.text.measure import formula_html_width, run_width
from paperkit.text.tables import Table, split_tables, table_problems

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


def math_spans(text: str) -> list[str]:
    """The TeX of every $…$ formula in a text, in order."""
    return [t.content for t in _tokens(text) if t.type == "math_inline"]


def _math_problem(tex: str, error: MathError) -> str:
    # "$5 到 $12" is two prices, not a formula with Chinese in it: say how to write a dollar sign.
    if tex[:1].isdigit() and _CJK_RE.search(tex):
        return _(
            "${tex}$ looks like two dollar amounts, not a formula: write \\$ for a dollar sign (\\$5 到 \\$12)"
        ).format(tex=tex)
    return f"${tex}$: {error}"


def inline_problems(text: str) -> list[str]:
    """What is wrong with a text's markup (unmatched $, TeX that does not render, a table's shape), as messages."""
    problems: list[str] = [
        message for piece in split_tables(text) if isinstance(piece, Table) for message in table_problems(piece)
    ]
    for token in _tokens(text):
        if token.type == "text" and "$" in token.content:
            problems.append(_("unmatched $ (close the formula with $, or write \\$ for a dollar sign)"))
        elif token.type == "math_inline":
            try:
                render_math(token.content)
            except MathError as error:
                problems.append(_math_problem(token.content, error))
    return problems


def visible_text(text: str) -> str:
    """The characters a reader sees set in the text fonts (markup removed, formulas left out, a figure's caption)."""
    out = []
    for token in _tokens(_captions(text)):
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


def set_width(text: str) -> float:
    """How wide a text is set on one line, in em: its runs measured in the body face, each formula as it is set
    (text.measure); a figure's caption as text (its printed width is the caller's: see questions.kind)."""
    width = 0.0
    for token in _tokens(_captions(text)):
        if token.type in ("text", "text_special", "code_inline"):
            width += run_width(token.content)
        elif token.type in ("em_open", "em_close") or (token.type.startswith("strong") and token.markup != "**"):
            width += run_width(token.markup)
        elif token.type == "math_inline":
            try:
                formula = render_math(token.content)
            except MathError:
                continue
            drawn = _DRAWN_WIDTH.search(formula.html) if formula.is_svg else None
            width += float(drawn.group(1)) if drawn else formula_html_width(formula.html)
        elif token.type == "softbreak":
            width += run_width(" ")
    return width


_DRAWN_WIDTH = re.compile(r"width:([\d.]+)em")


def plain_text(text: str) -> str:
    """The text with markup removed and each formula as readable text (for PDF titles, bookmarks, search)."""
    out = []
    for token in _tokens(_captions(text)):
        if token.type == "math_inline":
            out.append(tex_text(token.content))
        elif token.type in ("text", "text_special", "code_inline"):
            out.append(token.content)
        elif token.type == "softbreak":
            out.append(" ")
    return "".join(out)


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


def _captions(text: str) -> str:
    """The text with each figure reference as its caption and each table as its cells (what a reader sees of
    them as text)."""
    pieces = split_tables(text)
    if len(pieces) > 1 or not isinstance(pieces[0], str):
        text = "\n".join(
            " ".join((*piece.header, *(cell for row in piece.rows for cell in row)))
            if isinstance(piece, Table)
            else piece
            for piece in pieces
        )
    return KEPT.sub(lambda match: match["caption"], text) if "![" in text else text


def render_inline(text: str) -> Markup:
    """A content text as safe HTML: only the documented markup becomes tags, all else is escaped; a figure
    (text.figures) as its image and caption, a pipe table (text.tables) as a table."""
    pieces = split_tables(text)
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return _with_figures(text)
    return Markup("").join(_table(piece) if isinstance(piece, Table) else _with_figures(piece) for piece in pieces)


def _table(table: Table) -> Markup:
    """A table as CSS-table spans: a <table> inside the <p> of a stem would be moved out of it by the parser."""

    def row(cells: tuple[str, ...], kind: str) -> Markup:
        shown = [
            Markup(f'<span class="{kind}" style="text-align:{align}">') + _with_figures(cell) + Markup("</span>")
            for cell, align in zip(cells, table.align, strict=False)
        ]
        return Markup('<span class="tr">') + Markup("").join(shown) + Markup("</span>")

    head = Markup('<span class="thead">') + row(table.header, "th") + Markup("</span>")
    body = Markup("").join(row(cells, "td") for cells in table.rows)
    # An inline table on a line of its own: the text after it stays in its paragraph (a block would end the
    # paragraph's first line there, and its hanging indent).
    table_html = (
        Markup('<span class="data-table">') + head + Markup('<span class="tbody">') + body + Markup("</span></span>")
    )
    return Markup("<br>") + table_html + Markup("<br>")


def _with_figures(text: str) -> Markup:
    if "![" in text and KEPT.search(text):
        html, start = Markup(""), 0
        for match in KEPT.finditer(text):
            html += _render_text(text[start : match.start()]) + _figure(match)
            start = match.end()
        return html + _render_text(text[start:])
    return _render_text(text)


def _figure(match: re.Match[str]) -> Markup:
    """A figure the content reader kept (its URL names its bytes); anything else prints as written."""
    image = figure_image(match["src"])
    if image is None:
        return _render_text(match.group(0))
    keep_image(match["src"], image)
    return figure_html(match["src"], _render_text(match["caption"]), parse_options(match["options"] or ""))


def _render_text(text: str) -> Markup:
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
                if formula.uri:
                    keep_image(formula.uri, formula.image)
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
