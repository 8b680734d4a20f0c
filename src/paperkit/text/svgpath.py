"""Formula outlines drawn without WeasyPrint's SVG path parser: each formula's path carries its PDF path
operators, made once when the formula is drawn (and cached with it), and a drawer for WeasyPrint's SVG
`path` element copies them into the page.

Why: WeasyPrint parses path data in Python, a regex and a float per coordinate, and writes every
coordinate back out one call at a time; a formula is hundreds of points (its glyphs' outlines), which made
that parser half of a formula-heavy handbook's time. The path keeps its `d` (browsers draw the --html
output from it, and any other path is drawn by WeasyPrint's own code).
"""

from __future__ import annotations

import re
from typing import Any

ATTRIBUTE = "data-pdf"
VERSION = "pdf operators 2"  # part of the formula cache key: a change here must draw formulas again
# What an operator string may hold: numbers and the four path operators (m l c h), nothing else.
_SAFE = re.compile(r"[-0-9. mlch\n]*")
_TOKEN = re.compile(r"[MLQZ]|-?[0-9.]+")


def _number(value: float) -> str:
    # Two decimals of a px: 1/800 em at the formula size, far below what a printer can show.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def pdf_operators(d: str) -> str | None:
    """SVG path data of absolute M, L, Q and Z commands (as ziamath writes them) as PDF path operators, each
    quadratic curve raised to the cubic one PDF draws (as WeasyPrint does); None for any other path data."""
    tokens = _TOKEN.findall(d)
    if "".join(tokens) != re.sub(r"\s", "", d):
        return None  # a command or separator this fast path does not know
    out: list[str] = []
    x = y = 0.0
    index = 0
    try:
        while index < len(tokens):
            command = tokens[index]
            if command in ("M", "L"):
                nx, ny = float(tokens[index + 1]), float(tokens[index + 2])
                if command == "M" or (nx, ny) != (x, y):  # ziamath follows each M by a line of no length
                    out.append(f"{_number(nx)} {_number(ny)} {'m' if command == 'M' else 'l'}")
                x, y = nx, ny
                index += 3
            elif command == "Q":
                qx, qy, ex, ey = (float(t) for t in tokens[index + 1 : index + 5])
                c1x, c1y = x + 2 / 3 * (qx - x), y + 2 / 3 * (qy - y)
                c2x, c2y = ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey)
                out.append(" ".join(_number(v) for v in (c1x, c1y, c2x, c2y, ex, ey)) + " c")
                x, y = ex, ey
                index += 5
            elif command == "Z":
                out.append("h")
                index += 1
            else:
                return None
    except (IndexError, ValueError):
        return None
    return "\n".join(out)


def install(svg_module: Any) -> None:
    """Make WeasyPrint's SVG renderer (`weasyprint.svg`) draw a path that carries operators by copying them;
    any other path goes to its own drawer. Installing twice changes nothing."""
    original = svg_module.TAGS.get("path")
    if original is None or getattr(original, "paperkit", False):
        return

    def path(svg: Any, node: Any, font_size: float) -> None:
        operators = node.get(ATTRIBUTE)
        # Only operators and numbers are copied: a damaged or edited image is drawn the slow, safe way.
        if operators is None or not _SAFE.fullmatch(operators):
            original(svg, node, font_size)
            return
        svg.stream.stream.append(operators.encode("ascii"))

    path.paperkit = True  # type: ignore[attr-defined]
    svg_module.TAGS["path"] = path
