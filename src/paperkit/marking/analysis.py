"""The 试卷分析 of a marked exam: class figures, the score distribution, and per item, section and module.

Pure functions over the rows read from the score sheet. Items are counted by their canonical id, whatever
position each variant printed them in, and choice answers by the original option letters.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from paperkit.marking.options import EXCELLENT_SHARE, PASS_SHARE
from paperkit.marking.scoresheet import SheetRow
from paperkit.questions.kind import LETTERS
from paperkit.questions.registry import kind_of

# The upper and lower groups of the discrimination index (Kelley's 27 %), and the flag below which an
# item separates strong from weak students too little to be kept as it is.
GROUP_SHARE = 0.27
LOW_DISCRIMINATION = 0.2


@dataclass(frozen=True)
class Thresholds:
    """The class's pass and excellent marks, as shares of the full marks (及格 60 %, 优秀 85 % by default)."""

    passing: float = PASS_SHARE
    excellent: float = EXCELLENT_SHARE


@dataclass(frozen=True)
class ItemFigures:
    """One item across the class: 得分率 P, 区分度 D, and for choice items the share of each option chosen."""

    item_id: str
    kind: str
    section_id: str
    section_title: str
    module_id: int
    points: int
    positions: dict[str, int]  # variant -> printed question number
    sat: int
    mean: float
    p: float
    d: float | None  # None with fewer than 4 students (no upper and lower groups)
    low_d: bool
    options: dict[str, float] = field(default_factory=dict)  # original letter -> share chosen ("" = blank)
    key: str = ""  # original letters keyed correct


@dataclass(frozen=True)
class GroupFigures:
    """A section or a module: how much of what it was worth the class scored."""

    ident: str
    title: str
    items: int
    mastery: float


@dataclass(frozen=True)
class Analysis:
    """The whole 试卷分析."""

    exam_id: str
    title: str
    full_marks: int
    students: int
    absent: tuple[str, ...]
    mean: float
    median: float
    stdev: float
    highest: float
    lowest: float
    pass_rate: float
    excellent_rate: float
    thresholds: Thresholds
    bins: tuple[tuple[str, int], ...]  # ("0–9", count) … ("90–100", count), in % of full marks
    items: tuple[ItemFigures, ...]
    sections: tuple[GroupFigures, ...]
    modules: tuple[GroupFigures, ...]
    totals: tuple[tuple[str, str, str, float], ...]  # (学号, 姓名, 卷型, total), best first


