"""The question bank into what learning platforms import: Moodle XML, GIFT, or a QTI 2.1 package (no I/O).

Every format gets the same bank `paperkit exam --parts` draws from (each section's worked examples as short
answers, then its exercises), in handbook order: module, section, item. Formulas stay TeX inside `\\( … \\)`,
which Moodle's MathJax filter (and most QTI players) typeset; nothing is drawn as an image.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from html import escape
from types import MappingProxyType
from xml.etree import ElementTree as ET

from paperkit.content.models import Exercise, Handbook, Module
from paperkit.errors import UsageError
from paperkit.exam.paper import Question, question_bank
from paperkit.labels import label
from paperkit.questions.kinds import LETTERS, blank_segments, blanks, scaled_rubric
from paperkit.text.markup import (  # the same parse as the PDF: a formula there is a formula here
    inline_tokens,
    plain_text,
)


class ExportFormat(Enum):
    """The formats `paperkit export` writes."""

    MOODLE = "moodle"
    GIFT = "gift"
    QTI = "qti"

    @property
    def filename(self) -> str:
        """The default output file name (GIFT as .txt: the extension Moodle's importer offers)."""
        return {"moodle": "bank-moodle.xml", "gift": "bank-gift.txt", "qti": "bank-qti.zip"}[self.value]


def parse_format(text: str) -> ExportFormat:
    """`moodle`, `gift` or `qti` into its ExportFormat; anything else is a UsageError listing the choices."""
    try:
        return ExportFormat(text.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in ExportFormat)
        raise UsageError(f"--format {text}: unknown format; choose one of {choices}") from None


def export_bank(handbook: Handbook, fmt: ExportFormat, modules: Sequence[int] | None = None) -> bytes:
    """The bank of the given modules (all if None) as one file's bytes; the same input gives the same bytes."""
    chosen = select_modules(handbook, modules)
    writers: Mapping[ExportFormat, Callable[[Handbook, Sequence[Module]], bytes]] = {
        ExportFormat.MOODLE: moodle_xml,
        ExportFormat.GIFT: lambda h, m: gift_text(h, m).encode("utf-8"),
        ExportFormat.QTI: qti_package,
    }
    return writers[fmt](handbook, chosen)


def select_modules(handbook: Handbook, modules: Sequence[int] | None) -> tuple[Module, ...]:
    """The handbook's modules with these ids, in handbook order; an id that does not exist is a UsageError."""
    if modules is None:
        return handbook.modules
    known = [m.id for m in handbook.modules]
    unknown = sorted({m for m in modules if m not in known})
    if unknown:
        noun = "module" if len(unknown) == 1 else "modules"
        shown = ",".join(map(str, modules))
        raise UsageError(
            f"--modules {shown}: unknown {noun} {', '.join(map(str, unknown))}; modules are {_id_range(known)}"
        )
    return tuple(m for m in handbook.modules if m.id in modules)


def _id_range(ids: Sequence[int]) -> str:
    # Worded as `paperkit exam` words it, so both commands answer a wrong --modules alike.
    ids = sorted(ids)
    if ids and ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}"
    return ", ".join(map(str, ids))


def _sections(handbook: Handbook, modules: Sequence[Module]) -> Iterable[tuple[Module, int, list[Question]]]:
    """Each chosen module's sections as (module, section index, its items in source order)."""
    bank = question_bank(handbook, exercises=True)
    for module in modules:
        for index, section in enumerate(module.sections):
            yield module, index, [q for q in bank[module.id] if q.section_id == section.id]


# -- text ------------------------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def inline_html(text: str) -> str:
    """A content text as HTML for a platform: **bold**, `code`, line breaks; $TeX$ as \\(TeX\\), all else escaped."""
    out: list[str] = []
    for token in inline_tokens(text):
        kind = token.type
        if kind in ("text", "text_special"):
            # A `|` block keeps its line breaks, as in the PDF: a blank line stays a blank line.
            out.append(
                _LINE_BREAKS.sub(
                    lambda m: "<br /><br />" if m.group(0).count("\n") > 1 else "<br />",
                    escape(token.content, quote=False),
                )
            )
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "code_inline":
            out.append(f"<code>{escape(token.content, quote=False)}</code>")
        elif kind == "math_inline":
            out.append(f"\\({escape(token.content.strip(), quote=False)}\\)")
        elif kind in ("strong_open", "strong_close") and token.markup == "**":
            out.append("<strong>" if kind == "strong_open" else "</strong>")
        else:
            out.append(escape(token.markup or token.content, quote=False))
    return "".join(out)


