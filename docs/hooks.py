"""mkdocs hook: the pages are written for GitHub (GFM); a few things Python-Markdown reads otherwise are
rewritten before a page is converted, so the site shows what GitHub shows. The files stay as written.

- A table cell's `\\|` is a pipe: GitHub takes it so inside a code span too (`--paper A4\\|B5`); Python-Markdown
  would print the backslash (and never takes a pipe inside a code span for a cell border anyway).
- Nested lists: GitHub nests an item under the item whose text it is indented to (two spaces under `- `,
  three under `1. `); Python-Markdown wants four spaces a level. Each list line is re-indented by its depth.
- A list right after a paragraph line starts a list on GitHub; Python-Markdown needs a blank line first.

Fenced code blocks are left alone.
"""

from __future__ import annotations

import re
from typing import Any

FENCE = re.compile(r"^\s*(```|~~~)")
ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +)(?=\S)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def gfm(markdown: str) -> str:
    out: list[str] = []
    columns: list[int] = []  # the text column of each open list item, outermost first
    fenced = False
    blank = True  # the line before was blank (or the page starts)
    for line in markdown.split("\n"):
        if FENCE.match(line) or fenced:
            if FENCE.match(line):
                fenced = not fenced
                if _indent(line) == 0:
                    columns = []
            out.append(line)
            blank = False
            continue
        if not line.strip():
            out.append(line)
            blank = True
            continue
        if line.lstrip().startswith("|"):
            line = line.replace("\\|", "|")
        indent = _indent(line)
        item = ITEM.match(line)
        in_list = bool(columns)
        if item or blank:  # an item, or a paragraph after a blank line, belongs to the item whose text it reaches
            while columns and indent < columns[-1]:
                columns.pop()
        if item:
            if not in_list and not blank and not out[-1].lstrip().startswith(("#", "|", ">")):
                out.append("")  # a list right after a paragraph line
            depth = len(columns)
            columns.append(indent + len(item.group(2)) + len(item.group(3)))
            line = " " * (4 * depth) + line.lstrip(" ")
        elif columns:  # the text of the innermost item (a line without a blank before it may be lazy)
            line = " " * (4 * len(columns)) + line.lstrip(" ")
        out.append(line)
        blank = False
    return "\n".join(out)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return gfm(markdown)
