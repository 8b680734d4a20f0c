#!/usr/bin/env python3
"""Build the Simplified Chinese fonts that paperkit ships in ``fonts/``.

The fonts are cut from the Noto CJK collections of the Debian package
``fonts-noto-cjk``: for each of Noto Serif CJK and Noto Sans CJK, Regular and
Bold, the script picks the Simplified Chinese face ("... CJK SC") out of the
``.ttc`` collection by its name table, subsets it to

* every character of GB 2312 (the rest of GBK goes into two fallback faces),
* every character the fonts in the output folder already cover,
* the Latin, Greek, punctuation, symbol, arrow, math, box-drawing, shape,
  CJK-punctuation and full-width blocks listed in ``BLOCKS``,
* a few check marks and ballot boxes (when the font has them),
* every character used by a ``*.yaml`` / ``*.yml`` file under ``--source``,
* the characters given with ``--extra-chars``,

keeps the OpenType features CJK typesetting needs (see ``LAYOUT_FEATURES``)
and writes them as OpenType/CFF ``.otf`` files, together with the OFL licence
text (``LICENSE-OFL.txt``) and a ``README.md``.

The output is deterministic: ``head.modified`` is kept at the source font's
value, so two runs over the same inputs give byte-identical files.

Run it from the repository root (fontTools is a paperkit dependency)::

    sudo apt-get install fonts-noto-cjk
    .venv/bin/python scripts/build_fonts.py
    .venv/bin/python scripts/build_fonts.py --extra-chars "䶮堃"   # add characters
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import fontTools
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from paperkit.text.fonts import SUBSET_BLOCKS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OFL_FILE = "LICENSE-OFL.txt"
README_FILE = "README.md"
REGENERATE_CMD = ".venv/bin/python scripts/build_fonts.py"


@dataclass(frozen=True)
class Face:
    """One shipped face: where it comes from and where it goes."""

    collection: str  # file name of the .ttc under the Noto directory
    family: str  # family name (name ID 16, else 1) of the face to extract
    output: str  # file name written under the output directory
    fallback: bool = False  # the rest of GBK, for the main faces' missing characters (paperkit's "PK … Extra")


FACES: tuple[Face, ...] = (
    Face("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "NotoSerifSC-Regular.otf"),
    Face("NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC", "NotoSerifSC-Bold.otf"),
    Face("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "NotoSansSC-Regular.otf"),
    Face("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "NotoSansSC-Bold.otf"),
    # The fallback faces are Regular only: a rare character in bold text is drawn emboldened.
    Face("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "NotoSerifSC-Extra.otf", fallback=True),
    Face("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "NotoSansSC-Extra.otf", fallback=True),
)

# Unicode blocks (inclusive ranges) kept in full, besides GB 2312.
# The Unicode blocks kept whole (whatever the font has of them); paperkit's validation reads the same table.
BLOCKS = SUBSET_BLOCKS

# Check marks and ballot boxes for checklists, kept when the font has them.
CHECK_MARKS = "✓✔✗✘☐☑☒"

# OpenType features kept. HarfBuzz applies ccmp, locl, calt, liga, kern,
# mark and mkmk by default and vert/vrt2/vkrn in vertical text; the others are
# what CSS font-variant-east-asian / font-feature-settings reach for CJK
# (full-, half- and proportional-width forms, and the palt/halt/vpal/vhal
# punctuation spacing). Left out: aalt, dlig, hist, ruby, the JIS78/83/90 and
# NLC Japanese forms and the Hangul jamo features, which Simplified Chinese
# text does not use (``--all-features`` keeps them: about +110 KB a face).
LAYOUT_FEATURES: tuple[str, ...] = (
    "ccmp",
    "locl",
    "calt",
    "liga",
    "kern",
    "mark",
    "mkmk",
    "fwid",
    "hwid",
    "pwid",
    "palt",
    "halt",
    "chws",
    "vert",
    "vrt2",
    "vkrn",
    "vpal",
    "vhal",
    "vchw",
)

# OpenType language systems whose 'locl' swaps in Japanese, Korean or
# Traditional Chinese glyph forms. Keeping those lookups would almost double
# each font (every GB 2312 ideograph drags in up to four variants), so they
# are cut: text tagged with these languages is set with the SC forms.
FOREIGN_CJK_LANGSYS = frozenset({"JAN ", "KOR ", "ZHT ", "ZHH "})


@dataclass(frozen=True)
class FaceResult:
    """What building one face produced, for the summary."""

    output: Path
    family: str
    style: str
    version: str
    copyright: str
    code_points: int
    glyphs: int
    size: int
    gb2312_missing: tuple[int, ...]
    requested_missing: tuple[int, ...]
    check_marks: str  # the CHECK_MARKS the face has


def gb2312_code_points() -> set[int]:
    """Return every code point of GB 2312 (two-byte codes 0xA1A1–0xF7FE)."""
    found: set[int] = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                text = bytes((lead, trail)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            found.update(ord(ch) for ch in text)
    return found


def gbk_code_points() -> set[int]:
    """Return every code point of GBK, the two-byte part of GB 18030 (the whole U+4E00–U+9FA5 block, 21 886
    characters with its symbols): what Chinese name lists are written in, so real names print without a rebuild."""
    found: set[int] = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                text = bytes((lead, trail)).decode("gbk")
            except UnicodeDecodeError:
                continue
            found.update(ord(ch) for ch in text if ord(ch) >= 0x80)
    return found


def current_code_points(out_dir: Path) -> set[int]:
    """Return every code point the main fonts already in `out_dir` cover: a rebuild only ever adds to them."""
    found: set[int] = set()
    for face in FACES:
        if face.fallback:
            continue
        path = out_dir / face.output
        if path.is_file():
            found.update(TTFont(str(path), lazy=True).getBestCmap())
    return found


def block_code_points() -> set[int]:
    """Return the code points of all ``BLOCKS`` plus the check marks."""
    found = {cp for _, start, end in BLOCKS for cp in range(start, end + 1)}
    found.update(ord(ch) for ch in CHECK_MARKS)
    return found


def text_code_points(text: str) -> set[int]:
    """Return the code points of ``text``, without control characters."""
    return {ord(ch) for ch in text if unicodedata.category(ch) != "Cc"}


def source_code_points(source: Path) -> tuple[set[int], int]:
    """Return the code points used by the YAML files under ``source`` and their count."""
    if not source.is_dir():
        return set(), 0
    files = sorted(p for p in source.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    found: set[int] = set()
    for path in files:
        found |= text_code_points(path.read_text(encoding="utf-8"))
    return found, len(files)


def family_name(font: TTFont) -> str:
    """Return the typographic family name of ``font`` (name ID 16, else 1)."""
    name = font["name"]
    return str(name.getDebugName(16) or name.getDebugName(1) or "")


def find_face_index(collection: Path, family: str) -> int:
    """Return the index of the face named ``family`` in a ``.ttc`` collection."""
    fonts = TTCollection(str(collection), lazy=True).fonts
    matches = [i for i, font in enumerate(fonts) if family_name(font) == family]
    if len(matches) != 1:
        names = ", ".join(sorted({family_name(font) for font in fonts}))
        raise SystemExit(f"{collection}: expected one face named {family!r}, found {len(matches)} ({names})")
    return matches[0]


def restrict_locl_to_simplified_chinese(font: TTFont) -> None:
    """Drop the GSUB 'locl' lookups used only by Japanese/Korean/Traditional Chinese."""
    if "GSUB" not in font:
        return
    table = font["GSUB"].table
    records = table.FeatureList.FeatureRecord
    kept: set[int] = set()
    foreign: set[int] = set()
    for script in table.ScriptList.ScriptRecord:
        lang_systems = [("dflt", script.Script.DefaultLangSys)]
        lang_systems += [(rec.LangSysTag, rec.LangSys) for rec in script.Script.LangSysRecord]
        for tag, lang_sys in lang_systems:
            if lang_sys is None:
                continue
            for index in lang_sys.FeatureIndex:
                if records[index].FeatureTag == "locl":
                    (foreign if tag in FOREIGN_CJK_LANGSYS else kept).add(index)
    kept_lookups = {lookup for index in kept for lookup in records[index].Feature.LookupListIndex}
    for index in foreign - kept:
        feature = records[index].Feature
        feature.LookupListIndex = [i for i in feature.LookupListIndex if i in kept_lookups]
        feature.LookupCount = len(feature.LookupListIndex)


def subset_options(all_features: bool, hinting: bool) -> subset.Options:
    """Return the fontTools subsetter options used for every face."""
    options = subset.Options()
    options.layout_features = ["*"] if all_features else list(LAYOUT_FEATURES)
    options.hinting = hinting
    options.name_IDs = ["*"]  # keep the original names, copyright and licence
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True  # a missing character shows as a visible box
    options.glyph_names = False
    options.recalc_timestamp = False
    return options


def build_face(
    face: Face,
    noto_dir: Path,
    out_dir: Path,
    wanted: frozenset[int],
    requested: frozenset[int],
    all_features: bool,
    hinting: bool,
) -> FaceResult:
    """Extract, subset and write one face; return what it covers."""
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    collection = noto_dir / face.collection
    index = find_face_index(collection, face.family)
    # recalcTimestamp=False keeps head.modified at the source font's value, so
    # the output does not depend on when the script runs.
    # recalcBBoxes=False: the source's bounding boxes (font-wide maxima) stay valid for a subset, and
    # recomputing them runs every charstring again (about a third of the build time).
    font = TTFont(str(collection), fontNumber=index, lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    modified = font["head"].modified
    restrict_locl_to_simplified_chinese(font)
    subsetter = subset.Subsetter(subset_options(all_features, hinting))
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    add_quarter_em_space(font)
    font["head"].modified = modified
    out_path = out_dir / face.output
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    font.save(str(tmp_path))
    os.replace(tmp_path, out_path)
    covered = set(font.getBestCmap())
    name = font["name"]
    return FaceResult(
        output=out_path,
        family=face.family,
        style=str(name.getDebugName(2)),
        version=str(name.getDebugName(5)).split(";")[0],
        copyright=str(name.getDebugName(0)),
        code_points=len(covered),
        glyphs=len(font.getGlyphOrder()),
        size=out_path.stat().st_size,
        gb2312_missing=tuple(sorted(gb2312_code_points() - covered)),
        requested_missing=tuple(sorted(requested - covered)),
        check_marks="".join(ch for ch in CHECK_MARKS if ord(ch) in covered),
    )


# U+2005 FOUR-PER-EM SPACE separates Chinese from Latin text (W3C clreq: a quarter em). Noto CJK
# has no glyph for it, but its space glyph is about a quarter em wide. Mapping U+2005 to that glyph
# gives a gap that allows a line break yet is not stretched by justification (which widens only
# U+0020 and U+00A0), so mixed lines do not open wide holes.
QUARTER_EM_SPACE = 0x2005


def add_quarter_em_space(font: TTFont) -> None:
    """Map U+2005 to the font's space glyph in every Unicode cmap subtable."""
    space = font.getBestCmap()[0x20]
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap.setdefault(QUARTER_EM_SPACE, space)


