"""A .docx file into numbered blocks of content text: runs as text, Word equations as $TeX$ (pandoc reads the
OMML), pictures as figure references whose bytes are kept for the source's figures/ folder, tables as pipe tables.

The file is a zip a stranger may have made: its size, its member count, the sizes its members declare and the
compression ratio are checked before python-docx reads a byte of it; a .doc, a password-protected file (both OLE
containers) or anything else is refused with one line naming the file.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import subprocess
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperkit.errors import WordError
from paperkit.i18n import _
from paperkit.text.figures import MAX_FIGURE_BYTES, MAX_PIXELS, raster_size
from paperkit.text.markup import inline_problems

MAX_DOCX_BYTES = 50 * 1024 * 1024  # a bank of a few thousand items with pictures is a few MB
MAX_MEMBERS = 2000
MAX_UNPACKED = 200 * 1024 * 1024  # the sizes the members declare, together
MAX_RATIO = 200  # unpacked / packed for a member over 1 MB: XML packs about 10:1, a zip bomb 1000:1
PANDOC_TIMEOUT = 120
EMU_PER_MM = 36_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
V = "urn:schemas-microsoft-com:vml"
_MARK = re.compile(r"^F(\d+): \$(.*)\$$")
_FIGURE_CAPTION = re.compile(r"^\s*图\s*\d+[\s\u3000]*(?P<caption>\S.*?)\s*$")


@dataclass(frozen=True)
class Picture:
    """A picture of the document: the bytes to write into figures/ under `name`."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Block:
    """One paragraph (or table) of the body: its number from 1, its content text, whether it is a heading, and
    what could not be kept of it (a picture of another format, an equation pandoc could not read)."""

    number: int
    text: str
    heading: bool = False
    lost: tuple[str, ...] = ()


@dataclass(frozen=True)
class WordText:
    """A document as blocks, the pictures they name, and notes on what was kept in another form."""

    blocks: tuple[Block, ...]
    pictures: tuple[Picture, ...] = ()
    notes: tuple[str, ...] = ()
    title: str = ""


def read_word(path: Path, figure_stem: str) -> WordText:
    """Read `path` into blocks of content text; pictures are named `figures/<figure_stem>-<hash>.<ext>`."""
    data = _checked_bytes(path)
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises whatever its zip, XML and part readers raise
        raise WordError(
            _("{file}: not a Word document python-docx can read ({error})").format(file=path, error=_first(error))
        ) from None
    reader = _Reader(document, figure_stem)
    raw = list(reader.blocks())
    formulas, notes = _formulas(reader.equations)
    blocks = tuple(_resolved(block, formulas) for block in raw)
    title = (document.core_properties.title or "").strip()
    return WordText(blocks, tuple(reader.pictures.values()), tuple(notes + reader.notes), title)


def _first(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:160] if lines else type(error).__name__


