"""An exam paper's or key's template context into a Word document (.docx) a teacher can edit and print.

It holds what the PDF prints, from the same context (`exam/paper.py`'s paper_context and key_context): the
header, the 姓名/学号/班级 line, the score table, 考生须知, each part's heading and instruction, the questions with
their numbers and points, options in the PDF's 4, 2 or 1 columns (tab-aligned), the （　　） an item answered by a
letter or a mark takes (its kind's compact_key, as the answer grid counts them), fill-in blanks, ruled answer
lines, and in a key the 答案速查 line and every answer as the key PDF gives it. Formulas are Word equations
(omml.py), or plain text where pandoc cannot read one. Not here: the seal line (the name line stands in its
place) and per-student papers. The page, fonts and styles are wordfile.py's, the content texts (markup,
figures, tables) wordtext.py's. Pure: the same contexts give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.shared import RGBColor, Twips

from paperkit.export.omml import Formulas, convert_formulas
from paperkit.export.wordfile import (
    AFTER_BORDER,
    BODY_FONT,
    HANG,
    LATIN_FONT,
    TEXT_W,
    add_field,
    docx_bytes,
    element,
    fix_widths,
    insert,
    set_fonts,
)
from paperkit.export.wordtext import EM_SPACE, TextWriter
from paperkit.i18n import _, ngettext
from paperkit.labels import LABELS
from paperkit.questions.registry import KINDS
from paperkit.text.markup import math_spans

PAPER, KEY = "paper", "key"
NO_BREAK = "\u00a0"
NO_BREAKS_PER_EM = 4  # a no-break space is a quarter em in Times New Roman
PART_BOX = 1000  # a column of the 得分/评卷人 box before a part
KEY_COLUMNS = (700, 1500)  # the key table's 题号 and 答案
FIELD_ROOM = (7, 10, 6)  # em to write a name, a 学号, a class on (as the seal fields are sized)


@dataclass(frozen=True)
class WordFiles:
    """The .docx bytes of each document asked for, and the formulas left as plain text (with pandoc's problem
    if it did not run at all)."""

    files: list[bytes]
    plain: tuple[str, ...] = ()
    problem: str = ""
    svg_figures: int = 0  # SVG figures set as their captions (python-docx places PNG and JPEG only)

    @property
    def warning(self) -> str:
        """One line for the terminal ('' when every formula is a Word equation and every figure a picture)."""
        said = []
        if self.problem:
            said.append(
                _("pandoc did not run ({problem}); the formulas in the .docx files are plain text").format(
                    problem=self.problem
                )
            )
        elif self.plain:
            shown = ", ".join(f"${tex}$" for tex in self.plain[:3]) + (" …" if len(self.plain) > 3 else "")
            said.append(
                ngettext(
                    "{count} formula is plain text in the .docx files, not Word equations: {formulas}",
                    "{count} formulas are plain text in the .docx files, not Word equations: {formulas}",
                    len(self.plain),
                ).format(count=len(self.plain), formulas=shown)
            )
        if self.svg_figures:
            said.append(
                ngettext(
                    "{count} figure is only a caption in the .docx files (Word files take PNG or JPEG pictures "
                    "python-docx can read; an SVG is not one)",
                    "{count} figures are only a caption in the .docx files (Word files take PNG or JPEG pictures "
                    "python-docx can read; an SVG is not one)",
                    self.svg_figures,
                ).format(count=self.svg_figures)
            )
        return _("; ").join(said)


def docx_files(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> WordFiles:
    """Each (PAPER or KEY, its template context's `doc`) as .docx bytes; every formula converted in one run."""
    texs = [tex for _, doc in documents for text in _strings(doc) for tex in math_spans(text)]
    formulas = convert_formulas(texs)
    writers = [_document(which, doc, formulas) for which, doc in documents]
    plain = tuple(tex for tex, omml in formulas.omml.items() if omml is None)
    svgs = sum(writer.svg_figures for writer, _ in writers)
    return WordFiles([data for _, data in writers], () if formulas.problem else plain, formulas.problem, svgs)


def exercises_docx(doc: Mapping[str, Any]) -> WordFiles:
    """The handbook's 练习 (handbook.context.exercises_document) as one .docx: each module's exercises by kind as
    the PDF numbers them, then their answers after a page break, in the exam papers' styles."""
    formulas = convert_formulas([tex for text in _strings(doc) for tex in math_spans(text)])
    word = _Writer(formulas)
    word.inline(word.para(style="ExamTitle"), str(doc["title"]))
    for module in doc["modules"]:
        word.inline(word.para(style="PartHeading"), str(module["heading"]))
        for group in module["groups"]:
            word.run(word.para(style="Instruction"), str(group["heading"]), bold=True)
            for view in group["questions"]:
                word.question({**view, "kind": group["kind"]}, paper=True)
    if doc["answers"]:
        word.doc.add_page_break()
        word.inline(word.para(style="ExamTitle"), str(doc["answers_title"]))
        for module in doc["answers"]:
            word.inline(word.para(style="PartHeading"), str(module["heading"]))
            for group in module["groups"]:
                word.run(word.para(style="Instruction"), str(group["heading"]), bold=True)
                if group["compact"]:  # answered by a letter or a mark: a 题号 | 答案 table, as the PDF's appendix
                    word.key_table([{"why": "", **view} for view in group["questions"]])
                    continue
                for view in group["questions"]:
                    word.question({**view, "kind": group["kind"]}, paper=False)
    word.footer("")
    plain = tuple(tex for tex, omml in formulas.omml.items() if omml is None)
    data = docx_bytes(word.doc, str(doc["title"]), "")
    return WordFiles([data], () if formulas.problem else plain, formulas.problem, word.svg_figures)


def _strings(value: object) -> Iterator[str]:
    """Every text in a context, however deep (the texts its formulas can be in)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _document(which: str, doc: Mapping[str, Any], formulas: Formulas) -> tuple[TextWriter, bytes]:
    word = _Writer(formulas)
    word.header(doc)
    if which == PAPER:
        word.paper_front(doc)
    elif doc.get("quick"):
        word.quick(doc["quick"])
    for part in doc["parts"]:
        word.part(part, which == PAPER, bool(doc.get("graders")))
    if which == PAPER:
        word.para(LABELS["paper_end"], align=WD_ALIGN_PARAGRAPH.CENTER, space_before=12)
    word.footer(str(doc.get("label", "")))
    return word, docx_bytes(word.doc, str(doc.get("document_title", "")), str(doc.get("exam_id", "")))


class _Writer(TextWriter):
    """One exam paper or key being written, part by part, on wordtext.py's TextWriter."""

    # -- the header, the paper's front matter and the footer ---------------------------------------------

    def header(self, doc: Mapping[str, Any]) -> None:
        if doc.get("kicker"):
            self.run(self.para(style="ExamTitle"), doc["kicker"], size=14)
        title = self.para(style="ExamTitle")
        self.inline(title, str(doc["title"]))
        if doc.get("variant_box"):
            title.add_run(" ")
            box = title.add_run(doc["variant_box"])
            border = element("w:bdr", val="single", sz="8", space="1", color="000000")
            insert(box._r.get_or_add_rPr(), border, AFTER_BORDER)
        if doc.get("course"):
            course = self.para(align=WD_ALIGN_PARAGRAPH.CENTER)
            self.run(course, LABELS["course"])
            self.inline(course, str(doc["course"]))
        meta = self.para(align=WD_ALIGN_PARAGRAPH.CENTER)
        self.run(meta, LABELS["exam_date"])
        if doc.get("date"):
            self.run(meta, doc["date"])
        else:
            self.blank(meta, 6)
        for text in (doc.get("duration_label"), doc.get("total_label")):
            if text:
                self.run(meta, EM_SPACE * 2 + text)
        code = self.para(align=WD_ALIGN_PARAGRAPH.RIGHT)
        self.run(code, LABELS["paper_code"] + str(doc.get("label", "")), size=9)

    def paper_front(self, doc: Mapping[str, Any]) -> None:
        """The name line, the score table, 考生须知 and the answer grid, as the paper's first page has them."""
        fields = self.para(space_before=6)
        for index, field in enumerate(doc["fields"]):
            self.run(fields, (EM_SPACE * 2 if index else "") + field["label"] + LABELS["field_colon"])
            if field["value"]:
                self.run(fields, field["value"])
            else:
                self.blank(fields, FIELD_ROOM[index] if index < len(FIELD_ROOM) else 6)
        heads = [LABELS["score_number"], LABELS["score_points"]] + ([LABELS["grader"]] if doc["graders"] else [])
        for row in doc["score_rows"]:
            self.table([[heads[0], *row], *([head] + [""] * len(row) for head in heads[1:])], bold_first=True)
        if doc["graders"]:
            checker = self.para(align=WD_ALIGN_PARAGRAPH.RIGHT)
            self.run(checker, LABELS["checker"])
            self.blank(checker, 6)
        box = self.table([[""]], center=False)
        cell = box.rows[0].cells[0]
        notice = cell.paragraphs[0]
        notice.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.run(notice, LABELS["notice"], bold=True)
        for number, item in enumerate(doc["instructions"], start=1):
            self.run(cell.add_paragraph(), f"{number}. {item}", size=9)
        if doc.get("answer_grid"):
            self.run(self.para(align=WD_ALIGN_PARAGRAPH.CENTER, space_before=6), LABELS["answer_grid_title"], bold=True)
            self.run(self.para(), LABELS["answer_grid_note"], size=9)
            for row in doc["answer_grid"]:
                self.table([[LABELS["score_number"], *row], [LABELS["answer_grid_answer"]] + [""] * len(row)])

    def quick(self, runs: Sequence[str]) -> None:
        """The key's 答案速查 line, boxed."""
        paragraph = self.table([[""]], center=False).rows[0].cells[0].paragraphs[0]
        self.run(paragraph, LABELS["quick_answers"], bold=True)
        self.run(paragraph, EM_SPACE + (EM_SPACE * 2).join(runs))

    def footer(self, doc_label: str) -> None:
        """「第 x 页 共 y 页」 in the middle (Word's PAGE and NUMPAGES fields), the paper code and variant right."""
        paragraph = self.doc.sections[0].footer.paragraphs[0]
        paragraph.paragraph_format.tab_stops.add_tab_stop(Twips(TEXT_W // 2), WD_TAB_ALIGNMENT.CENTER)
        paragraph.paragraph_format.tab_stops.add_tab_stop(Twips(TEXT_W), WD_TAB_ALIGNMENT.RIGHT)
        self.run(paragraph, "\t" + LABELS["page_of_before"], size=9)
        add_field(paragraph, "PAGE", 9)
        self.run(paragraph, LABELS["page_of_middle"], size=9)
        add_field(paragraph, "NUMPAGES", 9)
        self.run(paragraph, LABELS["page_of_after"] + "\t" + doc_label, size=9)

    # -- parts and questions -------------------------------------------------------------------------------

    def part(self, part: Mapping[str, Any], paper: bool, graders: bool) -> None:
        if paper and graders:  # the 得分/评卷人 box before a blueprint part's heading, kept with it
            box = self.table([[LABELS["score_points"], LABELS["grader"]], ["", ""]], keep=True)
            box.alignment = WD_TABLE_ALIGNMENT.LEFT
            fix_widths(box, (PART_BOX, PART_BOX))
        self.inline(self.para(style="PartHeading"), str(part["heading"]))
        if part.get("instruction") and paper:
            self.run(self.para(style="Instruction"), part["instruction"])
        if part.get("table"):
            self.key_table(part["table"])
            if part.get("rule"):
                self.run(self.para(style="Instruction"), part["rule"])
            return
        for view in part["questions"]:
            self.question(view, paper)

    def key_table(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """A compact part's key: 题号 | 答案 | 出处与说明 (and why), as the key PDF sets it."""
        table = self.table([[LABELS["score_number"], LABELS["key_answer"], LABELS["key_source"]]])
        for cell in table.rows[0].cells:
            cell.paragraphs[0].runs[0].bold = True
        for view in rows:
            number, answer, source = table.add_row().cells
            self.run(number.paragraphs[0], str(view["number"]))
            number.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.inline(answer.paragraphs[0], str(view["answer"]), bold=True, blocks=False)
            self.inline(source.paragraphs[0], f"{view['source_label']} {view['section_title']}", blocks=False)
            if view.get("why"):
                self.inline(source.add_paragraph(), str(view["why"]), blocks=False)
        fix_widths(table, (KEY_COLUMNS[0], KEY_COLUMNS[1], TEXT_W - sum(KEY_COLUMNS)))

    def question(self, view: Mapping[str, Any], paper: bool) -> None:
        """One question as its kind's view has it: the stem (or sentence with blanks), options, then the answer
        space on a paper or the answers in a key."""
        kind = KINDS.get(str(view.get("kind", "")))
        marked = kind is not None and kind.compact_key  # answered by a letter or a mark
        if view.get("material"):  # a 材料 that leads this question and the ones after it
            self.run(self.para(style="Instruction", space_before=6), str(view.get("material_lead", "")), bold=True)
            self.inline(self.para(), str(view["material"]))
        if view.get("group_stem"):  # a 组合题: its number, points and stem once, above sub-question (1)
            head = self.para(style="Question")
            self.run(head, str(view["group_head"]), bold=True)
            self.run(head, "\t" + str(view.get("group_points", "")))
            self.inline(head, str(view["group_stem"]))
        stem = self.para(style="Question")
        self.run(stem, str(view.get("head", f"{view['number']}.")), bold=True)
        self.run(stem, "\t" + str(view.get("points_label", "")))
        if "segments" in view:
            for segment in view["segments"]:
                if segment["blank"]:
                    self.blank(stem, float(str(segment["width"]).removesuffix("em")))
                else:
                    stem = self.inline(stem, str(segment["text"]))
        else:
            stem = self.inline(stem, str(view["prompt"]))
        if paper and marked:
            stem.paragraph_format.tab_stops.add_tab_stop(Twips(TEXT_W), WD_TAB_ALIGNMENT.RIGHT)
            # The bracket's spaces may not break: LibreOffice set 「（」 at a line's end and 「）」 on the next.
            bracket = LABELS["answer_bracket"].replace(EM_SPACE, NO_BREAK * NO_BREAKS_PER_EM)
            self.run(stem, "\t")
            set_fonts(stem.add_run(bracket)._r.get_or_add_rPr(), LATIN_FONT, BODY_FONT)
        if view.get("options"):
            self.options(view["options"], int(view.get("columns", 1)))
        if paper:
            for _ in range(int(view.get("lines", 0))):
                line = self.para(style="AnswerLine")
                line.paragraph_format.tab_stops.add_tab_stop(Twips(TEXT_W), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.LINES)
                line.add_run("\t")
            return
        self.answers(view, marked)

    def options(self, options: Sequence[Mapping[str, str]], columns: int) -> None:
        """The options in rows of `columns`, each column starting at its tab stop."""
        width = (TEXT_W - HANG) // max(1, columns)
        for start in range(0, len(options), columns):
            row = self.para(style="Option")
            for index in range(1, columns):
                row.paragraph_format.tab_stops.add_tab_stop(Twips(HANG + index * width))
            for index, option in enumerate(options[start : start + columns]):
                self.run(row, ("\t" if index else "") + f"{option['letter']}. ")
                self.inline(row, option["text"])

    def answers(self, view: Mapping[str, Any], marked: bool) -> None:
        """A key item's answers as the key PDF gives them: each blank's, or the answer (with its rule), why, the
        scoring points, and where it comes from."""
        for blank in view.get("blanks", ()):
            line = self.para(style="KeyAnswer")
            self.run(line, blank["label"])
            self.inline(line, blank["answer"])
            if blank["accepted"]:
                self.run(line, LABELS["accepted_open"], size=9)
                for index, alternative in enumerate(blank["accepted"]):
                    if index:
                        self.run(line, LABELS["accepted_separator"], size=9)
                    self.inline(line, alternative)
                self.run(line, LABELS["accepted_close"], size=9)
        if "answer" in view and "blanks" not in view:
            line = self.para(style="KeyAnswer")
            self.run(line, LABELS["reference_answer"])
            self.inline(line, str(view["answer"]), bold=marked)
            if view.get("rule"):
                self.run(line, EM_SPACE + view["rule"], size=9)
        if view.get("why"):
            line = self.para(style="KeyAnswer")
            self.run(line, LABELS["why"])
            self.inline(line, str(view["why"]))
        if view.get("rubric"):
            self.run(self.para(style="KeyAnswer"), LABELS["rubric"])
            for number, point in enumerate(view["rubric"], start=1):
                line = self.para(style="KeyAnswer")
                self.inline(line, f"{number}. {point['point']}")
                self.run(line, point["points"])
        source = self.para(style="Source")
        self.inline(source, f"{view['source_label']} {view['section_title']}")
        for run in source.runs:
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
