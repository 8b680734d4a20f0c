"""How wide a text is set, measured from the shipped faces' advance widths (in em of the text's size): what
option columns and blank lengths are chosen from, as exam-zh measures the boxes it lays out.

Text runs are measured glyph by glyph in the body's serif face (its Extra face for what it lacks); a formula set
as text is measured from the HTML the math module makes for it — italic variables in the math italic face, the
rest in the upright one, scripts at 0.7, the operator and function spacing of its classes (base.css.j2); a drawn
formula is as wide as it is drawn. No kerning and no shaping: the serif face has none for Latin pairs worth
counting, and CJK is square.
"""

from __future__ import annotations

import functools
import re
from html import unescape
from pathlib import Path

from paperkit.paths import FONTS

SERIF = ("NotoSerifSC-Regular.otf", "NotoSerifSC-Extra.otf")
MATH_UPRIGHT = ("PKMath-Regular.ttf", *SERIF)
MATH_ITALIC = ("PKMath-Italic.ttf", *MATH_UPRIGHT)
SCRIPT = 0.7  # base.css.j2: .math sub, .math sup { font-size: 0.7em }
OPERATOR_MARGIN = 0.2  # .math .mo { margin: 0 0.2em } (a long formula's operators)
THIN = 0.17  # .math .sp / .se: the thin space by a function name


@functools.cache
def _advances(name: str) -> dict[int, float]:
    """Each character's advance in em, for one shipped face."""
    from fontTools.ttLib import TTFont

    with TTFont(Path(FONTS) / name, lazy=True) as font:
        per_em = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        return {code: metrics[glyph][0] / per_em for code, glyph in font.getBestCmap().items() if glyph in metrics}


def run_width(text: str, faces: tuple[str, ...] = SERIF) -> float:
    """A run of text's width in em, each character from the first face that has it."""
    width = 0.0
    for char in text:
        code = ord(char)
        for face in faces:
            advance = _advances(face).get(code)
            if advance is not None:
                width += advance
                break
        else:  # not in the shipped faces (validation refuses what prints): square if CJK, else a half
            width += 1.0 if code >= 0x2E80 else 0.5
    return width


_TAG = re.compile(r"<(/?)(\w+)([^>]*)>|([^<]+)")


def formula_html_width(html: str) -> float:
    """The width in em of a formula set as text (the HTML of text.math.render_math)."""
    width = 0.0
    stack: list[tuple[str, str]] = []
    for match in _TAG.finditer(html):
        closing, tag, attributes, text = match.groups()
        if text is not None:
            scale = SCRIPT ** sum(1 for t, _ in stack if t in ("sub", "sup"))
            around = " ".join(a for _, a in stack)
            faces = SERIF if "mtext" in around else MATH_ITALIC if any(t == "var" for t, _ in stack) else MATH_UPRIGHT
            width += scale * run_width(unescape(text).replace("\u200b", ""), faces)
        elif closing:
            if stack:
                stack.pop()
        else:
            found = re.search(r'class="([^"]*)"', attributes)
            names = found.group(1).split() if found else []
            in_script = any(t in ("sub", "sup") for t, _ in stack)
            if "mo" in names and not in_script:
                width += 2 * OPERATOR_MARGIN
            width += THIN * (("sp" in names) + ("se" in names))
            stack.append((tag, " ".join(names)))
    return width
