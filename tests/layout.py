"""Reading laid-out pages (WeasyPrint's box tree, the one the PDF is drawn from): lines, classes, glyph widths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from weasyprint.formatting_structure import boxes

PX_PER_MM = 96 / 25.4


def walk(box: Any) -> Iterator[Any]:
    """Every box under `box`, depth first, in document order."""
    yield box
    for child in getattr(box, "children", ()):
        yield from walk(child)


def classes(box: Any) -> set[str]:
    """The HTML classes of the element a box was made for (a text box shares its parent's element)."""
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


@dataclass(frozen=True)
class Line:
    """One line of the page's flow: its box, the classes of its ancestors and the elements around it."""

    box: Any
    classes: frozenset[str]
    elements: tuple[Any, ...]  # the HTML elements it is inside, outermost first

    @property
    def text(self) -> str:
        """The line's text (formula images as U+FFFC)."""
        return "".join(
            b.text if isinstance(b, boxes.TextBox) else "\ufffc"
            for b in walk(self.box)
            if isinstance(b, boxes.TextBox | boxes.InlineReplacedBox)
        )


def page_lines(page: Any) -> list[Line]:
    """The lines of a page's flow in order: no running headers or page numbers, no floated labels."""
    lines: list[Line] = []

    def visit(box: Any, names: frozenset[str], elements: tuple[Any, ...]) -> None:
        if isinstance(box, boxes.MarginBox) or (box is not page._page_box and box.is_floated()):
            return
        element = getattr(box, "element", None)
        if element is not None and (not elements or elements[-1] is not element):
            elements = (*elements, element)
            names = names | classes(box)
        if isinstance(box, boxes.LineBox):
            lines.append(Line(box, names, elements))
            return
        for child in getattr(box, "children", ()):
            visit(child, names, elements)

    visit(page._page_box, frozenset(), ())
    return lines


def text_width(box: Any, text: str) -> float:
    """The advance of `text` set in a text box's style, shaped as one run (so font features apply)."""
    from weasyprint.text.line_break import split_first_line

    return split_first_line(text, box.style, None, None, 0)[3] if text else 0.0


def glyphs(line: Line) -> list[tuple[str, float, float]]:
    """(character, advance, font size) for each character of a line's text boxes, in order."""
    out: list[tuple[str, float, float]] = []
    for box in walk(line.box):
        if isinstance(box, boxes.TextBox):
            size = box.style["font_size"]
            widths = [text_width(box, box.text[:i]) for i in range(len(box.text) + 1)]
            out.extend((ch, widths[i + 1] - widths[i], size) for i, ch in enumerate(box.text))
        elif isinstance(box, boxes.InlineReplacedBox):
            out.append(("\ufffc", box.width, box.style["font_size"]))
    return out