def ofl_text() -> str:
    """Return the SIL OFL 1.1 text from the Debian copyright file of fonts-noto-cjk."""
    lines = DEBIAN_COPYRIGHT.read_text(encoding="utf-8").splitlines()
    # The stand-alone "License: SIL-1.1" paragraph, not a "Files:" stanza's field.
    heads = [i for i, line in enumerate(lines[:-1]) if line == "License: SIL-1.1" and lines[i + 1].startswith(" ")]
    if not heads:
        raise SystemExit(f"{DEBIAN_COPYRIGHT}: no SIL OFL 1.1 text found")
    start = heads[0] + 1
    body: list[str] = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    while body and not body[-1].strip():
        body.pop()
    if "SIL OPEN FONT LICENSE Version 1.1" not in "\n".join(body[:3]):
        raise SystemExit(f"{DEBIAN_COPYRIGHT}: no SIL OFL 1.1 text found")
    return "\n".join(body) + "\n"


def copyright_lines(results: Iterable[FaceResult]) -> list[str]:
    """Return one OFL copyright line per family, from the fonts' own notices."""
    lines: dict[str, str] = {}
    for result in results:
        notice = result.copyright.replace("©", "Copyright").rstrip(".")
        lines.setdefault(result.family, f"{result.family}: {notice}, with Reserved Font Name 'Source'.")
    return [lines[family] for family in sorted(lines)]