def _paragraph(text: str) -> str:
    return f"<p>{inline_html(text)}</p>"


def typed_answers(alternatives: Iterable[str]) -> list[str]:
    """A blank's accepted answers as a student types them (formulas as plain text), without repeats.

    `[[$O(S^2)$|O(S^2)|二次]]` accepts `O(S^2)` and `二次`: a platform compares typed text, never TeX.
    """
    seen: set[str] = set()
    typed: list[str] = []
    for answer in alternatives:
        text = plain_text(answer).strip()
        if text and text.casefold() not in seen:  # every platform here compares case-insensitively
            seen.add(text.casefold())
            typed.append(text)
    return typed


def _moodle_answer(typed: str) -> str:
    # A bare * in a Moodle short answer is a wildcard; the bank means a star.
    return typed.replace("*", "\\*")


def _keyed(item: Exercise) -> set[int]:
    """The indexes of the options the answer letters name."""
    return {LETTERS.index(ch) for ch in re.sub(r"[^A-Za-z]", "", item.answer).upper()}


# Moodle accepts only grades from its list (question_bank::fraction_options_full); 100/k for k = 1–8 is in it,
# and options are 2–8 with at least one right and one wrong.
_MOODLE_SHARE = MappingProxyType(
    {1: "100", 2: "50", 3: "33.33333", 4: "25", 5: "20", 6: "16.66667", 7: "14.28571", 8: "12.5"}
)


def option_fractions(item: Exercise) -> list[str]:
    """Each option's Moodle grade in percent: single choice 100 or 0; multi the right ones share +100, the wrong
    ones share −100, so ticking everything scores 0 (all-or-half-or-nothing of a paper is not a Moodle rule)."""
    keyed = _keyed(item)
    if item.kind != "multi":
        return ["100" if i in keyed else "0" for i in range(len(item.options))]
    right, wrong = _MOODLE_SHARE[len(keyed)], _MOODLE_SHARE[len(item.options) - len(keyed)]
    return [right if i in keyed else f"-{wrong}" for i in range(len(item.options))]


def _points(item: Exercise) -> int | None:
    """The item's own points, or its rubric's sum; None when the source sets neither."""
    return item.points or sum(p.points for p in item.rubric) or None


def _answer_html(item: Exercise) -> str:
    """A short answer's reference answer and scoring points, as HTML for the grader."""
    parts = [f"<p>{label('reference_answer')}{inline_html(item.a)}</p>"]
    if item.rubric:
        points = "".join(f"<li>{inline_html(p.point)}{label('points', points=p.points)}</li>" for p in item.rubric)
        parts.append(f"<p>{label('rubric')}</p><ul>{points}</ul>")
    return "".join(parts)


def _blanks_html(item: Exercise) -> str:
    """Every blank's answer and its accepted alternatives, as HTML (for a key a platform cannot grade)."""
    rows = []
    for number, answers in enumerate(blanks(item.q), start=1):
        accepted = label("accepted", alternatives="；".join(inline_html(a) for a in answers[1:]))
        row = f"{label('blank_number', number=number)}：{inline_html(answers[0])}"
        rows.append(f"<p>{row}{accepted if answers[1:] else ''}</p>")
    return "".join(rows)


def _category_name(text: str) -> str:
    # Moodle's category paths: a / inside a name is written //, and a name may not start or end with one.
    name = " ".join(plain_text(text).split()).replace("/", "//")
    return f" {name}" if name.startswith("/") else f"{name} " if name.endswith("/") else name


def category_path(handbook: Handbook, module: Module, section_index: int | None = None) -> str:
    """`$course$/top/<handbook>/<module id> <title>[/<section id> <title>]`, Moodle's category path."""
    names = [handbook.title, f"{module.id} {module.title}"]
    if section_index is not None:
        section = module.sections[section_index]
        names.append(f"{section.id} {section.title}")
    return "/".join(["$course$", "top", *map(_category_name, names)])


# -- Moodle XML ------------------------------------------------------------------------------------


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    """`<tag format="…"><text>…</text></tag>`; ElementTree escapes the text, so HTML needs no CDATA."""
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = text
    return element