def _groups(ranked: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    """The upper and lower 27 % of students ranked best first (at least one each)."""
    size = max(1, round(len(ranked) * GROUP_SHARE))
    return ranked[:size], ranked[-size:]


def _bins(totals: Sequence[float], full: int) -> tuple[tuple[str, int], ...]:
    counts = [0] * 10
    for total in totals:
        counts[min(9, int(total * 10 // full))] += 1
    names = [f"{10 * i}–{10 * i + 9}" for i in range(9)] + ["90–100"]
    return tuple(zip(names, counts, strict=True))


def analyze(rows: Sequence[SheetRow], exam_id: str, title: str, thresholds: Thresholds = Thresholds()) -> Analysis:
    """The analysis of the rows that have marks (absent students are listed, not counted)."""
    sat = [r for r in rows if r.marks is not None]
    if not sat:
        raise ValueError("no student has any marks")
    full = sum(slot.points for slot in sat[0].sitter.slots)
    total = {r.sitter.student_id: sum(m.points for m in r.marks or ()) for r in sat}
    ranked = sorted(sat, key=lambda r: (-total[r.sitter.student_id], r.sitter.student_id))
    values = [total[r.sitter.student_id] for r in sat]

    # Per item, across every variant that printed it.
    by_item: dict[str, list[tuple[SheetRow, int]]] = {}
    for r in sat:
        for index, slot in enumerate(r.sitter.slots):
            by_item.setdefault(slot.item_id, []).append((r, index))
    items = []
    for item_id, seen in by_item.items():
        first_row, first_index = seen[0]
        slot = first_row.sitter.slots[first_index]
        scores = {row.sitter.student_id: (row.marks or ())[index].points for row, index in seen}
        mean = statistics.fmean(scores.values())
        had = [r for r in ranked if r.sitter.student_id in scores]
        d = None
        if len(had) >= 4:
            upper, lower = _groups(had)
            d = (
                statistics.fmean(scores[r.sitter.student_id] for r in upper)
                - statistics.fmean(scores[r.sitter.student_id] for r in lower)
            ) / slot.points
        options: dict[str, float] = {}
        key = ""
        if kind_of(slot.kind).lettered:
            key = "".join(sorted(slot.order[LETTERS.index(ch)] for ch in slot.key))
            chosen = [(row.marks or ())[index].chosen for row, index in seen]
            recorded = [c for c in chosen if c is not None]
            if recorded:
                letters = sorted(slot.order)
                for letter in letters:
                    options[letter] = sum(1 for c in recorded if letter in c) / len(recorded)
                options[""] = sum(1 for c in recorded if c == "") / len(recorded)
        positions = {row.sitter.variant: row.sitter.slots[index].number for row, index in seen}
        items.append(
            ItemFigures(
                item_id=item_id,
                kind=slot.kind,
                section_id=slot.section_id,
                section_title=slot.section_title,
                module_id=slot.module_id,
                points=slot.points,
                positions=dict(sorted(positions.items())),
                sat=len(seen),
                mean=mean,
                p=mean / slot.points,
                d=d,
                low_d=d is not None and d < LOW_DISCRIMINATION,
                options=options,
                key=key,
            )
        )
    items.sort(key=lambda f: (min(f.positions.values()), f.item_id))

    # Sections and modules: points scored over points possible, every sitting of every item counted.
    earned: dict[tuple[str, str], list[float]] = {}
    for f in items:
        for group in (("section", f.section_id), ("module", str(f.module_id))):
            pair = earned.setdefault(group, [0.0, 0.0, 0.0])
            pair[0] += f.mean * f.sat
            pair[1] += f.points * f.sat
            pair[2] += 1
    titles = {f.section_id: f.section_title for f in items}
    sections = tuple(
        sorted(
            (
                GroupFigures(ident, titles[ident], int(v[2]), v[0] / v[1])
                for (kind, ident), v in earned.items()
                if kind == "section"
            ),
            key=lambda g: (g.mastery, _order(g.ident)),
        )
    )
    modules = tuple(
        sorted(
            (
                GroupFigures(ident, "", int(v[2]), v[0] / v[1])
                for (kind, ident), v in earned.items()
                if kind == "module"
            ),
            key=lambda g: _order(g.ident),
        )
    )
    return Analysis(
        exam_id=exam_id,
        title=title,
        full_marks=full,
        students=len(sat),
        absent=tuple(f"{r.sitter.student_id} {r.sitter.name}".strip() for r in rows if r.marks is None),
        mean=statistics.fmean(values),
        median=statistics.median(values),
        stdev=statistics.pstdev(values),
        highest=max(values),
        lowest=min(values),
        pass_rate=sum(1 for v in values if v >= thresholds.passing * full) / len(values),
        excellent_rate=sum(1 for v in values if v >= thresholds.excellent * full) / len(values),
        thresholds=thresholds,
        bins=_bins(values, full),
        items=tuple(items),
        sections=sections,
        modules=modules,
        totals=tuple(
            (r.sitter.student_id, r.sitter.name, r.sitter.variant, total[r.sitter.student_id]) for r in ranked
        ),
    )


def _order(ident: str) -> tuple[int, ...]:
    """Numeric order of ids like 2, 2.10, 3.1."""
    return tuple(int(part) if part.isdigit() else 0 for part in ident.split("."))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def analysis_data(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON data (figures rounded to 4 places)."""
    data = _rounded(asdict(analysis))
    data["paperkit_analysis"] = 1
    return data


def histogram_svg(analysis: Analysis, width: float = 160.0, height: float = 55.0) -> str:
    """The distribution of totals as an SVG bar chart in mm (a vector drawing, labelled, no colour needed)."""
    counts = [count for _, count in analysis.bins]
    top = max(max(counts), 1)
    left, bottom, label_h = 8.0, 8.0, 4.0
    plot_w, plot_h = width - left - 2, height - bottom - label_h
    bar = plot_w / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="PK Sans, PK Sans Extra" font-size="3">'
    ]
    for step in range(0, top + 1, max(1, math.ceil(top / 5))):
        y = label_h + plot_h - plot_h * step / top
        parts.append(
            f'<line x1="{left}" y1="{y:.2f}" x2="{width - 2}" y2="{y:.2f}" stroke="#999" stroke-width="0.15"/>'
        )
        parts.append(f'<text x="{left - 1.5}" y="{y + 1:.2f}" text-anchor="end">{step}</text>')
    for i, (name, count) in enumerate(analysis.bins):
        h = plot_h * count / top
        x = left + i * bar
        y = label_h + plot_h - h
        parts.append(
            f'<rect x="{x + 0.8:.2f}" y="{y:.2f}" width="{bar - 1.6:.2f}" height="{h:.2f}" '
            'fill="#555" stroke="#000" stroke-width="0.2"/>'
        )
        if count:
            parts.append(f'<text x="{x + bar / 2:.2f}" y="{y - 0.8:.2f}" text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + bar / 2:.2f}" y="{height - 3:.2f}" text-anchor="middle">{name}</text>')
    parts.append(
        f'<line x1="{left}" y1="{label_h + plot_h:.2f}" x2="{width - 2}" y2="{label_h + plot_h:.2f}" '
        'stroke="#000" stroke-width="0.3"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
