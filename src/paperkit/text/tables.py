"""Tables in content texts: pipe tables, as GitHub writes them, on lines of their own in a text field.

    某同学测得数据如下：
    | 次数 | 电压 $U$/V | 电流 $I$/A |
    |---|:---:|---:|
    | 1 | 1.5 | 0.30 |
    根据数据，电阻约为

A header row, a delimiter row (`---`, `:---:` centred, `---:` right), then body rows, each with the header's
number of cells; a cell holds inline markup (formulas, bold, code, a figure). Anything else that starts with
`|` is text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperkit.i18n import _

_DELIMITER = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*")
MAX_COLUMNS = 12


@dataclass(frozen=True)
class Table:
    """A pipe table: its header cells, each column's alignment, and its rows of cells."""

    header: tuple[str, ...]
    align: tuple[str, ...]  # "left", "center" or "right"
    rows: tuple[tuple[str, ...], ...]


def cells(line: str) -> tuple[str, ...]:
    """A table line's cells (an escaped \\| stays in its cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return tuple(cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body))


def _alignment(cell: str) -> str:
    cell = cell.strip()
    if cell.startswith(":") and cell.endswith(":"):
        return "center"
    return "right" if cell.endswith(":") else "left"


def split_tables(text: str) -> list[str | Table]:
    """The text as pieces: runs of text, and each table (a header line, a delimiter line, then `|` lines)."""
    if "|" not in text or "\n" not in text:
        return [text]
    lines = text.split("\n")
    pieces: list[str | Table] = []
    plain: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.lstrip().startswith("|") and _DELIMITER.fullmatch(following):
            end = index + 2
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            if plain:
                pieces.append("\n".join(plain))
                plain = []
            header = cells(line)
            align = tuple(_alignment(cell) for cell in cells(following))
            pieces.append(Table(header, align, tuple(cells(row) for row in lines[index + 2 : end])))
            index = end
            continue
        plain.append(line)
        index += 1
    if plain:
        pieces.append("\n".join(plain))
    return pieces


def table_problems(table: Table) -> list[str]:
    """What is wrong with a table's shape, as messages."""
    problems = []
    width = len(table.header)
    if width > MAX_COLUMNS:
        problems.append(
            _("a table of {columns} columns does not fit a page; at most {most}").format(
                columns=width, most=MAX_COLUMNS
            )
        )
    if len(table.align) != width:
        problems.append(
            _("the table's delimiter row has {cells} cells, its header {header}").format(
                cells=len(table.align), header=width
            )
        )
    for number, row in enumerate(table.rows, start=1):
        if len(row) != width:
            problems.append(
                _("table row {number} has {cells} cells, the header {header}").format(
                    number=number, cells=len(row), header=width
                )
            )
    return problems
