"""A QTI 2.1 content package (zip): one assessmentItem per item, in the interaction of its shape, and a manifest."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from xml.etree import ElementTree as ET

from paperkit.content.models import Handbook, Module
from paperkit.export.common import (
    DEFAULT_EXPORT,
    ExportOptions,
    answer_html,
    blank_answers,
    inline_html,
    interaction,
    sections,
    typed_answers,
)
from paperkit.labels import label
from paperkit.questions.bank import Question
from paperkit.questions.kind import LETTERS, Interaction, Item
from paperkit.questions.rules import Rules

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


def _qti_item(item: Item, language: str) -> ET.Element:
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


def _options(item: Item, shape: Interaction, language: str, rules: Rules) -> ET.Element:
    root = _qti_item(item, language)
    multi = shape.multiple
    correct = [LETTERS[i] for i in shape.correct]
    declaration = _response(root, "RESPONSE", "multiple" if multi else "single", "identifier", correct)
    per_option = multi and rules.multi == "per-option"
    if per_option:  # each right option its share, a wrong one −1: any wrong option leaves 0 (the lower bound)
        mapping = ET.SubElement(declaration, "mapping", {"defaultValue": "0", "lowerBound": "0", "upperBound": "1"})
        share = f"{1 / len(shape.correct):.5f}"
        for index in range(len(shape.options)):
            value = share if index in shape.correct else "-1"
            ET.SubElement(mapping, "mapEntry", {"mapKey": LETTERS[index], "mappedValue": value})
    _score(root)
    body = ET.SubElement(root, "itemBody")
    _html_element(body, "p", inline_html(shape.stem))
    choices = ET.SubElement(
        body,
        "choiceInteraction",
        {"responseIdentifier": "RESPONSE", "shuffle": "true", "maxChoices": str(len(shape.options) if multi else 1)},
    )
    for index, option in enumerate(shape.options):
        letter = LETTERS[index]
        attributes = {"identifier": letter, **({"fixed": "true"} if index in shape.pinned else {})}
        _html_element(choices, "simpleChoice", inline_html(option), attributes)
    if per_option:
        ET.SubElement(root, "responseProcessing", {"template": _TEMPLATES + "map_response"})
    else:  # the half rule has no standard template: all-or-nothing here
        ET.SubElement(root, "responseProcessing", {"template": _TEMPLATES + "match_correct"})
    return root


def _statement(item: Item, shape: Interaction, language: str, rules: Rules) -> ET.Element:
    root = _qti_item(item, language)
    _response(root, "RESPONSE", "single", "identifier", ["true" if shape.truth else "false"])
    _score(root)
    body = ET.SubElement(root, "itemBody")
    _html_element(body, "p", inline_html(shape.stem))
    choices = ET.SubElement(
        body, "choiceInteraction", {"responseIdentifier": "RESPONSE", "shuffle": "false", "maxChoices": "1"}
    )
    for value, mark in (("true", "true_mark"), ("false", "false_mark")):
        ET.SubElement(choices, "simpleChoice", {"identifier": value}).text = label(mark)
    ET.SubElement(root, "responseProcessing", {"template": _TEMPLATES + "match_correct"})
    return root


def _blanks(item: Item, shape: Interaction, language: str, rules: Rules) -> ET.Element:
    root = _qti_item(item, language)
    segments = shape.segments
    found = blank_answers(shape)
    names = [f"RESPONSE_{n}" for n in range(1, len(found) + 1)]
    ranges = shape.ranges or (None,) * len(found)
    for name, answers, number in zip(names, found, ranges, strict=True):
        if number is not None:  # compared by value: a float, within the tolerance of the range's middle
            _response(root, name, "single", "float", [number.middle])
            continue
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
    # One point a blank: the sum of each blank's mapping (its accepted answers score 1), and one for each number
    # within its tolerance.
    processing = ET.SubElement(root, "responseProcessing")
    by_form = [name for name, number in zip(names, ranges, strict=True) if number is None]
    if by_form:
        total = ET.SubElement(ET.SubElement(processing, "setOutcomeValue", {"identifier": "SCORE"}), "sum")
        for name in by_form:
            ET.SubElement(total, "mapResponse", {"identifier": name})
    for name, number in zip(names, ranges, strict=True):
        if number is None:
            continue
        branch = ET.SubElement(ET.SubElement(processing, "responseCondition"), "responseIf")
        equal = ET.SubElement(
            branch, "equal", {"toleranceMode": "absolute", "tolerance": f"{number.tolerance} {number.tolerance}"}
        )
        ET.SubElement(equal, "variable", {"identifier": name})
        ET.SubElement(equal, "baseValue", {"baseType": "float"}).text = number.middle
        add = ET.SubElement(ET.SubElement(branch, "setOutcomeValue", {"identifier": "SCORE"}), "sum")
        ET.SubElement(add, "variable", {"identifier": "SCORE"})
        ET.SubElement(add, "baseValue", {"baseType": "float"}).text = "1"
    return root


def _essay(item: Item, shape: Interaction, language: str, rules: Rules) -> ET.Element:
    root = _qti_item(item, language)
    _response(root, "RESPONSE", "single", "string", [])
    _score(root)
    body = ET.SubElement(root, "itemBody")
    # The reference answer and scoring points are for the scorer only (a human scores an extended text).
    rubric = ET.SubElement(body, "rubricBlock", {"view": "scorer"})
    _append_html(rubric, answer_html(shape))
    _html_element(body, "p", inline_html(shape.stem))
    ET.SubElement(
        body, "extendedTextInteraction", {"responseIdentifier": "RESPONSE", "expectedLines": str(shape.lines or 5)}
    )
    return root


WRITERS: Mapping[str, Callable[[Item, Interaction, str, Rules], ET.Element]] = MappingProxyType(
    {"options": _options, "statement": _statement, "blanks": _blanks, "essay": _essay}
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
    ET.SubElement(metadata, "schema").text = "QTIv2.1 Package"
    ET.SubElement(metadata, "schemaversion").text = "1.0.0"
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


def qti_package(handbook: Handbook, modules: Sequence[Module], options: ExportOptions = DEFAULT_EXPORT) -> bytes:
    """An IMS content package (zip) of QTI 2.1 items and a manifest listing them in handbook order."""
    questions = [q for _, _, section in sections(handbook, modules, options.pool) for q in section]
    files = {"imsmanifest.xml": _xml(_manifest(questions))}
    for q in questions:
        shape = interaction(q.item)
        files[qti_item_path(q.id)] = _xml(WRITERS[shape.shape](q.item, shape, handbook.language, options.rules))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, files[name])
    return buffer.getvalue()
