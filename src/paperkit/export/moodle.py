"""Moodle XML: a category per module and per section, then each item as the question type of its shape."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from html import escape
from types import MappingProxyType
from xml.etree import ElementTree as ET

from paperkit.content.models import Handbook, Module
from paperkit.export.common import (
    DEFAULT_EXPORT,
    ExportOptions,
    answer_html,
    blank_answers,
    category_path,
    inline_html,
    interaction,
    item_points,
    moodle_answer,
    option_fractions,
    paragraph,
    sections,
    typed_answers,
)
from paperkit.questions.kind import Interaction, Item, NumberRange, scaled_rubric
from paperkit.questions.rules import Rules

# Moodle's own name for its true/false question type (the one literal of the kind's name outside questions/).
MOODLE_TRUEFALSE = "truefalse"


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    """`<tag format="…"><text>…</text></tag>`; ElementTree escapes the text, so HTML needs no CDATA."""
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = text
    return element


def _value(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _question(quiz: ET.Element, item: Item, qtype: str, html: str, feedback: str = "") -> ET.Element:
    """The elements every Moodle question has: name, text, general feedback, grade, idnumber."""
    question = ET.SubElement(quiz, "question", {"type": qtype})
    _text(question, "name", item.id)
    _text(question, "questiontext", html, "html")
    if feedback:
        _text(question, "generalfeedback", feedback, "html")
    points = item_points(item)
    if points is not None:
        _value(question, "defaultgrade", str(points))
    _value(question, "hidden", "0")
    _value(question, "idnumber", item.id)
    return question


def _options(quiz: ET.Element, item: Item, shape: Interaction, rules: Rules) -> None:
    question = _question(quiz, item, "multichoice", paragraph(shape.stem))
    _value(question, "single", "false" if shape.multiple else "true")
    # Moodle cannot pin one option (以上都不对 last): an item with pinned options keeps the written order.
    _value(question, "shuffleanswers", "0" if shape.pinned else "1")
    _value(question, "answernumbering", "ABCD")
    for option, fraction in zip(shape.options, option_fractions(shape, rules), strict=True):
        _text(question, "answer", inline_html(option), "html").set("fraction", fraction)


def _statement(quiz: ET.Element, item: Item, shape: Interaction, rules: Rules) -> None:
    feedback = paragraph(shape.feedback) if shape.feedback else ""
    question = _question(quiz, item, MOODLE_TRUEFALSE, paragraph(shape.stem), feedback)
    for value in ("true", "false"):
        answer = _text(question, "answer", value, "moodle_auto_format")
        answer.set("fraction", "100" if (value == "true") == shape.truth else "0")


def _blanks(quiz: ET.Element, item: Item, shape: Interaction, rules: Rules) -> None:
    segments = shape.segments
    found = blank_answers(shape)
    ranges = shape.ranges or (None,) * len(found)
    if len(found) == 1 and ranges[0] is not None:
        _numerical(quiz, item, segments, ranges[0])
        return
    if len(found) == 1:
        html = "<p>" + "".join(inline_html(text) if text else "_____" for text, _ in segments) + "</p>"
        question = _question(quiz, item, "shortanswer", html)
        _value(question, "usecase", "0")
        for typed in typed_answers(found[0]):
            _text(question, "answer", moodle_answer(typed), "moodle_auto_format").set("fraction", "100")
        return
    # Several blanks: an embedded-answers (Cloze) question, one SHORTANSWER per blank, weighted to the points.
    points = item_points(item)
    weights = scaled_rubric((1,) * len(found), points) if points and points >= len(found) else [1] * len(found)
    pieces, numbers = iter(weights), iter(ranges)
    html = "".join(
        inline_html(text) if text else _cloze_blank(answers, next(pieces), next(numbers)) for text, answers in segments
    )
    _question(quiz, item, "cloze", f"<p>{html}</p>")


def _numerical(
    quiz: ET.Element, item: Item, segments: Sequence[tuple[str, tuple[str, ...]]], number: NumberRange
) -> None:
    """A blank compared by value as a numerical question: the middle of its range and the tolerance, and its unit
    as optional (a student may type it or leave it out, as on paper)."""
    html = "<p>" + "".join(inline_html(text) if text else "_____" for text, _ in segments) + "</p>"
    question = _question(quiz, item, "numerical", html)
    answer = _text(question, "answer", number.middle, "moodle_auto_format")
    answer.set("fraction", "100")
    _value(answer, "tolerance", number.tolerance)
    if number.unit:
        unit = ET.SubElement(ET.SubElement(question, "units"), "unit")
        _value(unit, "multiplier", "1")
        _value(unit, "unit_name", number.unit)
    for tag, value in (("unitgradingtype", "0"), ("unitpenalty", "0"), ("showunits", "0"), ("unitsleft", "0")):
        _value(question, tag, value)


_CLOZE_SPECIAL = re.compile(r'([\\}#~/"])')


def _cloze_blank(answers: tuple[str, ...], weight: int, number: NumberRange | None = None) -> str:
    """`{1:SHORTANSWER:=a~=b}`: the answers HTML-escaped (they sit in the HTML) and Cloze-escaped; a blank
    compared by value `{1:NUMERICAL:=6.0:0.1}`."""
    if number is not None:
        return f"{{{weight}:NUMERICAL:={number.middle}:{number.tolerance}}}"
    typed = (_CLOZE_SPECIAL.sub(r"\\\1", escape(moodle_answer(a), quote=False)) for a in typed_answers(answers))
    return f"{{{weight}:SHORTANSWER:{'~'.join(f'={a}' for a in typed)}}}"


def _essay(quiz: ET.Element, item: Item, shape: Interaction, rules: Rules) -> None:
    question = _question(quiz, item, "essay", paragraph(shape.stem))
    for tag, value in (
        ("responseformat", "editor"),
        ("responserequired", "1"),
        ("responsefieldlines", "15"),
        ("attachments", "0"),
        ("attachmentsrequired", "0"),
    ):
        _value(question, tag, value)
    _text(question, "graderinfo", answer_html(shape), "html")
    _text(question, "responsetemplate", "", "html")


WRITERS: Mapping[str, Callable[[ET.Element, Item, Interaction, Rules], None]] = MappingProxyType(
    {"options": _options, "statement": _statement, "blanks": _blanks, "essay": _essay}
)


def _category(quiz: ET.Element, path: str, info: str) -> None:
    question = ET.SubElement(quiz, "question", {"type": "category"})
    _text(question, "category", path)
    _text(question, "info", paragraph(info), "html")


def moodle_xml(handbook: Handbook, modules: Sequence[Module], options: ExportOptions = DEFAULT_EXPORT) -> bytes:
    """Moodle XML: a category per module and per section (with its objective or overview), then its items."""
    quiz = ET.Element("quiz")
    last_module = None
    for module, index, questions in sections(handbook, modules, options.pool):
        if module is not last_module:
            _category(quiz, category_path(handbook, module), module.objective)
            last_module = module
        _category(quiz, category_path(handbook, module, index), module.sections[index].overview)
        for q in questions:
            shape = interaction(q.item)
            WRITERS[shape.shape](quiz, q.item, shape, options.rules)
    ET.indent(quiz)  # safe: every text sits in a leaf element, so no mixed content gains whitespace
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"