def _value(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _moodle_question(quiz: ET.Element, item: Exercise, qtype: str, html: str, feedback: str = "") -> ET.Element:
    """The elements every Moodle question has: name, text, general feedback, grade, idnumber."""
    question = ET.SubElement(quiz, "question", {"type": qtype})
    _text(question, "name", item.id)
    _text(question, "questiontext", html, "html")
    if feedback:
        _text(question, "generalfeedback", feedback, "html")
    points = _points(item)
    if points is not None:
        _value(question, "defaultgrade", str(points))
    _value(question, "hidden", "0")
    _value(question, "idnumber", item.id)
    return question


def _moodle_options(quiz: ET.Element, item: Exercise) -> None:
    question = _moodle_question(quiz, item, "multichoice", _paragraph(item.q))
    _value(question, "single", "false" if item.kind == "multi" else "true")
    # Moodle cannot pin one option (以上都不对 last): an item with pinned options keeps the written order.
    _value(question, "shuffleanswers", "0" if item.pinned else "1")
    _value(question, "answernumbering", "ABCD")
    for option, fraction in zip(item.options, option_fractions(item), strict=True):
        _text(question, "answer", inline_html(option), "html").set("fraction", fraction)


def _moodle_truefalse(quiz: ET.Element, item: Exercise) -> None:
    question = _moodle_question(quiz, item, "truefalse", _paragraph(item.q), _paragraph(item.why) if item.why else "")
    right = item.answer.strip().lower()
    for value in ("true", "false"):
        answer = _text(question, "answer", value, "moodle_auto_format")
        answer.set("fraction", "100" if value == right else "0")


def _moodle_fill(quiz: ET.Element, item: Exercise) -> None:
    segments = blank_segments(item.q)
    found = [answers for text, answers in segments if not text]
    if len(found) == 1:
        html = "<p>" + "".join(inline_html(text) if text else "_____" for text, _ in segments) + "</p>"
        question = _moodle_question(quiz, item, "shortanswer", html)
        _value(question, "usecase", "0")
        for typed in typed_answers(found[0]):
            _text(question, "answer", _moodle_answer(typed), "moodle_auto_format").set("fraction", "100")
        return
    # Several blanks: an embedded-answers (Cloze) question, one SHORTANSWER per blank, weighted to the points.
    points = _points(item)
    weights = scaled_rubric((1,) * len(found), points) if points and points >= len(found) else [1] * len(found)
    pieces = iter(weights)
    html = "".join(inline_html(text) if text else _cloze_blank(answers, next(pieces)) for text, answers in segments)
    _moodle_question(quiz, item, "cloze", f"<p>{html}</p>")


_CLOZE_SPECIAL = re.compile(r'([\\}#~/"])')


def _cloze_blank(answers: tuple[str, ...], weight: int) -> str:
    """`{1:SHORTANSWER:=a~=b}`: the answers HTML-escaped (they sit in the HTML) and Cloze-escaped."""
    typed = (_CLOZE_SPECIAL.sub(r"\\\1", escape(_moodle_answer(a), quote=False)) for a in typed_answers(answers))
    return f"{{{weight}:SHORTANSWER:{'~'.join(f'={a}' for a in typed)}}}"


def _moodle_short(quiz: ET.Element, item: Exercise) -> None:
    question = _moodle_question(quiz, item, "essay", _paragraph(item.q))
    for tag, value in (
        ("responseformat", "editor"),
        ("responserequired", "1"),
        ("responsefieldlines", "15"),
        ("attachments", "0"),
        ("attachmentsrequired", "0"),
    ):
        _value(question, tag, value)
    _text(question, "graderinfo", _answer_html(item), "html")
    _text(question, "responsetemplate", "", "html")


MOODLE_WRITERS: Mapping[str, Callable[[ET.Element, Exercise], None]] = MappingProxyType(
    {
        "choice": _moodle_options,
        "multi": _moodle_options,
        "truefalse": _moodle_truefalse,
        "fill": _moodle_fill,
        "short": _moodle_short,
    }
)


def _moodle_category(quiz: ET.Element, path: str, info: str) -> None:
    question = ET.SubElement(quiz, "question", {"type": "category"})
    _text(question, "category", path)
    _text(question, "info", _paragraph(info), "html")


def moodle_xml(handbook: Handbook, modules: Sequence[Module]) -> bytes:
    """Moodle XML: a category per module and per section (with its objective or overview), then its items."""
    quiz = ET.Element("quiz")
    last_module = None
    for module, index, questions in _sections(handbook, modules):
        if module is not last_module:
            _moodle_category(quiz, category_path(handbook, module), module.objective)
            last_module = module
        _moodle_category(quiz, category_path(handbook, module, index), module.sections[index].overview)
        for q in questions:
            MOODLE_WRITERS[q.kind](quiz, q.item)
    ET.indent(quiz)  # safe: every text sits in a leaf element, so no mixed content gains whitespace
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"


# -- GIFT ------------------------------------------------------------------------------------------

_GIFT_SPECIAL = re.compile(r"([\\~=#{}:])")


def escape_gift(text: str) -> str:
    """Text for GIFT: a backslash before \\ ~ = # { } :, and a line break as \\n (a blank line ends a question)."""
    return _GIFT_SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", "\\n")


def _gift_head(item: Exercise, html: str) -> str:
    return f"::{escape_gift(item.id)}::[html]{escape_gift(html)}"


def _gift_feedback(html: str) -> str:
    """General feedback: after #### inside the answer block, the last thing before its }."""
    return f"####{escape_gift(html)}" if html else ""


def _gift_options(item: Exercise) -> str:
    lines = [_gift_head(item, _paragraph(item.q)) + "{"]
    for option, fraction in zip(item.options, option_fractions(item), strict=True):
        mark = f"~%{fraction}%" if item.kind == "multi" else "=" if fraction == "100" else "~"
        lines.append(f"\t{mark}{escape_gift(inline_html(option))}")
    return "\n".join([*lines, "}"])


def _gift_truefalse(item: Exercise) -> str:
    mark = "T" if item.answer.strip().lower() == "true" else "F"
    feedback = _gift_feedback(_paragraph(item.why) if item.why else "")
    return _gift_head(item, _paragraph(item.q)) + f"{{{mark}{feedback}}}"


def _gift_fill(item: Exercise) -> str:
    segments = blank_segments(item.q)
    found = [answers for text, answers in segments if not text]
    if len(found) == 1:
        # The missing-word form: the answer block stands where the blank is, and Moodle draws _____ there.
        block = "{" + " ".join(f"={escape_gift(_moodle_answer(a))}" for a in typed_answers(found[0])) + "}"
        body = "".join(escape_gift(inline_html(text)) if text else block for text, _ in segments)
        return f"::{escape_gift(item.id)}::[html]<p>{body}</p>"
    # GIFT grades one answer block per question, so several blanks cannot be auto-graded there: the item stays
    # one question (its id, its place) as an essay with numbered blanks and the key as feedback. Moodle XML
    # exports it as a Cloze question, which grades every blank.
    numbers = iter(range(1, len(found) + 1))
    html = "<p>" + "".join(inline_html(text) if text else f"（{next(numbers)}）_____" for text, _ in segments) + "</p>"
    note = f"// {item.id}: {len(found)} blanks; GIFT grades one blank a question: an essay here (Moodle XML: Cloze)"
    return f"{note}\n{_gift_head(item, html)}{{{_gift_feedback(_blanks_html(item))}}}"


def _gift_short(item: Exercise) -> str:
    # GIFT essays have no grader information: the reference answer becomes the general feedback.
    return _gift_head(item, _paragraph(item.q)) + f"{{{_gift_feedback(_answer_html(item))}}}"


GIFT_WRITERS: Mapping[str, Callable[[Exercise], str]] = MappingProxyType(
    {
        "choice": _gift_options,
        "multi": _gift_options,
        "truefalse": _gift_truefalse,
        "fill": _gift_fill,
        "short": _gift_short,
    }
)


def gift_question(item: Exercise) -> str:
    """One item in GIFT, without the blank line that ends it."""
    return GIFT_WRITERS[item.kind](item)


def gift_text(handbook: Handbook, modules: Sequence[Module]) -> str:
    """GIFT: a $CATEGORY line per module and per section, then each item; blocks separated by a blank line."""
    blocks = [f"// {' '.join(plain_text(handbook.title).split())} ({handbook.date}): question bank, paperkit export"]
    last_module = None
    for module, index, questions in _sections(handbook, modules):
        # Category lines are not GIFT-escaped: Moodle reads them raw (a \: would stay in the category's name).
        if module is not last_module:
            blocks.append(f"$CATEGORY: {category_path(handbook, module)}")
            last_module = module
        blocks.append(f"$CATEGORY: {category_path(handbook, module, index)}")
        blocks.extend(gift_question(q.item) for q in questions)
    return "\n\n".join(blocks) + "\n"


# -- QTI 2.1 ---------------------------------------------------------------------------------------

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
_CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
_TEMPLATES = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: the package does not change with the clock


def qti_identifier(item_id: str) -> str:
    """An item id as an XML identifier (`1.1.c1` → `Q_1.1.c1`): an identifier may not start with a digit."""
    return f"Q_{item_id}"


def _append_html(parent: ET.Element, html: str) -> None:
    """Append HTML (as inline_html writes it: well-formed, XHTML tags only) to an element, text and tags."""
    fragment = ET.fromstring(f"<x>{html}</x>")
    if fragment.text:
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + fragment.text
        else:
            parent.text = (parent.text or "") + fragment.text
    parent.extend(fragment)


def _html_element(parent: ET.Element, tag: str, html: str, attributes: Mapping[str, str] | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, dict(attributes or {}))
    _append_html(element, html)
    return element


def _qti_item(item: Exercise, language: str) -> ET.Element:
    return ET.Element(
        "assessmentItem",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {_QTI_XSD}",
            "identifier": qti_identifier(item.id),
            "title": item.id,
            "adaptive": "false",
            "timeDependent": "false",
            "xml:lang": language,
        },
    )