def write_license(out_dir: Path, results: Sequence[FaceResult]) -> None:
    """Write the OFL text with the fonts' copyright lines to LICENSE-OFL.txt."""
    target = out_dir / OFL_FILE
    if not DEBIAN_COPYRIGHT.is_file() and target.is_file():
        print(f"warning: {DEBIAN_COPYRIGHT} missing, keeping the existing {target}", file=sys.stderr)
        return
    header = "\n".join(copyright_lines(results))
    target.write_text(
        f"{header}\n\nThis Font Software is licensed under the SIL Open Font License, Version 1.1.\n"
        f"This license is copied below, and is also available with a FAQ at:\n"
        f"https://openfontlicense.org\n\n\n{ofl_text()}",
        encoding="utf-8",
    )


def human_size(size: int) -> str:
    """Return ``size`` bytes as a short MB string."""
    return f"{size / 1_000_000:.2f} MB"


def write_readme(out_dir: Path, results: Sequence[FaceResult], command: str) -> None:
    """Write fonts/README.md: what the fonts are, their licence, how to rebuild."""
    rows = "\n".join(
        f"| `{r.output.name}` | {r.family} {r.style} ({r.version}) | {r.code_points} | {human_size(r.size)} |"
        for r in results
    )
    blocks = "\n".join(f"  * {name} (U+{start:04X}–{end:04X})" for name, start, end in BLOCKS)
    features = ", ".join(LAYOUT_FEATURES)
    main = [r for r in results if "Extra" not in r.output.name]
    marks = "".join(ch for ch in CHECK_MARKS if all(ch in r.check_marks for r in main))
    absent = "".join(ch for ch in CHECK_MARKS if ch not in marks)
    marks_note = f"; {absent} are not in Noto CJK SC, so they need a fallback font" if absent else ""
    text = f"""# Shipped fonts

Subsets of the Simplified Chinese fonts **Noto Serif CJK SC** and **Noto Sans
CJK SC** (made by Adobe for Google), Regular and Bold, that paperkit uses to
render the handbooks to PDF, so the output looks the same on every machine.
WeasyPrint embeds (a further subset of) them into each PDF.

| File | Face | Code points | Size |
| --- | --- | ---: | ---: |
{rows}

## Licence

SIL Open Font License 1.1, see [`{OFL_FILE}`]({OFL_FILE}). These files are
Modified Versions (subsets) of the Noto CJK fonts and must stay under the OFL.
They keep the original Noto font names; the licence's Reserved Font Name is
"Source", which they do not use. Documents made with the fonts (the PDFs) are
not restricted by the licence.

## Math faces

`PKMath-Regular.ttf` and `PKMath-Italic.ttf` (family "PK Math", about 25 KB each)
set the formulas paperkit prints as text (`$d_k$`, `$O(n^2)$` in a sentence) in
the face the drawn formulas use, so both look alike: italic variables, upright
digits, operators and function names. They are cut from **STIX Two Math**
(Copyright 2001-2020 The STIX Fonts Project Authors, SIL Open Font License 1.1,
see [`LICENSE-STIX-OFL.txt`](LICENSE-STIX-OFL.txt)), the font ziamath draws
with, by `scripts/build_math_fonts.py` (ASCII, Greek and the operators of the
text-math table; in the italic face the letters map to STIX's math-italic
glyphs, so the text still copies as plain letters). They are Modified Versions
under the OFL with a name of their own. Rebuild (about a second, deterministic):

```sh
.venv/bin/python scripts/build_math_fonts.py
```

## What they contain

* every character of GB 2312 (6763 hanzi plus its symbols, pinyin and zhuyin)
  in the four main faces;
* the rest of GBK, the two-byte part of GB 18030 (with GB 2312: the whole CJK
  Unified Ideographs block U+4E00–U+9FA5, 20 902 hanzi, and GBK's symbols), in
  the two fallback faces `NotoSerifSC-Extra.otf` and `NotoSansSC-Extra.otf`
  (Regular): names such as 喆 堃 犇 淼 垚 print without a rebuild. paperkit
  lists each family's fallback second in every `font-family`, so a PDF embeds
  it only when it prints such a character (an embedded font carries its whole
  glyph count, which would otherwise double every document's size);
* every character the main faces had before the last build (a rebuild only adds);
* these Unicode blocks, as far as the font covers them:
{blocks}
* the check marks and ballot boxes {marks or "(none)"}{marks_note};
* every character used by the YAML files under `source/` at build time,
  and any characters passed with `--extra-chars`.

OpenType features kept (where the font has them): {features}.
The `locl` forms for Japanese, Korean and Traditional Chinese are dropped
(text in those languages is set with the Simplified Chinese glyph forms).
CFF hinting is kept. The files are OpenType/CFF (`.otf`), built
deterministically: the same inputs give byte-identical files.

## Regenerating

The fonts were made by `scripts/build_fonts.py` from the Debian/Ubuntu
package `fonts-noto-cjk`:

```sh
sudo apt-get install fonts-noto-cjk
{REGENERATE_CMD}
```

The last build ran `{command}`.

Regenerate when `paperkit validate` or `paperkit exam --roster` reports a
character that the shipped fonts do not cover (a rare hanzi outside GBK such as
those of CJK Extension A, a symbol, …). Either put the text
in the YAML under `source/` first (the script picks up every character used
there), or name the characters explicitly:

```sh
{REGENERATE_CMD} --extra-chars "䶮堃"
```

A build keeps every character the fonts already have, so characters added
with `--extra-chars` stay in later builds too. Then commit the changed files
under `fonts/`. A build takes about 35 s on a 2-core machine.
"""
    (out_dir / README_FILE).write_text(text, encoding="utf-8")


