"""Page geometry: paper sizes, type size and the margins that make a line a whole number of characters."""

from __future__ import annotations

from dataclasses import dataclass, replace

from paperkit.errors import UsageError
from paperkit.i18n import _

# Paper sizes in millimetres (width, height).
PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "B5": (176.0, 250.0),
    "Letter": (215.9, 279.4),
}
PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class PageGeometry:
    """Everything the stylesheet needs to know about the page, computed in one place."""

    paper: str
    width_mm: float
    height_mm: float
    body_pt: float
    chars_per_line: int
    side_margin_mm: float
    top_margin_mm: float
    bottom_margin_mm: float
    sheet: tuple[float, float] | None = None  # two-up: the sheet two of these pages are printed on, side by side

    @property
    def scale(self) -> float:
        """The paper's width relative to A4, for sizes that should follow the page (cover type)."""
        return self.width_mm / PAPERS["A4"][0]


# Two-up sheets (试卷 are printed two columns to a landscape side): the sheet and the size of each column page.
# A3 holds two A4 columns; B4 (JIS, 364 × 257 mm) two JIS B5 columns; 8开 (8K, 390 × 270 mm) two 16开 columns.
TWO_UP: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "A3": ((420.0, 297.0), (210.0, 297.0)),
    "B4": ((364.0, 257.0), (182.0, 257.0)),
    "8K": ((390.0, 270.0), (195.0, 270.0)),
}
ALIASES = {"8开": "8K"}  # the name Chinese print shops use


def paper_names(two_up: bool = False) -> str:
    """The valid --paper values, for messages."""
    return ", ".join([*PAPERS, *TWO_UP] if two_up else PAPERS)


def geometry_for(paper: str, min_side_margin_mm: float = 20.0, two_up: bool = False) -> PageGeometry:
    """The page geometry for a paper name; the body size scales with the paper, the line is whole characters.

    With `two_up` (exam papers), the TWO_UP sheets are allowed too: their pages are columns, two to a landscape side.
    """
    name = ALIASES.get(paper, paper)
    sheet = next((n for n in TWO_UP if n.lower() == name.lower()), None) if two_up else None
    if sheet is not None:
        size, (width, height) = TWO_UP[sheet]
        return replace(_geometry(sheet, width, height, min_side_margin_mm), sheet=size)
    key = next((n for n in PAPERS if n.lower() == name.lower()), None)
    if key is None:
        raise UsageError(
            _("--paper {paper}: unknown paper size; choose one of {papers}").format(
                paper=paper, papers=paper_names(two_up)
            )
        )
    return _geometry(key, *PAPERS[key], min_side_margin_mm)


def _geometry(name: str, width: float, height: float, min_side_margin_mm: float) -> PageGeometry:
    # 10.5 pt (五号) on A4; smaller papers scale the type down a little, never below 9.5 pt.
    body_pt = max(9.5, round(10.5 * min(1.0, width / PAPERS["A4"][0]) * 2) / 2)
    body_mm = body_pt / PT_PER_MM
    chars = int((width - 2 * min_side_margin_mm) // body_mm)
    side = (width - chars * body_mm) / 2
    return PageGeometry(
        paper=name,
        width_mm=width,
        height_mm=height,
        body_pt=body_pt,
        chars_per_line=chars,
        side_margin_mm=round(side, 3),
        top_margin_mm=round(height * 0.085, 1),
        bottom_margin_mm=round(height * 0.08, 1),
    )


# The default paper, resolved once.
DEFAULT_PAGE = geometry_for("A4")
