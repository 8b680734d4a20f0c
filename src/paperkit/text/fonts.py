"""The shipped font faces, and which characters they can set (for the glyph-coverage check)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from paperkit.cache import cache_key, read_cached, write_cached
from paperkit.errors import RenderError
from paperkit.i18n import _
from paperkit.paths import FONTS


@dataclass(frozen=True)
class Face:
    """One font file and the CSS family, weight it is declared as; a fallback face serves the family `of`."""

    file: str
    family: str
    weight: int
    of: str = ""  # for a fallback face: the family whose missing characters it supplies
    style: str = "normal"  # the CSS font-style it is declared as


# Body text is serif, headings sans (W3C clreq practice for printed Chinese). The main faces hold GB 2312,
# the symbol blocks and every character of the content; the two fallback faces hold the rest of GBK
# (rare hanzi of names: 喆 堃 犇 淼 垚). Every font-family in the stylesheets lists the family's fallback
# second, so its glyphs are drawn (and embedded) only in documents that print such a character: a PDF
# embeds a font with its whole glyph count, and the handbook stays as small as before.
FACES = (
    Face("NotoSerifSC-Regular.otf", "PK Serif", 400),
    Face("NotoSerifSC-Bold.otf", "PK Serif", 700),
    Face("NotoSansSC-Regular.otf", "PK Sans", 400),
    Face("NotoSansSC-Bold.otf", "PK Sans", 700),
    Face("NotoSerifSC-Extra.otf", "PK Serif Extra", 400, of="PK Serif"),
    Face("NotoSansSC-Extra.otf", "PK Sans Extra", 400, of="PK Sans"),
)


# Text-set formulas ($d_k$ in a sentence) in the face the drawn ones use: STIX Two Math, cut into an upright
# and an italic face by scripts/build_math_fonts.py (variables italic; digits, operators, functions upright).
# They set only formulas, so they take no part in the coverage check of the text.
MATH_FACES = (
    Face("PKMath-Regular.ttf", "PK Math", 400),
    Face("PKMath-Italic.ttf", "PK Math", 400, style="italic"),
)


def all_faces() -> tuple[Face, ...]:
    """Every shipped face: the text faces, then the math faces."""
    return (*FACES, *MATH_FACES)


def font_paths(faces: tuple[Face, ...] | None = None) -> list[Path]:
    """The files of `faces` (the text faces by default); raise RenderError naming any that is missing."""
    paths = [FONTS / face.file for face in (FACES if faces is None else faces)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(str(p) for p in missing)
        raise RenderError(
            _("font file missing: {files} (restore fonts/ from git, or run scripts/build_fonts.py)").format(files=names)
        )
    return paths


@functools.lru_cache(maxsize=4)
def covered_characters() -> frozenset[int]:
    """Code points every shipped face has a glyph for (a character must work in body and headings)."""
    paths = font_paths()
    # Reading four character maps costs ~0.1 s; the files' sizes and times say when it must be redone.
    key = cache_key("coverage", *(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths))
    cached = read_cached("fonts", key)
    if cached is not None:
        return frozenset(int(cp, 16) for cp in cached.decode().split())
    covered = _read_coverage(paths)
    write_cached("fonts", key, " ".join(f"{cp:x}" for cp in sorted(covered)).encode())
    return covered


def _read_coverage(paths: list[Path]) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # fontTools is only needed by validation, not by --help

    cmaps: list[frozenset[int]] = []
    for path in paths:
        try:
            cmaps.append(frozenset(TTFont(path, lazy=True).getBestCmap()))
        except Exception as error:  # a truncated or foreign file: fontTools raises many types
            raise RenderError(_("font file unreadable: {path} ({error})").format(path=path, error=error)) from None
    by_face = dict(zip(FACES, cmaps, strict=True))
    fallback = {face.of: cmap for face, cmap in by_face.items() if face.of}
    # A character works when every main face can set it, itself or through its family's fallback face.
    covered: frozenset[int] | None = None
    for face, cmap in by_face.items():
        if not face.of:
            usable = cmap | fallback.get(face.family, frozenset())
            covered = usable if covered is None else covered & usable
    return covered or frozenset()


# The Unicode blocks scripts/build_fonts.py keeps whole from Noto CJK SC: a character of these blocks that
# the shipped fonts lack, Noto CJK SC lacks too (rebuilding the fonts cannot add it).
SUBSET_BLOCKS: tuple[tuple[str, int, int], ...] = (
    ("Basic Latin", 0x0000, 0x007F),
    ("Latin-1 Supplement", 0x0080, 0x00FF),
    ("Latin Extended-A", 0x0100, 0x017F),
    ("Greek and Coptic", 0x0370, 0x03FF),
    ("General Punctuation", 0x2000, 0x206F),
    ("Superscripts and Subscripts", 0x2070, 0x209F),
    ("Currency Symbols", 0x20A0, 0x20CF),
    ("Letterlike Symbols", 0x2100, 0x214F),
    ("Number Forms", 0x2150, 0x218F),  # Ⅰ Ⅱ Ⅲ, ½ ⅓
    ("Arrows", 0x2190, 0x21FF),
    ("Mathematical Operators", 0x2200, 0x22FF),
    ("Enclosed Alphanumerics", 0x2460, 0x24FF),  # ① … ⑳, ⑴, ⒈
    ("Box Drawing", 0x2500, 0x257F),
    ("Geometric Shapes", 0x25A0, 0x25FF),  # □ ■ ○ ● △ ▲ ◆
    ("CJK Symbols and Punctuation", 0x3000, 0x303F),
    ("Halfwidth and Fullwidth Forms", 0xFF00, 0xFFEF),
)


def in_subset_blocks(char: str) -> bool:
    """Whether a character lies in a block the fonts were cut with whole."""
    return any(start <= ord(char) <= end for _, start, end in SUBSET_BLOCKS)


# -- Chinese in drawn formulas ------------------------------------------------------------------------------------
# The math renderer (ziamath, on ziafont) draws each glyph from a font it reads itself, and ziafont reads only
# TrueType outlines or name-keyed CFF; the shipped Chinese faces are CID-keyed CFF. So the few characters a
# formula's \text{…} needs are cut from the serif face (the body's) and their cubic outlines turned quadratic
# (TrueType), kept in the cache under the characters and the font files' sizes.

SERIF_FILES = ("NotoSerifSC-Regular.otf", "NotoSerifSC-Extra.otf")


def chinese_math_font(chars: str) -> bytes:
    """A small TrueType font with the serif face's glyphs for `chars` (the same characters give the same bytes)."""
    wanted = "".join(sorted(set(chars)))
    stamp = [f"{name}:{(FONTS / name).stat().st_size}" for name in SERIF_FILES]
    key = cache_key("chinese-math-font", "cu2qu 1.0", *stamp, wanted)
    cached = read_cached("fonts", key)
    if cached is not None:
        return cached
    data = _cut_truetype(wanted)
    write_cached("fonts", key, data)
    return data


def _cut_truetype(chars: str) -> bytes:
    import io

    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    # The main face has the common characters; a rarer one comes from the fallback face (validation has made sure
    # some shipped face has each).
    main = frozenset(TTFont(FONTS / SERIF_FILES[0], lazy=True).getBestCmap())
    source = SERIF_FILES[0] if all(ord(c) in main for c in chars) else SERIF_FILES[1]
    font = TTFont(FONTS / source, recalcTimestamp=False)
    options = subset.Options()
    options.desubroutinize = True
    options.notdef_outline = True
    options.layout_features = []
    cutter = subset.Subsetter(options)
    cutter.populate(text=chars)
    cutter.subset(font)
    glyphs = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))  # 1 font unit of error: invisible at 300 dpi
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for name in [
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ]:
        setattr(maxp, name, 1 if name == "maxZones" else 0)
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
