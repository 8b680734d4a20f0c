"""The 试卷分析 of a marked exam: the figures a 教研组 files, as pure functions over the rows of the score sheet.

Two views of the questions. As printed: each paper's questions in their printed order, with the option shares by
the letters that paper printed and its key (as corrected on the sheet), which is what a teacher's 讲评 follows.
As taught: each item counted once by its canonical id, whatever position each paper printed it in, summed into
sections and modules (知识点掌握情况). The paper as a whole: 难度, 区分度 and reliability (Cronbach's α, which
is KR-20 when every question is scored right or wrong), per 大题, per 卷型 (A/B fairness) and per 班级.

Definitions (docs/marking.md says the same for teachers):
- 难度 P = mean score / full marks (higher is easier); 区分度 D = (upper group's mean − lower group's) / full
  marks, the groups being the top and bottom 27 % by total (Kelley), at least one student each, none under 4;
- 过易 P > 0.9, 过难 P < 0.3; 区分度低 D < 0.2 (an item flagged 过易 or 过难 is not also flagged for D: an item
  everyone answers right cannot separate anyone);
- 名次: 1 + the number of higher totals (two students on 88 are both 2nd, the next is 4th);
- 分数段: 10 points wide from 0, the last reaching the full marks (a last band under 5 points joins the one
  before: 90–100, not 100–100); 累计 counts the band and every band above it;
- 低分率: the share below the low mark (40 % of full marks by default).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from paperkit.marking.grading import Slot, counted_slots, counted_total, full_marks
from paperkit.marking.options import EXCELLENT_SHARE, LOW_SHARE, PASS_SHARE
from paperkit.marking.scoresheet import Part, SheetRow, paper_parts
from paperkit.questions.kind import LETTERS
from paperkit.questions.registry import kind_of
from paperkit.text.markup import plain_text

GROUP_SHARE = 0.27  # the upper and lower groups of the discrimination index (Kelley)
LOW_DISCRIMINATION = 0.2
TOO_EASY, TOO_HARD = 0.9, 0.3
STEM_CHARS = 28  # a stem shortened for the item table
TYPICAL = 3  # the most common wrong answers shown per item


@dataclass(frozen=True)
class Thresholds:
    """The pass, excellent and low marks, as shares of the full marks (及格 60 %, 优秀 85 %, 低分 40 %)."""

    passing: float = PASS_SHARE
    excellent: float = EXCELLENT_SHARE
    low: float = LOW_SHARE


@dataclass(frozen=True)
class Stats:
    """A group of students' totals: how many, mean, spread, and the rates against the thresholds."""

    sat: int
    mean: float
    median: float
    stdev: float
    highest: float
    lowest: float
    difficulty: float  # mean / full marks
    pass_rate: float
    excellent_rate: float
    low_rate: float


@dataclass(frozen=True)
class ItemFigures:
    """One printed question of one paper: its item, 难度 P, 区分度 D, the shares of the letters printed, and the
    most common wrong answers."""

    variant: str
    number: int
    item_id: str
    kind: str
    stem: str
    section_id: str
    section_title: str
    points: int
    sat: int
    mean: float
    p: float
    d: float | None  # None with fewer than 4 students
    flag: str  # "" | "easy" | "hard" | "low_d"
    key: str = ""  # as printed (and corrected): letters, T/F, a fill-in's first accepted answer
    options: dict[str, float] = field(default_factory=dict)  # printed letter -> share ("" = left blank)
    typical: tuple[tuple[str, int], ...] = ()  # (wrong answer, how many)
    label: str = ""  # how the paper names it, when not its number (「17(2)」, a 组合题's sub-question)

    @property
    def name(self) -> str:
        """How the paper names it: 「7」, or 「17(2)」."""
        return self.label or str(self.number)

    @property
    def cell(self) -> int | str:
        """Its name in a spreadsheet: a number where it is one (sorts and filters as numbers), else text."""
        return self.number if not self.label or self.label == str(self.number) else self.label


@dataclass(frozen=True)
class PartFigures:
    """A 大题 across the class: its points, mean, 得分率 and 区分度."""

    title: str
    numbers: str  # 「1–6」
    points: int
    mean: float
    rate: float
    d: float | None


@dataclass(frozen=True)
class GroupFigures:
    """A section or a module: how much of what it was worth the class scored."""

    ident: str
    title: str
    items: int
    mastery: float


@dataclass(frozen=True)
class ClassFigures:
    """One 班级 of the roster: its totals, and its 得分率 per 大题."""

    name: str
    stats: Stats
    parts: tuple[float, ...]