def _response(root: ET.Element, identifier: str, cardinality: str, base: str, correct: Sequence[str]) -> ET.Element:
    declaration = ET.SubElement(
        root, "responseDeclaration", {"identifier": identifier, "cardinality": cardinality, "baseType": base}
    )
    if correct:
        values = ET.SubElement(declaration, "correctResponse")
        for value in correct:
            ET.SubElement(values, "value").text = value
    return declaration


def _score(root: ET.Element) -> None:
    outcome = ET.SubElement(
        root, "outcomeDeclaration", {"identifier": "SCORE", "cardinality": "single", "baseType": "float"}
    )
    ET.SubElement(ET.SubElement(outcome, "defaultValue"), "value").text = "0"


def _choice_item(item: Exercise, language: str) -> ET.Element:
    root = _qti_item(item, language)
    multi = item.kind == "multi"
    correct = [LETTERS[i] for i in sorted(_keyed(item))]
    _response(root, "RESPONSE", "multiple" if multi else "single", "identifier", correct)
    _score(root)
    body = ET.SubElement(root, "itemBody")
    _html_element(body, "p", inline_html(item.q))
    interaction = ET.SubElement(
        body,
        "choiceInteraction",
        {"responseIdentifier": "RESPONSE", "shuffle": "true", "maxChoices": str(len(item.options) if multi else 1)},
    )
    pinned = {p.strip().upper() for p in item.pinned}
    for index, option in enumerate(item.options):
        letter = LETTERS[index]
        attributes = {"identifier": letter, **({"fixed": "true"} if letter in pinned else {})}
        _html_element(interaction, "simpleChoice", inline_html(option), attributes)
    # Multi is all-or-nothing here: QTI's standard templates have no half marks.
    ET.SubElement(root, "responseProcessing", {"template": _TEMPLATES + "match_correct"})
    return root