def format_code_points(code_points: Sequence[int], limit: int = 40) -> str:
    """Return code points as 'X (U+XXXX)' items, at most ``limit`` of them."""
    shown = ", ".join(f"{chr(cp)} (U+{cp:04X})" for cp in code_points[:limit])
    return shown + (f", … ({len(code_points)} in all)" if len(code_points) > limit else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO_ROOT / "source",
        help="directory whose *.yaml files' characters are added (default: %(default)s; skipped if missing)",
    )
    parser.add_argument(
        "--extra-chars", default="", metavar="STRING", help="extra characters to include, e.g. --extra-chars '䶮堃'"
    )
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "fonts", help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--noto-dir",
        type=Path,
        default=DEFAULT_NOTO_DIR,
        help="directory with the Noto CJK .ttc collections (default: %(default)s)",
    )
    parser.add_argument(
        "--all-features", action="store_true", help="keep every OpenType feature instead of LAYOUT_FEATURES"
    )
    parser.add_argument(
        "--no-hinting", action="store_true", help="drop CFF hinting (about 15%% smaller, rougher on screen)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(len(FACES), os.cpu_count() or 1),
        help="faces built in parallel (default: %(default)s)",
    )
    return parser.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    """Return the regenerate command with the options that change the output."""
    parts = [REGENERATE_CMD]
    if args.extra_chars:
        parts += ["--extra-chars", shlex.quote(args.extra_chars)]
    if args.all_features:
        parts.append("--all-features")
    if args.no_hinting:
        parts.append("--no-hinting")
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Build all faces, write the licence and README, and print a summary."""
    args = parse_args(argv)
    started = time.monotonic()
    missing = [f for f in FACES if not (args.noto_dir / f.collection).is_file()]
    if missing:
        print(
            f"error: {', '.join(f.collection for f in missing)} not found in {args.noto_dir}; "
            "install them with: sudo apt-get install fonts-noto-cjk",
            file=sys.stderr,
        )
        return 1
    source_cps, yaml_count = source_code_points(args.source)
    requested = frozenset(source_cps | text_code_points(args.extra_chars))
    kept = current_code_points(args.output)  # what earlier runs (and their --extra-chars) put in
    wanted = frozenset(gb2312_code_points() | block_code_points() | requested | kept)
    # The fallback faces: the rest of GBK (the space only so the face has the quarter-em space too).
    rest = frozenset((gbk_code_points() - wanted) | {0x20})
    print(
        f"fontTools {fontTools.version}; {yaml_count} YAML file(s) under {args.source}, "
        f"{len(requested)} requested code points, {len(wanted)} wanted in all"
    )
    args.output.mkdir(parents=True, exist_ok=True)

    jobs = max(1, min(args.jobs, len(FACES)))

    def build_args(face: Face) -> tuple:
        chosen, asked = (rest, frozenset()) if face.fallback else (wanted, requested)
        return (face, args.noto_dir, args.output, chosen, asked, args.all_features, not args.no_hinting)

    if jobs == 1:
        results = [build_face(*build_args(face)) for face in FACES]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(build_face, *build_args(face)) for face in FACES]
            results = [future.result() for future in futures]

    write_license(args.output, results)
    write_readme(args.output, results, command_line(args))

    for face, r in zip(FACES, results, strict=True):
        print(f"{r.output.name:26} {r.code_points:6d} code points {r.glyphs:6d} glyphs {human_size(r.size):>9}")
        if r.gb2312_missing and not face.fallback:
            print(f"  warning: GB 2312 not covered: {format_code_points(r.gb2312_missing)}", file=sys.stderr)
        if r.requested_missing:
            print(
                f"  warning: requested but not in the font: {format_code_points(r.requested_missing)}", file=sys.stderr
            )
    total = sum(p.stat().st_size for p in args.output.iterdir() if p.is_file())
    print(f"total {args.output}: {human_size(total)} ({total} bytes); took {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