@dataclass(frozen=True)
class Band:
    """A 分数段 in points: [low, high] as printed, how many, and how many at or above it."""

    label: str
    low: float
    count: int
    cumulative: int


@dataclass(frozen=True)
class Ranked:
    """A student's line in the 成绩表: 名次 (ties share one), who, paper, total and 大题 scores."""

    rank: int
    student_id: str
    name: str
    class_name: str
    variant: str
    total: float
    parts: tuple[float, ...]


@dataclass(frozen=True)
class Analysis:
    """The whole 试卷分析."""

    exam_id: str
    title: str
    full_marks: int
    expected: int  # 应考
    absent: tuple[str, ...]
    overall: Stats
    discrimination: float | None
    reliability: float | None  # Cronbach's α (KR-20 for right/wrong questions); None under 2 students or items
    thresholds: Thresholds
    bands: tuple[Band, ...]
    parts: tuple[PartFigures, ...]
    variants: dict[str, Stats]
    classes: tuple[ClassFigures, ...]  # empty unless the roster holds several 班级
    items: tuple[ItemFigures, ...]  # per paper, in printed order
    sections: tuple[GroupFigures, ...]
    modules: tuple[GroupFigures, ...]
    ranking: tuple[Ranked, ...]


def _groups(ranked: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    """The upper and lower 27 % of students ranked best first (at least one each)."""
    size = max(1, round(len(ranked) * GROUP_SHARE))
    return ranked[:size], ranked[-size:]


def discrimination(ranked: Sequence[Any], score: Callable[[Any], float], points: float) -> float | None:
    """区分度 D of a score over students ranked best first by total; None under 4 students."""
    if len(ranked) < 4 or not points:
        return None
    upper, lower = _groups(ranked)
    return (statistics.fmean(map(score, upper)) - statistics.fmean(map(score, lower))) / points


def stats(totals: Sequence[float], full: int, thresholds: Thresholds) -> Stats:
    """The figures of a group's totals."""
    count = len(totals)
    return Stats(
        sat=count,
        mean=statistics.fmean(totals),
        median=statistics.median(totals),
        stdev=statistics.pstdev(totals),
        highest=max(totals),
        lowest=min(totals),
        difficulty=statistics.fmean(totals) / full,
        pass_rate=sum(1 for t in totals if t >= thresholds.passing * full) / count,
        excellent_rate=sum(1 for t in totals if t >= thresholds.excellent * full) / count,
        low_rate=sum(1 for t in totals if t < thresholds.low * full) / count,
    )


def bands(totals: Sequence[float], full: int, width: int = 10) -> tuple[Band, ...]:
    """分数段 in points, highest first, with cumulative counts from the top."""
    lows = list(range(0, full + 1, width))
    if len(lows) > 1 and full - lows[-1] < width // 2:
        lows.pop()  # 100 joins 90–99: 90–100
    found = []
    for index, low in enumerate(lows):
        high = lows[index + 1] if index + 1 < len(lows) else None
        count = sum(1 for t in totals if t >= low and (high is None or t < high))
        name = f"{low}–{high - 1}" if high is not None else f"{low}–{full}"
        found.append((name, low, count))
    result, running = [], 0
    for name, low, count in reversed(found):
        running += count
        result.append(Band(name, float(low), count, running))
    return tuple(result)


def cronbach_alpha(scores: Sequence[Sequence[float]]) -> float | None:
    """Cronbach's α of students' question scores (rows: students); KR-20 when every score is all or nothing."""
    if len(scores) < 2 or len(scores[0]) < 2:
        return None
    k = len(scores[0])
    item_variance = sum(statistics.pvariance([row[i] for row in scores]) for i in range(k))
    total_variance = statistics.pvariance([sum(row) for row in scores])
    if total_variance == 0:
        return None
    return k / (k - 1) * (1 - item_variance / total_variance)


def ranks(totals: Sequence[float]) -> list[int]:
    """名次 with ties: 1 + the number of higher totals."""
    return [1 + sum(1 for other in totals if other > total) for total in totals]


def short_stem(text: str, limit: int = STEM_CHARS) -> str:
    """A stem as plain text, cut to `limit` characters with an ellipsis."""
    plain = " ".join(plain_text(text).split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def _flag(p: float, d: float | None) -> str:
    if p > TOO_EASY:
        return "easy"
    if p < TOO_HARD:
        return "hard"
    return "low_d" if d is not None and d < LOW_DISCRIMINATION else ""


def _printed_key(slot: Slot) -> str:
    """The key as the paper printed it (and the sheet corrected it): letters, √ or ×, a fill-in's answer."""
    bubbles = kind_of(slot.kind).sheet_field(slot.item, slot.indices, slot.points).bubbles
    if bubbles:
        return "".join(shown for value, shown in bubbles if value in slot.sheet_key)
    return slot.key if slot.takes_letters else ""  # a worked answer is too long for a table cell


def _item(variant: str, index: int, rows: Sequence[SheetRow], total: dict[str, float]) -> ItemFigures:
    """One printed question of one paper across the students who sat that paper."""
    slot = rows[0].sitter.slots[index]
    kind = kind_of(slot.kind)
    marks = [(r.marks or ())[index] for r in rows]
    mean = statistics.fmean(m.points for m in marks)
    ranked = sorted(range(len(rows)), key=lambda i: -total[rows[i].sitter.student_id])
    d = discrimination(ranked, lambda i: marks[i].points, slot.points)
    options: dict[str, float] = {}
    typed = [m for m in marks if m.chosen is not None]
    if kind.lettered and typed:
        for letter in LETTERS[: len(slot.order)]:
            options[letter] = sum(1 for m in typed if letter in m.text) / len(typed)
        options[""] = sum(1 for m in typed if not m.answered) / len(typed)
    typical: tuple[tuple[str, int], ...] = ()
    if kind.lettered or kind.text_answers:
        wrong = Counter(m.text for m in marks if m.answered and m.text and m.points < slot.points)
        typical = tuple(sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))[:TYPICAL])
    p = mean / slot.points if slot.points else 0.0
    return ItemFigures(
        variant=variant,
        number=slot.number,
        label=slot.label,
        item_id=slot.item_id,
        kind=slot.kind,
        stem=short_stem(slot.item.q),
        section_id=slot.section_id,
        section_title=slot.section_title,
        points=slot.points,
        sat=len(rows),
        mean=mean,
        p=p,
        d=d,
        flag=_flag(p, d),
        key=_printed_key(slot),
        options=options,
        typical=typical,
    )


