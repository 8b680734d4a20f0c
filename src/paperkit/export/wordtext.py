"""Content texts into a Word document: paragraphs whose inline markup becomes runs (bold, code, line breaks),
Word equations (from omml.py, or a formula's plain text), pictures for the figures (PNG, JPEG; an SVG is its
caption) and Word tables for the pipe tables, plus the grid tables and write-in blanks an exam paper is made of.
export/docx.py lays the paper and key out with these."""

from __future__ import annotations

import copy
import io
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from paperkit.export.omml import Formulas
from paperkit.export.wordfile import (
    BODY_FONT,
    CODE_FONT,
    HANG,
    LATIN_FONT,
    TEXT_W,
    element,
    fix_widths,
    insert,
    new_document,
    set_fonts,
)
from paperkit.labels import LABELS
from paperkit.text.figures import FIGURE, figure_image, parse_options
from paperkit.text.markup import inline_tokens
from paperkit.text.math import tex_text
from paperkit.text.tables import Table, split_tables

EM_SPACE = "\u3000"
UNDERSCORES_PER_EM = 2  # an underscore is half an em in Times New Roman


class TextWriter:
    """A document being written from content texts (python-docx's Document, wordfile.py's page and styles)."""

    def __init__(self, formulas: Formulas) -> None:
        self.formulas = formulas
        self.doc, self.styles = new_document()
        self.figure_count = 0  # captioned figures so far: 图 1, 图 2 … through the document, as the PDF counts
        self.svg_figures = 0  # SVG figures set as their caption

    def para(
        self, text: str = "", style: str | None = None, *, align: Any = None, space_before: float | None = None
    ) -> Paragraph:
        paragraph = self.doc.add_paragraph(style=self.styles[style] if style else None)
        if align is not None:
            paragraph.alignment = align
        if space_before is not None:
            paragraph.paragraph_format.space_before = Pt(space_before)
        if text:
            self.inline(paragraph, text)
        return paragraph

    def inline(self, paragraph: Paragraph, text: str, *, bold: bool = False, blocks: bool = True) -> Paragraph:
        """A content text into `paragraph`: its markup as runs, figures as pictures, and each pipe table as a Word
        table after the paragraph (the text after it goes on in a new one, which is returned); with `blocks`
        False (a table cell) a table is its cells' text."""
        pieces = split_tables(text)
        for piece in pieces:
            if isinstance(piece, Table) and blocks:
                self.data_table(piece)
                paragraph = self.para(style="KeyAnswer")
            elif isinstance(piece, Table):
                self.figures(paragraph, "\n".join(" ".join(row) for row in (piece.header, *piece.rows)), bold)
            else:
                self.figures(paragraph, piece.strip("\n") if len(pieces) > 1 else piece, bold)
        return paragraph

    def figures(self, paragraph: Paragraph, text: str, bold: bool) -> None:
        """Text with figures: each kept PNG or JPEG a picture, numbered 图 n with its caption unless inline; an
        SVG (python-docx cannot place one) is its caption, and counted for the warning."""
        start = 0
        for match in FIGURE.finditer(text) if "![" in text else ():
            self.tokens(paragraph, text[start : match.start()], bold)
            start = match.end()
            image = figure_image(match["src"])
            if image is None:  # not a figure the content reader kept: as written, as the PDF prints it
                self.tokens(paragraph, match.group(0), bold)
                continue
            placement = parse_options(match["options"] or "")
            inline = placement.place == "inline"
            if not inline:
                paragraph.add_run().add_break()
            placed = False
            if not match["src"].endswith(".svg"):
                width = Mm(min(placement.width_mm, TEXT_W / 56.7))
                try:
                    paragraph.add_run().add_picture(io.BytesIO(image), width=width)
                    placed = True
                except Exception:  # python-docx reads fewer JPEG headers than a PDF does (an APP14-only JPEG)
                    pass
            if not placed:  # an SVG (python-docx cannot place one), or a picture it cannot read: its caption
                self.svg_figures += 1
                self.run(paragraph, f"［{match['caption'] or match['src']}］")
            if not inline and match["caption"]:
                self.figure_count += 1
                paragraph.add_run().add_break()
                self.run(paragraph, f"{LABELS['figure_number']}{self.figure_count}{EM_SPACE}", size=9)
                self.tokens(paragraph, match["caption"], False)
            if not inline:
                paragraph.add_run().add_break()
        self.tokens(paragraph, text[start:], bold)

    def tokens(self, paragraph: Paragraph, text: str, bold: bool) -> None:
        """Inline markup as runs: **bold**, `code`, line breaks, each $TeX$ a Word equation (or its plain text)."""
        strong = bold
        for token in inline_tokens(text) if text else ():
            kind = token.type
            if kind in ("text", "text_special"):
                for index, line in enumerate(token.content.split("\n")):
                    if index:
                        paragraph.add_run().add_break()
                    if line:
                        paragraph.add_run(line).bold = strong or None
            elif kind == "softbreak":
                paragraph.add_run(" ")
            elif kind == "code_inline":
                set_fonts(paragraph.add_run(token.content)._r.get_or_add_rPr(), CODE_FONT, BODY_FONT)
            elif kind == "math_inline":
                element = self.formulas.omml.get(token.content)
                if element is not None:
                    paragraph._p.append(copy.deepcopy(element))
                else:
                    paragraph.add_run(tex_text(token.content)).bold = strong or None
            elif kind in ("strong_open", "strong_close") and token.markup == "**":
                strong = bold or kind == "strong_open"
            else:
                paragraph.add_run(token.markup or token.content).bold = strong or None

    def data_table(self, table: Table) -> None:
        """A pipe table of the content as a Word table under the stem: header bold, columns aligned as written."""
        width = len(table.header)  # validation refuses a row of another width; were one here, it is padded
        rows = [list(table.header), *([*row[:width], *[""] * (width - len(row))] for row in table.rows)]
        word = self.table(rows, center=False, markup=True)
        word.alignment = WD_TABLE_ALIGNMENT.LEFT
        fix_widths(word, [(TEXT_W - HANG) // width] * width)  # inside the margins
        indent = element("w:tblInd", w=str(HANG), type="dxa")
        insert(word._tbl.tblPr, indent, ("w:tblBorders", "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))
        align = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
        for number, row in enumerate(word.rows):
            for cell, how in zip(row.cells, table.align, strict=False):
                paragraph = cell.paragraphs[0]
                paragraph.alignment = align.get(how)
                for run in paragraph.runs:
                    run.bold = number == 0 or None

    def run(self, paragraph: Paragraph, text: str, *, bold: bool = False, size: float | None = None) -> None:
        run = paragraph.add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)

    def blank(self, paragraph: Paragraph, room: float) -> None:
        """A line to write on, about `room` em long, of underscores, as teachers type one in Word. (Underlined
        spaces were measured and dropped: a line broke inside them, the part at the line's end lost its
        underline as trailing space, and no-break spaces took the Chinese font's width in LibreOffice.)"""
        set_fonts(
            paragraph.add_run("_" * max(4, round(room * UNDERSCORES_PER_EM)))._r.get_or_add_rPr(),
            LATIN_FONT,
            LATIN_FONT,
        )

    def table(
        self,
        rows: list[list[str]],
        *,
        bold_first: bool = False,
        center: bool = True,
        keep: bool = False,
        markup: bool = False,
    ) -> Any:
        """A grid table of these texts (content with its `markup`, else labels), and a small paragraph after it
        (two tables that touch are one in Word); `keep`: on the page of what follows."""
        table = self.doc.add_table(rows=len(rows), cols=len(rows[0]))
        after = self.doc.add_paragraph().paragraph_format
        after.line_spacing, after.keep_with_next = Pt(6), keep or None
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cells, values in zip(table.rows, rows, strict=True):
            for index, (cell, value) in enumerate(zip(cells.cells, values, strict=True)):
                paragraph = cell.paragraphs[0]
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else None
                paragraph.paragraph_format.keep_with_next = keep or None
                if value and markup:
                    self.inline(paragraph, value, blocks=False)
                elif value:
                    self.run(paragraph, value, bold=bold_first and index == 0)
        return table