def _checked_bytes(path: Path) -> bytes:
    """The file's bytes, once it is known to be a zip within the limits holding a Word document."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise WordError(_("{file}: not a file").format(file=path))
        if size > MAX_DOCX_BYTES:
            raise WordError(
                _("{file}: larger than {limit} MB; split the bank into smaller files").format(
                    file=path, limit=MAX_DOCX_BYTES // 1024 // 1024
                )
            )
        data = path.read_bytes()
    except OSError as error:
        raise WordError(_("{file}: cannot be read ({reason})").format(file=path, reason=error.strerror)) from None
    if data.startswith(OLE_MAGIC):
        raise WordError(
            _(
                "{file}: a Word 97–2003 .doc or a password-protected file; open it in Word or WPS and save it as "
                ".docx without a password"
            ).format(file=path)
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WordError(_("{file}: not a .docx file (a .docx is a zip archive; this is not one)").format(file=path))
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise WordError(_("{file}: a damaged .docx ({error})").format(file=path, error=_first(error))) from None
    if len(members) > MAX_MEMBERS:
        raise WordError(
            _("{file}: {count} files inside; a .docx has far fewer (at most {limit} are read)").format(
                file=path, count=len(members), limit=MAX_MEMBERS
            )
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise WordError(_("{file}: encrypted inside; save it without a password").format(file=path))
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED:
        raise WordError(
            _("{file}: unpacks to {size} MB, over the {limit} MB read").format(
                file=path, size=total // 1024 // 1024, limit=MAX_UNPACKED // 1024 // 1024
            )
        )
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(1, member.compress_size):
            raise WordError(
                _("{file}: {member} unpacks {ratio}× its packed size; refused as a zip bomb").format(
                    file=path, member=member.filename, ratio=member.file_size // max(1, member.compress_size)
                )
            )
    if "word/document.xml" not in {member.filename for member in members}:
        raise WordError(_("{file}: a zip archive but not a Word document (no word/document.xml)").format(file=path))
    return data


class _Reader:
    """Walks the body in order, turning each paragraph's runs, equations and pictures into text pieces."""

    def __init__(self, document: Any, figure_stem: str) -> None:
        self.document = document
        self.figure_stem = figure_stem
        self.equations: list[Any] = []  # m:oMath elements, referred to as \x00F<n>\x00 in the text until converted
        self.pictures: dict[str, Picture] = {}
        self.notes: list[str] = []
        self.heading_styles = {
            style.style_id for style in document.styles if _is_heading_style(style.element, style.name or "")
        }

    def blocks(self) -> Iterator[Block]:
        body = self.document.element.body
        for number, child in enumerate((c for c in body if _local(c.tag) in ("p", "tbl")), start=1):
            if _local(child.tag) == "tbl":
                rows = _rows(child)
                texts = [[[self.paragraph(p)[0] for p in cell] for cell in row] for row in rows]
                if texts:  # a header row is bold by its place, not by its words
                    texts[0] = [[text.replace("**", "") for text in cell] for cell in texts[0]]
                yield Block(number, _pipe_table(texts, [_alignment(cell) for cell in rows[0]] if rows else []))
                continue
            text, lost = self.paragraph(child)
            yield Block(number, text, self.is_heading(child), tuple(lost))

    def is_heading(self, p: Any) -> bool:
        ppr = p.find(f"{{{W}}}pPr")
        if ppr is None:
            return False
        style = ppr.find(f"{{{W}}}pStyle")
        if style is not None and style.get(f"{{{W}}}val") in self.heading_styles:
            return True
        return ppr.find(f"{{{W}}}outlineLvl") is not None

    def paragraph(self, p: Any) -> tuple[str, list[str]]:
        """A paragraph's content text (or each cell paragraph's), and what of it could not be kept."""
        pieces: list[str] = []
        lost: list[str] = []
        for kind, value in _pieces(p):
            if kind == "text":
                pieces.append(value)
            elif kind == "math":
                self.equations.append(value)
                pieces.append(f"\x00F{len(self.equations) - 1}\x00")
            else:
                pieces.append(self.picture(value, lost))
        return _with_captions("".join(pieces)), lost

    def picture(self, element: Any, lost: list[str]) -> str:
        """A drawing or VML picture as a figure reference ('' and a note in `lost` when it cannot be one)."""
        rid = next(
            (b.get(f"{{{R}}}embed") for b in element.iter(f"{{{A}}}blip") if b.get(f"{{{R}}}embed")),
            None,
        ) or next((v.get(f"{{{R}}}id") for v in element.iter(f"{{{V}}}imagedata") if v.get(f"{{{R}}}id")), None)
        part = self.document.part.related_parts.get(rid) if rid else None
        if part is None:
            lost.append(_("a picture linked from outside the file (only embedded pictures are read)"))
            return ""
        data = part.blob
        ext = "png" if data.startswith(b"\x89PNG\r\n\x1a\n") else "jpg" if data.startswith(b"\xff\xd8") else ""
        if not ext:
            kind = Path(str(part.partname)).suffix.lstrip(".").upper() or "?"
            lost.append(_("a picture in {kind} format (save it as PNG or JPEG)").format(kind=kind))
            return ""
        if len(data) > MAX_FIGURE_BYTES:
            lost.append(
                _("a picture larger than {size} MB (scale it down)").format(size=MAX_FIGURE_BYTES // 1024 // 1024)
            )
            return ""
        size = raster_size(data, "png" if ext == "png" else "jpeg")
        if size is None or size[0] * size[1] > MAX_PIXELS:
            lost.append(_("a picture whose size cannot be read or is over 40 megapixels"))
            return ""
        name = f"figures/{self.figure_stem}-{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
        self.pictures.setdefault(name, Picture(name, data))
        extent = next(element.iter(f"{{{WP}}}extent"), None)
        width_mm = int(extent.get("cx", "0")) / EMU_PER_MM if extent is not None else 60.0
        width = min(180, max(3, round(width_mm)))
        return f"\x01{name}\x01{width}\x01"


def _is_heading_style(element: Any, name: str) -> bool:
    lowered = name.lower()
    if "heading" in lowered or "title" in lowered or "标题" in name:  # 标题 1, 试卷标题, Heading 2, Title
        return True
    ppr = element.find(f"{{{W}}}pPr")
    return ppr is not None and ppr.find(f"{{{W}}}outlineLvl") is not None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _rows(table: Any) -> list[list[Any]]:
    """Each row's cells as lists of their paragraphs (nested tables are read as their text)."""
    rows = []
    for tr in table.iter(f"{{{W}}}tr"):
        rows.append([list(tc.iter(f"{{{W}}}p")) for tc in tr.iter(f"{{{W}}}tc")])
    return rows


def _alignment(cell: list[Any]) -> str:
    """A cell's alignment as a pipe table's delimiter cell (from its first paragraph's w:jc)."""
    jc = next(iter(cell[0].iter(f"{{{W}}}jc")), None) if cell else None
    value = jc.get(f"{{{W}}}val") if jc is not None else ""
    return {"center": ":---:", "right": "---:", "end": "---:"}.get(value or "", "---")


def _pipe_table(rows: list[list[list[str]]], align: list[str]) -> str:
    """Table rows of cells (each its paragraphs' texts) as a pipe table: the first row the header."""
    cells = [[" ".join(" ".join(text.split()) for text in cell).replace("|", "\\|") for cell in row] for row in rows]
    if not cells or not cells[0]:
        return ""
    width = len(cells[0])
    cells = [[*row[:width], *[""] * (width - len(row))] for row in cells]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join([lines[0], "|" + "|".join((align + ["---"] * width)[:width]) + "|", *lines[1:]])


def _pieces(element: Any) -> Iterator[tuple[str, Any]]:
    """A paragraph's content in order: ("text", str), ("math", m:oMath) and ("picture", its element)."""
    for child in element:
        tag = _local(child.tag)
        namespace = str(child.tag)[1:].split("}", 1)[0] if str(child.tag).startswith("{") else ""
        if namespace == M and tag == "oMath":
            yield "math", child
        elif namespace == M and tag == "oMathPara":
            for math in child.iter(f"{{{M}}}oMath"):
                yield "math", math
        elif namespace == W and tag == "r":
            bold, code = _run_style(child)
            for kind, value in _pieces(child):
                yield (kind, _styled(value, bold, code)) if kind == "text" else (kind, value)
        elif namespace == W and tag == "t":
            yield "text", _literal(child.text or "")
        elif namespace == W and tag == "tab":
            yield "text", "\t"
        elif namespace == W and tag in ("br", "cr"):
            yield "text", "\n"
        elif namespace == W and tag in ("drawing", "pict", "object"):
            yield "picture", child
        elif namespace == W and tag in ("pPr", "rPr", "del", "instrText", "delText", "fldChar"):
            continue
        else:  # runs, hyperlinks, insertions, smart tags, fields' results: their content
            yield from _pieces(child)


MONOSPACE = ("consolas", "courier", "menlo", "monaco", "source code", "dejavu sans mono", "lucida console")


def _run_style(run: Any) -> tuple[bool, bool]:
    """Whether a run is bold, and whether it is set in a monospace font (code)."""
    rpr = run.find(f"{{{W}}}rPr")
    if rpr is None:
        return False, False
    b = rpr.find(f"{{{W}}}b")
    bold = b is not None and b.get(f"{{{W}}}val", "true") not in ("0", "false", "off")
    fonts = rpr.find(f"{{{W}}}rFonts")
    latin = (fonts.get(f"{{{W}}}ascii") or "").lower() if fonts is not None else ""
    return bold, latin.startswith(MONOSPACE)


def _literal(text: str) -> str:
    """Word text as content text: a $, a backtick or ** is what it says, not markup."""
    return text.replace("$", "\\$").replace("`", "\\`").replace("**", "\\*\\*")


def _styled(text: str, bold: bool, code: bool) -> str:
    """A run's (escaped) text with its bold as **…** and a monospace font as `…` (spaces kept outside)."""
    core = text.strip(" ")
    if not core or text == "\n" or "\n" in core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip(" "))], text[len(text.rstrip(" ")) :]
    if code and "\\`" not in core:
        core = "`" + core.replace("\\$", "$").replace("\\*\\*", "**") + "`"
    if bold:
        core = f"**{core}**"
    return lead + core + trail


