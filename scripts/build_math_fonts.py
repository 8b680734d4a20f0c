"""Build fonts/PKMath-Regular.ttf and fonts/PKMath-Italic.ttf from STIX Two Math (SIL OFL 1.1).

Text-set formulas ($d_k$, $O(n^2)$ in a sentence) and drawn ones (fractions, sums: ziamath draws them with
STIX Two Math) must look alike: italic variables, upright digits, operators and function names. WeasyPrint
neither synthesizes italics nor reads the math-italic code points from plain letters, so we ship two small
faces cut from the very font ziamath draws with:

- PK Math Regular: STIX Two Math's letters, digits, Greek and operators, upright.
- PK Math Italic: the same characters, but a-z, A-Z and lowercase Greek map to STIX's math-italic glyphs
  (U+1D434…, U+1D6FC…). The text stays plain "d" (it copies and searches as "d"); only its drawing is italic.

The renamed faces are a Modified Version under the OFL: they carry their own name (the OFL keeps the
original's name for the original), the copyright notice and the licence (fonts/LICENSE-STIX-OFL.txt).
Run: .venv/bin/python scripts/build_math_fonts.py   (about a second; the output is deterministic)
"""

from __future__ import annotations

import io
from pathlib import Path

import ziamath
from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
STIX = Path(ziamath.__file__).parent / "fonts" / "STIXTwoMath-Regular.ttf"

# What a text-set formula prints: ASCII, Greek, and the operators and symbols markup's text-math table emits.
SYMBOLS = "−×·÷±∓≈≤≥≠≡∝∼≃→←↔⇒⇔∈∉⊂⊆∪∩∞∑∏∫∂∇√′″°…⋯⊥∥∠△‖∀∃¬∧∨"
GREEK = [*range(0x0391, 0x03AA), *range(0x03B1, 0x03CA), 0x03D1, 0x03D5, 0x03F5]
# The four-per-em space sets the room around an operator in a formula that cannot break (markup puts it there).
SPACES = [0x2005, 0x200B]
CHARACTERS = sorted({*range(0x20, 0x7F), *GREEK, *map(ord, SYMBOLS), *SPACES})

# Plain letters → their math-italic code points (h is the Planck constant ℎ, U+210E, in that block's gap).
ITALIC = {
    **{ord("A") + i: 0x1D434 + i for i in range(26)},
    **{ord("a") + i: 0x1D44E + i for i in range(26)},
    ord("h"): 0x210E,
    **{0x03B1 + i: 0x1D6FC + i for i in range(25)},  # α…ω (ς included)
    0x03D1: 0x1D717,  # ϑ
    0x03D5: 0x1D719,  # ϕ
    0x03F5: 0x1D716,  # ϵ
}


def build(style: str) -> bytes:
    """One face ("Regular" or "Italic") as TrueType bytes."""
    font = TTFont(STIX)
    if style == "Italic":
        cmap = font.getBestCmap()
        for table in font["cmap"].tables:
            if table.isUnicode():
                for plain, italic in ITALIC.items():
                    if italic in cmap:
                        table.cmap[plain] = cmap[italic]
    options = subset.Options()
    options.drop_tables += ["MATH", "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "DSIG"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for cp in CHARACTERS if cp in font.getBestCmap()])
    subsetter.subset(font)
    _rename(font, style)
    if style == "Italic":
        font["OS/2"].fsSelection = (font["OS/2"].fsSelection | 0x01) & ~0x40  # italic, not regular
        font["head"].macStyle |= 0x02
        font["post"].italicAngle = -12.0  # informative only: WeasyPrint matches the @font-face style
    font["head"].created = font["head"].modified = 0x86E2A700  # fixed times: the same bytes on every run
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _rename(font: TTFont, style: str) -> None:
    """Our name for the Modified Version (family PK Math), keeping the copyright and licence records."""
    names = {
        1: "PK Math",
        2: style,
        3: f"PK Math {style}; from STIX Two Math",
        4: f"PK Math {style}",
        5: "Version 1.0 (from STIX Two Math 2.0x)",
        6: f"PKMath-{style}",
    }
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names or record.nameID > 14 or record.nameID in (16, 17):
            table.removeNames(nameID=record.nameID)
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
        table.setName(text, name_id, 1, 0, 0)


def main() -> None:
    """Write both faces into fonts/."""
    for style in ("Regular", "Italic"):
        target = ROOT / "fonts" / f"PKMath-{style}.ttf"
        target.write_bytes(build(style))
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