def _mastery(rows: Sequence[SheetRow]) -> tuple[tuple[GroupFigures, ...], tuple[GroupFigures, ...]]:
    """Sections and modules: points scored over points possible, each item once by its canonical id."""
    earned: dict[tuple[str, str], list[float]] = {}
    items: dict[tuple[str, str], set[str]] = {}
    titles: dict[str, str] = {}
    for row in rows:
        marks = row.marks or ()
        counts = counted_slots(row.sitter.slots, [m.points for m in marks])
        for slot, mark, counted in zip(row.sitter.slots, marks, counts, strict=True):
            if not counted:  # a 选做 item left for the other, a 附加题: not what the class knows
                continue
            titles[slot.section_id] = slot.section_title
            for group in (("section", slot.section_id), ("module", str(slot.module_id))):
                pair = earned.setdefault(group, [0.0, 0.0])
                pair[0] += mark.points
                pair[1] += slot.points
                items.setdefault(group, set()).add(slot.item_id)

    def figures(kind: str) -> list[GroupFigures]:
        return [
            GroupFigures(ident, titles.get(ident, "") if kind == "section" else "", len(items[(k, ident)]), v[0] / v[1])
            for (k, ident), v in earned.items()
            if k == kind and v[1]
        ]

    sections = tuple(sorted(figures("section"), key=lambda g: (g.mastery, _order(g.ident))))
    modules = tuple(sorted(figures("module"), key=lambda g: _order(g.ident)))
    return sections, modules


def _score_matrix(sat: Sequence[SheetRow]) -> list[list[float]]:
    """Each student's scores for α: by item when every student sat the same items (variants that only shuffle),
    else by printed position (parallel papers of one blueprint)."""
    # Only the items every student answers: a 选做题's items are each left by some, a 附加题 is outside the total.
    by_item = [
        {slot.item_id: m.points for slot, m in zip(r.sitter.slots, r.marks or (), strict=True) if not slot.role}
        for r in sat
    ]
    if all(scores.keys() == by_item[0].keys() for scores in by_item):
        ids = sorted(by_item[0])
        return [[scores[i] for i in ids] for scores in by_item]
    return [[m.points for m, slot in zip(r.marks or (), r.sitter.slots, strict=True) if not slot.role] for r in sat]


def _part_score(row: SheetRow, part: Part) -> float:
    return part.score([m.points for m in row.marks or ()])


def _total(row: SheetRow) -> float:
    """A student's total: the counted items (a 选做题's best, no 附加题)."""
    return counted_total(row.sitter.slots, [m.points for m in row.marks or ()])