def _with_captions(text: str) -> str:
    """Picture placeholders as figure markup: a picture on a line of its own is centred (with the 「图 n　…」
    caption line after it taken as its caption), one inside a line is inline."""
    if "\x01" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        alone = re.fullmatch(r"\s*\x01([^\x01]+)\x01(\d+)\x01\s*", line)
        if alone:
            caption = ""
            after = _FIGURE_CAPTION.match(lines[index + 1]) if index + 1 < len(lines) else None
            if after:
                caption, index = after["caption"], index + 1
            out.append(f"![{_caption(caption)}]({alone[1]}){{width={alone[2]}mm}}")
        else:
            out.append(re.sub(r"\x01([^\x01]+)\x01(\d+)\x01", r"![](\1){width=\2mm inline}", line))
        index += 1
    return "\n".join(out)


def _caption(text: str) -> str:
    return text.replace("]", "］").replace("[", "［")


def _formulas(equations: list[Any]) -> tuple[dict[int, str], list[str]]:
    """Each equation as `$TeX$` our math accepts, or its plain text (and a note) where pandoc or the check said
    no; all of them in one pandoc run."""
    if not equations:
        return {}, []
    texs: dict[int, str] = {}
    notes: list[str] = []
    try:
        texs = _run_pandoc(equations)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        notes.append(
            _("pandoc did not run ({problem}); Word equations were read as plain text").format(problem=_first(error))
        )
    found: dict[int, str] = {}
    plain: list[str] = []
    for index, element in enumerate(equations):
        tex = " ".join(texs.get(index, "").split())
        if tex and not inline_problems(f"${tex}$"):
            found[index] = f"${tex}$"
        else:
            text = "".join(t.text or "" for t in element.iter(f"{{{M}}}t"))
            found[index] = _escaped(text)
            if tex:
                plain.append(tex)
    if plain:
        shown = ", ".join(f"${tex}$" for tex in plain[:3]) + (" …" if len(plain) > 3 else "")
        notes.append(
            _("{count} Word equations are plain text: their TeX is not one paperkit draws: {shown}").format(
                count=len(plain), shown=shown
            )
        )
    return found, notes


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`").replace("*", "\\*")


def _run_pandoc(equations: list[Any]) -> dict[int, str]:
    """Each equation's TeX as pandoc reads it from a small .docx holding one paragraph per equation."""
    import pypandoc  # type: ignore[import-untyped]  # probes for pandoc: only where equations are read
    from docx import Document

    document = Document()
    for index, element in enumerate(equations):
        document.add_paragraph(f"F{index}: ")._p.append(copy.deepcopy(element))
    packed = io.BytesIO()
    document.save(packed)
    command = [pypandoc.get_pandoc_path(), "--sandbox", "--from=docx", "--to=markdown", "--wrap=none", "-"]
    done = subprocess.run(command, input=packed.getvalue(), capture_output=True, timeout=PANDOC_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"pandoc exited with {done.returncode}: {done.stderr.decode(errors='replace')}")
    found: dict[int, str] = {}
    for line in done.stdout.decode("utf-8", errors="replace").splitlines():
        mark = _MARK.match(line.strip())
        if mark and int(mark[1]) < len(equations):
            found[int(mark[1])] = mark[2]
    return found


def _resolved(block: Block, formulas: dict[int, str]) -> Block:
    text = re.sub(r"\x00F(\d+)\x00", lambda m: formulas.get(int(m[1]), ""), block.text)
    text = text.replace("****", "").replace("``", "")  # two bold (or code) runs side by side are one
    return Block(block.number, clean_text(text), block.heading, block.lost)


def clean_text(text: str) -> str:
    """Text a YAML file can hold: no control characters (a tab is a space), line separators as line breaks."""
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", " ").replace("\ufeff", "")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
