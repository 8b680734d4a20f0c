"""Inline markup: only $math$, **bold** and `code` become tags; everything else is escaped text."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperkit.errors import MathError
from paperkit.text.drawn import inline_formulas
from paperkit.text.markup import inline_problems, plain_text, render_inline, visible_text
from paperkit.text.math import render_math


def test_the_three_kinds_of_markup() -> None:
    html = render_inline("形状为 $(B,S,d_k)$，**重点**与 `max_length`")
    assert html == (
        '形状为\u2005<span class="math">(<var>B</var>,<var>S</var>,<var>d</var><sub><var>k</var></sub>)</span>，'
        "<strong>重点</strong>与\u2005<code>max_length</code>"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<b>粗</b>", "&lt;b&gt;粗&lt;/b&gt;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src="/etc/passwd">', "&lt;img src=&#34;/etc/passwd&#34;&gt;"),
        (
            "[链接](http://example.com) ![图](http://example.com/x.png)",
            "[链接](http://example.com) ![图](http://example.com/x.png)",
        ),
        ("&amp; &lt;", "&amp;amp; &amp;lt;"),
        ("*斜体* __下划线__", "*斜体* __下划线__"),
        (r"价格 \$5", "价格 $5"),
    ],
)
def test_anything_else_is_shown_literally(text: str, expected: str) -> None:
    assert render_inline(text) == expected


def test_chinese_latin_spacing_is_normalized() -> None:
    # A quarter em (U+2005) between Chinese and Latin, whether the source had a space or not.
    assert render_inline("用LLM训练") == "用\u2005LLM\u2005训练"
    assert render_inline("Transformer 架构") == "Transformer\u2005架构"
    assert (
        render_inline("约为 $O(S^2)$ 。")
        == '约为\u2005<span class="math"><var>O</var>(<var>S</var><sup>2</sup>)</span>。'
    )
    assert render_inline("（ 括号 ）") == "（括号）"


def test_non_trivial_tex_becomes_an_svg_image_on_the_baseline() -> None:
    formula = render_math(r"\sqrt{d_k}")
    assert formula.is_svg
    assert re.fullmatch(
        r'<img class="math" src="formula:[0-9a-f]{20}\.svg" alt="\\sqrt\{d_k\}" '
        r'style="width:[\d.]+em;height:[\d.]+em;vertical-align:-[\d.]+em">',
        formula.html,
    )
    assert formula.image.startswith(b"<svg") and formula.uri in formula.html
    # A browser gets the drawing itself: the URL becomes a data: URI of the same SVG.
    shown = inline_formulas(formula.html, {formula.uri: formula.image})
    assert shown.split('"')[3] == "data:image/svg+xml;base64," + base64.b64encode(formula.image).decode()


def test_a_formula_path_carries_its_pdf_operators_and_weasyprint_copies_them() -> None:
    """Issue 13: WeasyPrint parsed every coordinate of every formula; the drawing is now made once."""
    from weasyprint import svg as weasy_svg

    from paperkit.text.svgpath import install, pdf_operators

    assert pdf_operators("M 1 2 L 1 2 L 3 4 Q 6 4 6 1 Z") == "1 2 m\n3 4 l\n5 4 6 3 6 1 c\nh"
    assert pdf_operators("M 1 2 A 3 3 0 0 1 4 4") is None  # arcs: left to WeasyPrint
    image = render_math(r"\frac{a}{b}").image.decode()
    assert re.search(r'<path d="M [^"]+" data-pdf="[-0-9. mlch\n]+" fill="black" />', image)
    install(weasy_svg)
    drawn: list[bytes] = []

    class Stream:
        stream = drawn

    node = {"d": "M 0 0 L 1 1", "data-pdf": "0 0 m\n1 1 l"}
    weasy_svg.TAGS["path"](type("SVG", (), {"stream": Stream()})(), node, 12)
    assert drawn == [b"0 0 m\n1 1 l"]


@pytest.mark.parametrize(
    "tex, message",
    [
        (r"\frac{a}{", "TeX does not render: a { without its }"),
        (r"x^", "TeX does not render: ^ or _ with nothing after it"),
        (r"\left( x", "TeX does not render: \\left without a matching \\right"),
        (r"\notacommand", "unknown TeX command \\notacommand"),
        (
            "长度",
            "Chinese character 「长」 inside $…$; write it as \\text{长} (set in the Chinese font, as in "
            "F_{\\text{合}}) or move it outside the math",
        ),
        (" ", "empty formula $$"),
    ],
)
def test_bad_tex_is_a_math_error(tex: str, message: str) -> None:
    with pytest.raises(MathError) as caught:
        render_math(tex)
    assert str(caught.value) == message


def test_problems_name_the_formula() -> None:
    assert inline_problems(r"一 $\frac{1}{$ 二 $5 三") == [
        "$\\frac{1}{$: TeX does not render: a { without its }",
        "unmatched $ (close the formula with $, or write \\$ for a dollar sign)",
    ]
    assert inline_problems("正常 $x$ 文本") == []


def test_plain_and_visible_text() -> None:
    text = r"公式 $\sqrt{x}$ 与 $O(n)$，**粗体**和 `code`"
    assert plain_text(text) == "公式 √x 与 O(n)，粗体和 code"  # formulas as readable text, not TeX
    assert visible_text(text) == "公式  与 O(n)，粗体和 code"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&\"'$*`_\\ab中文，。/=^{}[]()!\n")), max_size=40))
def test_rendered_markup_never_contains_unescaped_html(text: str) -> None:
    html = str(render_inline(text))
    # The only tags markup may produce; any other "<" must have been escaped.
    stripped = re.sub(
        r'</?(strong|code|var|sub|sup)>|<var class="sp">|<br>|<span class="(math|math long|mo|mfn|mfn sp|halt)">'
        r'|</span>|<img class="math" [^>]*>',
        "",
        html,
    )
    assert "<" not in stripped and ">" not in stripped
    for problem in inline_problems(text):
        assert isinstance(problem, str)


def test_a_paragraph_never_ends_on_a_lone_character() -> None:
    from paperkit.text.markup import render_paragraph

    assert render_paragraph("只能关注历史位置。") == '只能关注历史<span class="keep">位置。</span>'
    assert render_paragraph("训练更稳定）。") == '训练更<span class="keep">稳定<span class="halt">）</span>。</span>'
    assert render_paragraph("共 100 分）") == '共\u2005<span class="keep">100\u2005分）</span>'
    # A paragraph ending in a formula or Latin text has no Chinese pair to keep together.
    assert render_paragraph("复杂度为 $O(n)$") == render_inline("复杂度为 $O(n)$")
    assert render_paragraph("<b>字</b>") == "&lt;b&gt;字&lt;/b&gt;"


def test_every_character_the_text_math_table_sets_is_in_the_fonts() -> None:
    from paperkit.text import math
    from paperkit.text.fonts import covered_characters

    covered = covered_characters()
    missing = {c: t for c, t in math._TEXT_COMMANDS.items() for ch in t if ord(ch) not in covered}
    assert missing == {}
    assert render_math(r"0 \sim 2").is_svg  # no text glyph for ∼ (U+223C): drawn, never tofu


def test_the_paragraph_end_rule_reads_only_the_text_after_the_last_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    # Work bound, not a clock: on a 200 KB paragraph full of formula images the regex may look at the short
    # plain-text tail only (it used to scan the whole HTML, quadratically).
    from paperkit.text import markup

    scanned: list[int] = []
    real = markup._PARAGRAPH_END

    class Counting:
        def search(self, html: str, pos: int = 0, endpos: int | None = None):
            end = len(html) if endpos is None else endpos
            scanned.append(end - pos)
            return real.search(html, pos, end)

    monkeypatch.setattr(markup, "_PARAGRAPH_END", Counting())
    formulas = "，".join(f"$\\frac{{a_{{{i}}}}}{{b^2+{i}}}$" for i in range(400))
    text = "推导：" + "各项依次代入" * 25_000 + "，即" + formulas + "，故得证。"
    html = str(markup.render_paragraph(text))
    assert len(html) > 200_000
    assert scanned == [len("，故得证")]  # the closing 。 is set aside first, in constant work
    assert html.endswith('<span class="keep">得证。</span>')


def test_line_breaks_of_a_block_are_kept() -> None:
    assert str(render_inline("第一步：设 $x$。\n第二步：代入。\n\n所以成立。")) == (
        '第一步：设\u2005<span class="math"><var>x</var></span>。<br>第二步：代入。<br><br>所以成立。'
    )


def test_two_prices_are_not_reported_as_chinese_in_math() -> None:
    assert inline_problems("价格从 $5 到 $12 不等") == [
        "$5 到 $ looks like two dollar amounts, not a formula: write \\$ for a dollar sign (\\$5 到 \\$12)"
    ]
    assert inline_problems("价格从 \\$5 到 \\$12 不等") == []


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"BIL\sin\theta", "BIL sin θ"),
        (r"O(S^2)", "O(S^2)"),
        (r"\frac{1}{2} m v^2", "1/2 m v^2"),
        (r"\mathrm{softmax}(QK^\top/\sqrt{d_k})", "softmax(QK^T/√(d_k))"),
        (r"a \le b,\; c \to \infty", "a ≤ b, c → ∞"),
    ],
)
def test_formulas_as_plain_text_for_titles_and_bookmarks(tex: str, text: str) -> None:
    from paperkit.text.math import tex_text

    assert tex_text(tex) == text
    assert plain_text(f"磁通 ${tex}$ 推导") == f"磁通 {text} 推导"


def test_a_thin_space_only_where_a_function_name_touches_a_variable() -> None:
    assert str(render_inline(r"$BIL\sin\theta$")) == (
        '<span class="math"><var>BIL</var><span class="mfn sp">sin</span><var class="sp">θ</var></span>'
    )
    # The bracket keeps "ln" and "x" apart: no space after "(" (it printed "LN( x)").
    assert str(render_inline(r"$y = \mathrm{LN}(x)$")) == (
        '<span class="math"><var>y</var>\u2005=\u2005<span class="mfn">LN</span>(<var>x</var>)</span>'
    )


def test_chinese_words_in_math_go_in_text() -> None:
    assert str(render_inline("合力 $F_{\\text{合}} = ma$")) == (
        '合力\u2005<span class="math"><var>F</var><sub><span class="mtext">合</span></sub>'
        "\u2005=\u2005<var>ma</var></span>"
    )


def test_a_short_formula_spaces_its_operators_with_characters_and_a_long_one_may_break_after_them() -> None:
    # A formula that cannot break needs no element per operator (four-per-em spaces of the math face), none in
    # a script; a long one keeps its operator spans, each followed by a break opportunity.
    assert str(render_inline("$x^{a+b} = v_0 + a t$")) == (
        '<span class="math"><var>x</var><sup><var>a</var>+<var>b</var></sup>\u2005=\u2005<var>v</var>'
        "<sub>0</sub>\u2005+\u2005<var>at</var></span>"
    )
    # A sign after the start, another operator or an opening bracket is unary: it stays with its number (#29).
    assert str(render_inline("$E_1 = -13.6$")) == (
        '<span class="math"><var>E</var><sub>1</sub>\u2005=\u2005−13.6</span>'
    )
    assert str(render_inline("$f(-x) = -f(x) - 1$")).count("\u2005") == 4  # around = and the binary − only
    long = str(render_inline("$a_1 + a_2 + a_3 + a_4 + a_5 = s$"))
    assert long.count('<span class="mo">+</span>\u200b') == 4 and "\u2005" not in long
    assert inline_problems("$F_{合}$") == [
        "$F_{合}$: Chinese character 「合」 inside $…$; write it as \\text{合} (set in the Chinese font, "
        "as in F_{\\text{合}}) or move it outside the math"
    ]
    assert inline_problems("$\\frac{F_{\\text{合}}}{m}$") == []  # drawn, its Chinese from the body's serif
    assert visible_text("$v_{\\text{船}}$") == "v船"  # its glyphs are checked like any text


def test_chinese_in_a_drawn_formula_is_drawn_from_the_body_serif() -> None:
    """\\frac{F_{\\text{合}}}{m} (#29 point 5): the math font has no Chinese; the glyph comes from the serif face,
    the same outline for the same character, and the formula is as wide as with a Latin letter there."""
    from paperkit.text.drawn import drawn_svg

    chinese, (_, _, width, _) = drawn_svg("\\frac{F_{\\text{合}}}{m}")
    latin, (_, _, latin_width, _) = drawn_svg("\\frac{F_{\\text{x}}}{m}")
    empty, _ = drawn_svg("\\frac{F}{m}")
    # the 合 adds outlines (many more path points than an x) and the .notdef box is not what is drawn
    assert len(chinese) > len(latin) > len(empty)
    assert 0.9 * latin_width < width < 1.6 * latin_width
    assert drawn_svg("\\frac{F_{\\text{合}}}{m}")[0] == chinese  # the same bytes again (from the cache)
    # two characters are two outlines (a missing glyph would draw the same .notdef box for both)
    assert drawn_svg("\\frac{F_{\\text{口}}}{m}")[0] != chinese
    assert render_math("\\frac{F_{\\text{合}}}{m}").is_svg


def test_a_symbol_in_mathbin_or_mathrel_is_printed() -> None:
    # ziamath drew nothing for it: 「3 \mathbin{:} 4」 printed 「34」 (#29).
    # spaced as TeX spaces a relation (a quarter em each side, as the text path spaces = and +)
    assert str(render_inline("$3 \\mathbin{:} 4$")) == '<span class="math">3\u2005:\u20054</span>'
    from paperkit.text.drawn import drawn_svg

    with_colon, _ = drawn_svg("\\frac{a}{b}  :  c")
    assert render_math("\\frac{a}{b} \\mathbin{:} c").image == with_colon.encode()
    assert drawn_svg("\\frac{a}{b} c")[0] != with_colon


def test_function_names_and_units_are_set_as_text_like_their_neighbours() -> None:
    # 「tan α = 2 tan β」 was drawn (\tan unknown to the text path) beside a text-set 「sin α = 2sin β」 (#29).
    from paperkit.text.math import _FUNCTIONS

    tan, sin = render_math("\\tan\\alpha = 2\\tan\\beta"), render_math("\\sin\\alpha = 2\\sin\\beta")
    assert not tan.is_svg and tan.html == sin.html.replace("sin", "tan")
    assert '2<span class="mfn sp">tan</span>' in tan.html  # a thin space between a number and a function name
    assert all(not render_math(f"\\{name} x").is_svg for name in _FUNCTIONS)
    assert render_math("\\ln 2").html == '<span class="math"><span class="mfn se">ln</span>2</span>'
    # A unit is upright text, its μ too, while μ the variable stays italic.
    unit = render_math("a = 2\\ \\mathrm{m/s^2}")
    assert not unit.is_svg and '<span class="mfn">m</span>/<span class="mfn">s</span><sup>2</sup>' in unit.html
    assert '<span class="mfn">μ</span><span class="mfn">m</span>' in render_math("5\\ \\mathrm{\\mu m}").html
    assert render_math("\\mu = 0.2").html.startswith('<span class="math"><var>μ</var>')
    assert "−13.6 <span" in render_math("E_1 = -13.6\\ \\mathrm{eV}").html  # unary: no space after the sign


def test_a_drawn_sign_without_a_left_operand_is_not_spaced_as_binary() -> None:
    from paperkit.text.drawn import drawn_svg
    from paperkit.text.math import _unary_signs

    assert _unary_signs("E=-\\frac{1}{2}") == "E={-}\\frac{1}{2}"
    assert _unary_signs("\\frac{-b \\pm c}{2a} - d") == "\\frac{{-}b \\pm c}{2a} - d"
    assert _unary_signs("x^{-1} - 2, -3 \\le -x") == "x^{-1} - 2, {-}3 \\le {-}x"
    # words are words: a brace inside \\text{} would print (「{-}a」)
    assert _unary_signs("\\text{-a} = -\\frac{1}{2}") == "\\text{-a} = {-}\\frac{1}{2}"
    drawn = render_math("E = -\\dfrac{1}{2}mv^2")
    assert drawn.is_svg and drawn.image == drawn_svg("E = {-}\\dfrac{1}{2}mv^2")[0].encode()
    assert 'alt="E = -\\dfrac{1}{2}mv^2"' in drawn.html  # the author's TeX, not the braced one


def test_drawn_and_text_formulas_space_their_operators_alike() -> None:
    # Measured in em: ziamath spaced a relation 0.37 em (an em taken as 4/3 of the font size), the text path
    # 0.25 em (U+2005 of the math face); TeX's are 5/18 (relation) and 4/18 (binary).
    from fontTools.ttLib import TTFont

    from paperkit.paths import FONTS
    from paperkit.text.drawn import MATH_PX, drawn_svg

    def width(tex: str) -> float:
        return drawn_svg(tex)[1][2] / MATH_PX

    relation = (width("x = y") - width("x {=} y")) / 2
    binary = (width("x + y") - width("x {+} y")) / 2
    assert abs(relation - 5 / 18) < 0.005 and abs(binary - 4 / 18) < 0.005, (relation, binary)
    face = TTFont(FONTS / "PKMath-Regular.ttf")
    text_gap = face["hmtx"][face.getBestCmap()[0x2005]][0] / face["head"].unitsPerEm
    assert render_math("x = y").html == '<span class="math"><var>x</var>\u2005=\u2005<var>y</var></span>'
    assert abs(text_gap - relation) < 0.03 and abs(text_gap - binary) < 0.03  # < 1.5 px apart at 300 dpi
