"""A python-docx Document set up as an A4 Chinese exam page, and what Word needs of the file: fonts named for
East Asian text (w:eastAsia), our paragraph styles, fields, elements in schema order, fixed column widths, and
bytes that are the same for the same document (fixed zip times, no created/modified stamps). export/docx.py
lays the exam out on it."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips
from docx.text.paragraph import Paragraph

from paperkit import output

BODY_FONT, HEADING_FONT, LATIN_FONT, LATIN_HEADING, CODE_FONT = "宋体", "黑体", "Times New Roman", "Arial", "Consolas"
# A4 with the PDF's A4 text block (render/page.py): 45 characters of 10.5 pt a line, so options fall into the
# same columns. Lengths in twips (1/20 pt).
PAGE_W, PAGE_H, SIDE, TOP, BOTTOM = 11906, 16838, 1228, 1429, 1349
TEXT_W = PAGE_W - 2 * SIDE
BODY_PT = 10.5
HANG = round(1.9 * BODY_PT * 20)  # the number's hang (kinds.css.j2): wrapped lines, options and lines start here
RULE_TWIPS = 510  # a ruled answer line every 9 mm: room for handwriting


def new_document() -> tuple[Any, dict[str, Any]]:
    """An empty A4 document in our fonts, and our paragraph styles by id (ExamTitle, PartHeading, Instruction,
    Question, Option, KeyAnswer, Source, AnswerLine), named in Chinese as a teacher sees them in Word."""
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Twips(PAGE_W), Twips(PAGE_H)
    section.left_margin = section.right_margin = Twips(SIDE)
    section.top_margin, section.bottom_margin = Twips(TOP), Twips(BOTTOM)
    section.header_distance = section.footer_distance = Twips(680)
    theme = doc.settings.element.find(qn("w:themeFontLang"))
    if theme is not None:
        theme.set(qn("w:eastAsia"), "zh-CN")
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")) if defaults is not None else None
    if run_defaults is not None:  # the template's theme fonts and Latin-only language, for text in no style
        set_fonts(run_defaults, LATIN_FONT, BODY_FONT)
        for lang in run_defaults.findall(qn("w:lang")):
            lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), LATIN_FONT, BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    insert(normal.element.get_or_add_rPr(), element("w:lang", val="en-US", eastAsia="zh-CN"), _AFTER_LANG)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.3
    styles = {
        "ExamTitle": _style(doc, "试卷标题", 16, heading=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=4),
        "PartHeading": _style(doc, "大题标题", 12, heading=True, before=10, after=2),
        "Instruction": _style(doc, "大题说明", 9, after=4),
        "Question": _style(doc, "题干", BODY_PT, before=6, left=HANG, first=-HANG),
        "Option": _style(doc, "选项", BODY_PT, before=2, left=HANG),
        "KeyAnswer": _style(doc, "答案", BODY_PT, before=2, left=HANG),
        "Source": _style(doc, "出处", 9, before=1, left=HANG),
        "AnswerLine": _style(doc, "答题线", BODY_PT, left=HANG),
    }
    for style_id, style in styles.items():
        style.style_id = style_id
    # Word's navigation pane lists the parts.
    insert(styles["PartHeading"].element.get_or_add_pPr(), element("w:outlineLvl", val="0"), _AFTER_OUTLINE)
    rule = styles["AnswerLine"].paragraph_format
    rule.line_spacing_rule, rule.line_spacing = WD_LINE_SPACING.EXACTLY, Twips(RULE_TWIPS)
    return doc, styles


def _style(
    doc: Any,
    name: str,
    size: float,
    *,
    heading: bool = False,
    align: Any = None,
    before: float = 0,
    after: float = 0,
    left: int = 0,
    first: int = 0,
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.size = Pt(size)
    if heading:
        set_fonts(style.element.get_or_add_rPr(), LATIN_HEADING, HEADING_FONT)
        style.font.bold = True
        style.paragraph_format.keep_with_next = True
    form = style.paragraph_format
    form.alignment = align
    form.space_before, form.space_after = Pt(before), Pt(after)
    if left:
        form.left_indent = Twips(left)
    if first:
        form.first_line_indent = Twips(first)
    return style


def set_fonts(rpr: Any, latin: str, east_asian: str) -> None:
    """Set a run's or a style's fonts by name: Latin, and w:eastAsia for Chinese (no theme fonts)."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asian), ("w:cs", latin)):
        fonts.set(qn(attribute), name)


# Word refuses elements out of their schema order (it offers to repair the file): what must follow each one added.
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
AFTER_BORDER = ("w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", *_AFTER_LANG)
_AFTER_OUTLINE = ("w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def insert(parent: Any, child: Any, successors: tuple[str, ...]) -> None:
    """Add `child` to `parent` before the first of its `successors` there (at the end if none is)."""
    parent.insert_element_before(child, *successors)


def element(tag: str, **values: str) -> Any:
    """A new w: element with these w: attributes."""
    made = OxmlElement(tag)
    for name, value in values.items():
        made.set(qn(f"w:{name}"), value)
    return made


def add_field(paragraph: Paragraph, instruction: str, size: float) -> None:
    """A Word field (PAGE, NUMPAGES) Word fills in as it lays out the pages; 1 until then."""
    for part in ("begin", "instruction", "separate", "1", "end"):
        run = paragraph.add_run()
        run.font.size = Pt(size)
        if part == "instruction":
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = f" {instruction} "
            run._r.append(text)
        elif part == "1":
            run.text = "1"
        else:
            run._r.append(element("w:fldChar", fldCharType=part))


def fix_widths(table: Any, widths: Sequence[int]) -> None:
    """Fixed column widths (twips), as Word and LibreOffice both read them: the grid and every cell."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Twips(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Twips(width)


def docx_bytes(doc: Any, title: str, keywords: str) -> bytes:
    """The document as .docx bytes, titled, its keywords (the exam id, as the PDF's), no author or dates."""
    properties = doc.core_properties
    properties.title, properties.keywords = title, keywords
    properties.author = properties.last_modified_by = properties.comments = properties.subject = ""
    properties.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return fixed_zip(out.getvalue())


# The python-docx template's thumbnail of an empty English page is no picture of this document.
_THUMBNAIL = re.compile(rb'<Relationship [^>]*Target="docProps/thumbnail\.jpeg"[^>]*/>')


def fixed_zip(data: bytes) -> bytes:
    """The .docx with fixed member times and no created/modified times (output.fixed_zip), and without the
    python-docx template's thumbnail: the same exam gives the same bytes."""
    return output.fixed_zip(
        data, {"docProps/thumbnail.jpeg": lambda body: None, "_rels/.rels": lambda body: _THUMBNAIL.sub(b"", body)}
    )
