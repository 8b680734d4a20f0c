"""The question bank as a Word 题库 in the layout teachers exchange (pure): per section a heading, then each
item 「1．题干（　　）」, its options 「A．…」 (short ones on one line, tab-separated), 【答案】, 【解析】, 【考点】 and
【难度】; a 【材料】 before the item it leads. `paperkit import` reads this layout back (wordin/).

What the layout cannot carry: points, rubrics, answer lines, pinned options, `follows` chains, `use: exam`, a
figure's `right` placement and the worked/exercise distinction (every item is a numbered question); formulas go
through Word equations, so their TeX comes back as pandoc writes it (`\\dfrac` as `\\frac`, `\\mathrm{m}` as `m`).
"""

from __future__ import annotations

from collections.abc import Sequence

from paperkit.content.models import Handbook, Module, Section
from paperkit.content.validate import knowledge_point
from paperkit.export.common import DEFAULT_EXPORT, ExportOptions, interaction, sections
from paperkit.export.omml import convert_formulas
from paperkit.export.wordfile import docx_bytes
from paperkit.export.wordtext import TextWriter
from paperkit.questions.kind import LETTERS, Item, text_width
from paperkit.text.markup import math_spans

BLANK = "＿＿＿＿＿＿"
BRACKET = "（　　）"
ONE_LINE_WIDTH = 9  # options this wide at most (in body characters) share one line


def bank_docx(handbook: Handbook, modules: Sequence[Module], options: ExportOptions = DEFAULT_EXPORT) -> bytes:
    """The items of `modules` (of the options' pool) as one .docx in the 题库 layout; the same bank gives the same
    bytes."""
    chosen = [
        (module.sections[index], questions) for module, index, questions in sections(handbook, modules, options.pool)
    ]
    texts = [section.title for section, _ in chosen]
    for section, questions in chosen:
        for question in questions:
            texts += _texts(question.item, handbook, section)
    writer = TextWriter(convert_formulas(tex for text in texts for tex in math_spans(text)))
    writer.para(handbook.title, style="ExamTitle")
    for section, questions in chosen:
        if not questions:
            continue
        writer.para(f"{section.id}\u3000{section.title}", style="PartHeading")
        for number, question in enumerate(questions, start=1):
            _item(writer, number, question.item, handbook, section)
    return docx_bytes(writer.doc, handbook.title, "")


def _texts(item: Item, handbook: Handbook, section: Section) -> list[str]:
    """Every text of an item the document shows (for its formulas)."""
    return [item.q, item.material, item.a, item.why, *item.options, *_points(item, handbook, section)]


def _points(item: Item, handbook: Handbook, section: Section) -> list[str]:
    """The texts of the knowledge points an item tests (its `tests` resolved to the entries they name)."""
    found = []
    for reference in item.tests:
        point = knowledge_point(reference, section.id)
        if point is None:
            continue
        owner = next((s for s in handbook.sections if s.id == point[0]), None)
        entries = getattr(owner, point[1], ()) if owner is not None else ()
        if 0 < point[2] <= len(entries):
            found.append(entries[point[2] - 1])
    return found


def _item(writer: TextWriter, number: int, item: Item, handbook: Handbook, section: Section) -> None:
    shape = interaction(item)
    if item.material:
        writer.para("【材料】" + item.material)
    stem = shape.stem
    if shape.shape == "blanks":
        stem = "".join(BLANK if answers else text for text, answers in shape.segments)
    paragraph = writer.para(style="Question")
    writer.run(paragraph, f"{number}．")
    paragraph = writer.inline(paragraph, stem)
    if shape.shape in ("options", "statement"):
        writer.run(paragraph, BRACKET)
    if shape.options:
        _options(writer, shape.options)
    if shape.shape == "options":
        answer = "".join(LETTERS[index] for index in shape.correct)
    elif shape.shape == "statement":
        answer = "正确" if shape.truth else "错误"
    elif shape.shape == "blanks":
        answer = "；".join(
            answers[0] + "".join(f"（或 {other}）" for other in answers[1:])
            for text, answers in shape.segments
            if answers
        )
    else:
        answer = shape.reference
    _marked(writer, "【答案】", answer)
    _marked(writer, "【解析】", shape.feedback)
    for point in _points(item, handbook, section):  # one line each: a point's text may hold a ；
        _marked(writer, "【考点】", point)
    _marked(writer, "【难度】", item.difficulty)


def _options(writer: TextWriter, options: Sequence[str]) -> None:
    """Short options on one line, a tab between them; longer ones a line each."""
    if all(text_width(option) <= ONE_LINE_WIDTH and "\n" not in option for option in options):
        line = writer.para(style="Option")
        for index, option in enumerate(options):
            writer.run(line, ("\t" if index else "") + f"{LETTERS[index]}．")
            writer.inline(line, option, blocks=False)
        return
    for index, option in enumerate(options):
        line = writer.para(style="Option")
        writer.run(line, f"{LETTERS[index]}．")
        writer.inline(line, option)


def _marked(writer: TextWriter, mark: str, text: str) -> None:
    if text:
        line = writer.para(style="KeyAnswer")
        writer.run(line, mark, bold=True)
        writer.inline(line, text)