def _part(part: Part, sat: Sequence[SheetRow], ranked: Sequence[SheetRow]) -> PartFigures:
    """A 大题 across the class."""
    mean = statistics.fmean(_part_score(r, part) for r in sat)
    slots = sat[0].sitter.slots
    first, last = slots[part.first].name, slots[part.last].name
    return PartFigures(
        title=part.title,
        numbers=f"{first}–{last}" if part.last > part.first else first,
        points=part.points,
        mean=mean,
        rate=mean / part.points if part.points else 0.0,
        d=discrimination(ranked, lambda r: _part_score(r, part), part.points),
    )


def analyze(rows: Sequence[SheetRow], exam_id: str, title: str, thresholds: Thresholds = Thresholds()) -> Analysis:
    """The analysis of the rows that have marks (absent students are listed, not counted)."""
    sat = [r for r in rows if r.marks is not None]
    if not sat:
        raise ValueError("no student has any marks")
    full = full_marks(sat[0].sitter.slots)
    total = {r.sitter.student_id: _total(r) for r in sat}
    ranked = sorted(sat, key=lambda r: (-total[r.sitter.student_id], r.sitter.student_id))
    values = [total[r.sitter.student_id] for r in ranked]
    parts = paper_parts(sat[0].sitter.slots)

    by_variant: dict[str, list[SheetRow]] = {}
    for r in sat:
        by_variant.setdefault(r.sitter.variant, []).append(r)
    items = tuple(
        _item(variant, index, group, total)
        for variant, group in sorted(by_variant.items())
        for index in range(len(group[0].sitter.slots))
    )
    part_figures = tuple(_part(part, sat, ranked) for part in parts)
    class_names = sorted({r.sitter.class_name for r in sat}, key=_class_order)
    classes = (
        tuple(
            ClassFigures(
                name,
                stats([total[r.sitter.student_id] for r in sat if r.sitter.class_name == name], full, thresholds),
                tuple(
                    statistics.fmean(_part_score(r, p) for r in sat if r.sitter.class_name == name) / p.points
                    if p.points
                    else 0.0
                    for p in parts
                ),
            )
            for name in class_names
        )
        if len(class_names) > 1
        else ()
    )
    sections, modules = _mastery(sat)
    return Analysis(
        exam_id=exam_id,
        title=title,
        full_marks=full,
        expected=len(rows),
        absent=tuple(f"{r.sitter.student_id} {r.sitter.name}".strip() for r in rows if r.marks is None),
        overall=stats(values, full, thresholds),
        discrimination=discrimination(ranked, lambda r: total[r.sitter.student_id], full),
        reliability=cronbach_alpha(_score_matrix(sat)),
        thresholds=thresholds,
        bands=bands(values, full),
        parts=part_figures,
        variants={
            v: stats([total[r.sitter.student_id] for r in g], full, thresholds) for v, g in sorted(by_variant.items())
        },
        classes=classes,
        items=items,
        sections=sections,
        modules=modules,
        ranking=tuple(
            Ranked(
                rank,
                r.sitter.student_id,
                r.sitter.name,
                r.sitter.class_name,
                r.sitter.variant,
                total[r.sitter.student_id],
                tuple(_part_score(r, p) for p in parts),
            )
            for rank, r in zip(ranks(values), ranked, strict=True)
        ),
    )


def _order(ident: str) -> tuple[int, ...]:
    """Numeric order of ids like 2, 2.10, 3.1."""
    return tuple(int(part) if part.isdigit() else 0 for part in ident.split("."))


def _class_order(name: str) -> tuple[int, str]:
    """班级 in the order a school counts them: 2班 before 10班."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


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
    data["paperkit_analysis"] = 2
    return data


def histogram_svg(analysis: Analysis, width: float = 160.0, height: float = 55.0) -> str:
    """The 分数段 as an SVG bar chart in mm, lowest band left (a vector drawing, labelled, no colour needed)."""
    shown = list(reversed(analysis.bands))
    counts = [band.count for band in shown]
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
    for i, band in enumerate(shown):
        h = plot_h * band.count / top
        x = left + i * bar
        y = label_h + plot_h - h
        parts.append(
            f'<rect x="{x + 0.8:.2f}" y="{y:.2f}" width="{bar - 1.6:.2f}" height="{h:.2f}" '
            'fill="#555" stroke="#000" stroke-width="0.2"/>'
        )
        if band.count:
            parts.append(f'<text x="{x + bar / 2:.2f}" y="{y - 0.8:.2f}" text-anchor="middle">{band.count}</text>')
        parts.append(f'<text x="{x + bar / 2:.2f}" y="{height - 3:.2f}" text-anchor="middle">{band.label}</text>')
    parts.append(
        f'<line x1="{left}" y1="{label_h + plot_h:.2f}" x2="{width - 2}" y2="{label_h + plot_h:.2f}" '
        'stroke="#000" stroke-width="0.3"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