def _truefalse_item(item: Exercise, language: str) -> ET.Element:
    root = _qti_item(item, language)
    _response(root, "RESPONSE", "single", "identifier", [item.answer.strip().lower()])
    _score(root)
    body = ET.SubElement(root, "itemBody")
    _html_element(body, "p", inline_html(item.q))
    interaction = ET.SubElement(
        body, "choiceInteraction", {"responseIdentifier": "RESPONSE", "shuffle": "false", "maxChoices": "1"}
    )
    for value, mark in (("true", "true_mark"), ("false", "false_mark")):
        ET.SubElement(interaction, "simpleChoice", {"identifier": value}).text = label(mark)
    ET.SubElement(root, "responseProcessing", {"template": _TEMPLATES + "match_correct"})
    return root


def _fill_item(item: Exercise, language: str) -> ET.Element:
    root = _qti_item(item, language)
    segments = blank_segments(item.q)
    found = [answers for text, answers in segments if not text]
    names = [f"RESPONSE_{n}" for n in range(1, len(found) + 1)]
    for name, answers in zip(names, found, strict=True):
        typed = typed_answers(answers)
        declaration = _response(root, name, "single", "string", typed[:1])
        mapping = ET.SubElement(declaration, "mapping", {"defaultValue": "0"})
        for answer in typed:
            ET.SubElement(mapping, "mapEntry", {"mapKey": answer, "mappedValue": "1", "caseSensitive": "false"})
    _score(root)
    paragraph = ET.SubElement(ET.SubElement(root, "itemBody"), "p")
    blank = iter(zip(names, found, strict=True))
    for text, _ in segments:
        if text:
            _append_html(paragraph, inline_html(text))
            continue
        name, answers = next(blank)
        length = max(len(a) for a in typed_answers(answers))
        ET.SubElement(
            paragraph, "textEntryInteraction", {"responseIdentifier": name, "expectedLength": str(max(length, 4))}
        )
    # One point a blank: the sum of each blank's mapping (its accepted answers score 1).
    processing = ET.SubElement(root, "responseProcessing")
    total = ET.SubElement(ET.SubElement(processing, "setOutcomeValue", {"identifier": "SCORE"}), "sum")
    for name in names:
        ET.SubElement(total, "mapResponse", {"identifier": name})
    return root


def _short_item(item: Exercise, language: str) -> ET.Element:
    root = _qti_item(item, language)
    _response(root, "RESPONSE", "single", "string", [])
    _score(root)
    body = ET.SubElement(root, "itemBody")
    # The reference answer and scoring points are for the scorer only (a human scores an extended text).
    rubric = ET.SubElement(body, "rubricBlock", {"view": "scorer"})
    _append_html(rubric, _answer_html(item))
    _html_element(body, "p", inline_html(item.q))
    ET.SubElement(
        body, "extendedTextInteraction", {"responseIdentifier": "RESPONSE", "expectedLines": str(item.lines or 5)}
    )
    return root


QTI_WRITERS: Mapping[str, Callable[[Exercise, str], ET.Element]] = MappingProxyType(
    {
        "choice": _choice_item,
        "multi": _choice_item,
        "truefalse": _truefalse_item,
        "fill": _fill_item,
        "short": _short_item,
    }
)

_MIXED = frozenset({"itemBody", "rubricBlock"})  # HTML inside: whitespace there is text


def _indent(element: ET.Element, level: int = 0) -> None:
    """Indent like ET.indent, but leave an item body alone: a space added there would show between words."""
    if element.tag in _MIXED or not len(element):
        return
    pad = "\n" + "  " * (level + 1)
    element.text = pad
    for child in element:
        _indent(child, level + 1)
        child.tail = pad
    element[-1].tail = "\n" + "  " * level


def _xml(root: ET.Element) -> bytes:
    _indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def qti_item_path(item_id: str) -> str:
    """Where an item's XML sits in the package."""
    return f"items/{item_id}.xml"


def _manifest(questions: Sequence[Question]) -> ET.Element:
    manifest = ET.Element(
        "manifest",
        {
            "xmlns": CP_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{CP_NS} {_CP_XSD}",
            "identifier": "MANIFEST",
        },
    )
    metadata = ET.SubElement(manifest, "metadata")
    _value(metadata, "schema", "QTIv2.1 Package")
    _value(metadata, "schemaversion", "1.0.0")
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    for q in questions:
        href = qti_item_path(q.id)
        resource = ET.SubElement(
            resources,
            "resource",
            {"identifier": qti_identifier(q.id), "type": "imsqti_item_xmlv2p1", "href": href},
        )
        ET.SubElement(resource, "file", {"href": href})
    return manifest


def qti_package(handbook: Handbook, modules: Sequence[Module]) -> bytes:
    """An IMS content package (zip) of QTI 2.1 items and a manifest listing them in handbook order."""
    questions = [q for _, _, section in _sections(handbook, modules) for q in section]
    files = {"imsmanifest.xml": _xml(_manifest(questions))}
    for q in questions:
        files[qti_item_path(q.id)] = _xml(QTI_WRITERS[q.kind](q.item, handbook.language))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, files[name])
    return buffer.getvalue()
