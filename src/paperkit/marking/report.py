"""The 试卷分析 as a teacher reads it: the print context (analysis.pdf), the workbook (analysis.xlsx) and the
个人成绩报告 (one page per student). Formatting lives here, the figures in analysis.py.

Numbers are formatted one way throughout: points with one decimal when any score has a half point (else whole),
means with two decimals, rates as percentages with one, P, D and α with two.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from paperkit.exam import paper as ex
from paperkit.exam.manifest import Manifest
from paperkit.labels import label
from paperkit.marking.analysis import Analysis, ItemFigures, Stats, histogram_svg, short_stem
from paperkit.marking.grading import counted_slots
from paperkit.marking.scoresheet import SheetRow, paper_parts
from paperkit.output import fixed_zip
from paperkit.questions.registry import kind_of


def percent(share: float) -> str:
    """A share as 「87.5%」."""
    return f"{share * 100:.1f}%"


def two(value: float | None) -> str:
    """P, D, α and means: two decimals, 「—」 when there is no figure."""
    return "—" if value is None else f"{value:.2f}"


class Points:
    """Points formatted alike in one report: whole numbers, or one decimal everywhere if any score has a half."""

    def __init__(self, values: Sequence[float]) -> None:
        self.decimals = 1 if any(v != int(v) for v in values) else 0

    def __call__(self, value: float) -> str:
        return f"{value:.{self.decimals}f}"


def _stats_row(stats: Stats, points: Points) -> list[str]:
    return [
        str(stats.sat),
        f"{stats.mean:.2f}",
        f"{stats.stdev:.2f}",
        points(stats.highest),
        points(stats.lowest),
        percent(stats.pass_rate),
        percent(stats.excellent_rate),
        two(stats.difficulty),
    ]


def _flag_label(flag: str) -> str:
    return label(f"analysis_flag_{flag}") if flag else ""


def _item_view(item: ItemFigures) -> dict[str, Any]:
    options = [
        (letter or label("analysis_blank"), percent(share), bool(letter) and letter in item.key)
        for letter, share in item.options.items()
    ]
    return {
        "number": item.name,
        "stem": item.stem,
        "section": f"{item.section_id} {item.section_title}",
        "kind": kind_of(item.kind).part_name,
        "points": item.points,
        "mean": f"{item.mean:.2f}",
        "p": two(item.p),
        "d": two(item.d),
        "flag": _flag_label(item.flag),
        "options": options,
        "key": item.key,
        "typical": [(answer, count) for answer, count in item.typical],
    }


def analysis_context(
    analysis: Analysis, manifest: Manifest, lang: str, module_titles: dict[int, str] | None = None
) -> dict[str, Any]:
    """Everything analysis.html.j2 shows, formatted for print."""
    th = analysis.thresholds
    points = Points([r.total for r in analysis.ranking] + [p for r in analysis.ranking for p in r.parts])
    o = analysis.overall
    summary = [
        (label("analysis_expected"), str(analysis.expected)),
        (label("analysis_students"), str(o.sat)),
        (label("analysis_absent_count"), str(len(analysis.absent))),
        (label("analysis_full"), str(analysis.full_marks)),
        (label("analysis_mean"), f"{o.mean:.2f}"),
        (label("analysis_median"), points(o.median) if o.median == int(o.median) else f"{o.median:.1f}"),
        (label("analysis_stdev"), f"{o.stdev:.2f}"),
        (label("analysis_high"), points(o.highest)),
        (label("analysis_low"), points(o.lowest)),
        (label("analysis_pass", percent=round(th.passing * 100)), percent(o.pass_rate)),
        (label("analysis_excellent", percent=round(th.excellent * 100)), percent(o.excellent_rate)),
        (label("analysis_low_rate", percent=round(th.low * 100)), percent(o.low_rate)),
        (label("analysis_difficulty"), two(o.difficulty)),
        (label("analysis_discrimination"), two(analysis.discrimination)),
        (label("analysis_reliability"), two(analysis.reliability)),
    ]

    def group(g: Any, title: str) -> dict[str, Any]:
        return {
            "ident": g.ident,
            "title": title,
            "count": g.items,
            "mastery": percent(g.mastery),
            "width": round(g.mastery * 100, 1),
            "weak": g.mastery < th.passing,
        }

    sat = o.sat
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for item in analysis.items:
        by_variant.setdefault(item.variant, []).append(_item_view(item))
    several = len(by_variant) > 1

    def where(item: ItemFigures) -> str:
        return f"{item.variant}{item.name}" if several else item.name

    level = [f"{where(i)}（{_flag_label(i.flag)}，P={two(i.p)}）" for i in analysis.items if i.flag in ("easy", "hard")]
    weak_d = [f"{where(i)}（D={two(i.d)}）" for i in analysis.items if i.flag == "low_d"]
    return {
        "lang": lang,
        "generator": ex.GENERATOR,
        "title": analysis.title,
        "exam_id": analysis.exam_id,
        "date": manifest.options.date_text,
        "summary": summary,
        "absent": analysis.absent,
        "histogram": Markup(histogram_svg(analysis, width=95.0, height=60.0)),
        "bands": [
            (b.label, b.count, percent(b.count / sat), b.cumulative, percent(b.cumulative / sat))
            for b in analysis.bands
        ],
        "parts": [(p.title, p.numbers, p.points, f"{p.mean:.2f}", percent(p.rate), two(p.d)) for p in analysis.parts],
        "variants": [(v, *_stats_row(s, points)) for v, s in analysis.variants.items()] if several else [],
        "part_titles": [p.title.split("、")[0] for p in analysis.parts],
        "classes": [
            (
                c.name,
                str(c.stats.sat),
                f"{c.stats.mean:.2f}",
                percent(c.stats.pass_rate),
                percent(c.stats.excellent_rate),
                [percent(r) for r in c.parts],
            )
            for c in analysis.classes
        ],
        "item_tables": [
            (label("analysis_items_variant", variant=v) if several else "", rows) for v, rows in by_variant.items()
        ],
        "review_level": level,
        "review_d": weak_d,
        "sections": [group(g, g.title) for g in analysis.sections],
        "modules": [group(g, (module_titles or {}).get(int(g.ident), "")) for g in analysis.modules],
        "ranking": [
            (r.rank, r.student_id, r.name, r.class_name, r.variant, [points(p) for p in r.parts], points(r.total))
            for r in analysis.ranking
        ],
        "show_class": any(r.class_name for r in analysis.ranking),
    }


# ---- analysis.xlsx --------------------------------------------------------------------------------------------


def analysis_xlsx(analysis: Analysis, context: dict[str, Any]) -> bytes:
    """analysis.xlsx: each table of the report on a sheet of its own, numbers as numbers, for the teacher's report."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)

    def sheet(
        title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], formats: dict[int, str] | None = None
    ) -> None:
        ws = book.create_sheet(title)
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(list(row))
        for column, number_format in (formats or {}).items():
            for cells in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                cells[0].number_format = number_format
        ws.freeze_panes = "A2"
        for index in range(len(header)):
            ws.column_dimensions[chr(65 + index) if index < 26 else "A" + chr(65 + index - 26)].width = 12

    o = analysis.overall
    sheet(
        "总体",
        ["项目", "数值"],
        [
            [label("analysis_expected"), analysis.expected],
            [label("analysis_students"), o.sat],
            [label("analysis_absent_count"), len(analysis.absent)],
            [label("analysis_full"), analysis.full_marks],
            [label("analysis_mean"), round(o.mean, 2)],
            [label("analysis_median"), o.median],
            [label("analysis_stdev"), round(o.stdev, 2)],
            [label("analysis_high"), o.highest],
            [label("analysis_low"), o.lowest],
            [label("analysis_pass", percent=round(analysis.thresholds.passing * 100)), round(o.pass_rate, 4)],
            [
                label("analysis_excellent", percent=round(analysis.thresholds.excellent * 100)),
                round(o.excellent_rate, 4),
            ],
            [label("analysis_low_rate", percent=round(analysis.thresholds.low * 100)), round(o.low_rate, 4)],
            [label("analysis_difficulty"), round(o.difficulty, 2)],
            [
                label("analysis_discrimination"),
                None if analysis.discrimination is None else round(analysis.discrimination, 2),
            ],
            [label("analysis_reliability"), None if analysis.reliability is None else round(analysis.reliability, 2)],
        ],
    )
    sat = o.sat
    sheet(
        "分数段",
        [
            label("analysis_band"),
            label("analysis_count"),
            label("analysis_share"),
            label("analysis_cumulative"),
            label("analysis_cumulative_share"),
        ],
        [
            [b.label, b.count, round(b.count / sat, 4), b.cumulative, round(b.cumulative / sat, 4)]
            for b in analysis.bands
        ],
        {3: "0.0%", 5: "0.0%"},
    )
    sheet(
        "大题",
        [
            label("analysis_part"),
            label("analysis_numbers"),
            label("analysis_max"),
            label("analysis_mean"),
            label("analysis_rate"),
            label("analysis_discrimination"),
        ],
        [
            [p.title, p.numbers, p.points, round(p.mean, 2), round(p.rate, 4), None if p.d is None else round(p.d, 2)]
            for p in analysis.parts
        ],
        {5: "0.0%"},
    )
    stats_header = [
        label("analysis_students"),
        label("analysis_mean"),
        label("analysis_stdev"),
        label("analysis_high"),
        label("analysis_low"),
        "及格率",
        "优秀率",
        label("analysis_difficulty"),
    ]

    def stats_cells(s: Stats) -> list[Any]:
        return [
            s.sat,
            round(s.mean, 2),
            round(s.stdev, 2),
            s.highest,
            s.lowest,
            round(s.pass_rate, 4),
            round(s.excellent_rate, 4),
            round(s.difficulty, 2),
        ]

    sheet(
        "卷型",
        [label("analysis_variant"), *stats_header],
        [[v, *stats_cells(s)] for v, s in analysis.variants.items()],
        {7: "0.0%", 8: "0.0%"},
    )
    if analysis.classes:
        parts = [p.title for p in analysis.parts]
        sheet(
            "班级",
            [label("analysis_class"), *stats_header, *parts],
            [[c.name, *stats_cells(c.stats), *[round(r, 4) for r in c.parts]] for c in analysis.classes],
            {7: "0.0%", 8: "0.0%", **{10 + i: "0.0%" for i in range(len(parts))}},
        )
    sheet(
        "逐题",
        [
            label("analysis_variant"),
            label("analysis_position"),
            label("analysis_item"),
            "编号",
            label("analysis_section"),
            label("analysis_kind"),
            label("analysis_max"),
            label("analysis_mean"),
            "P",
            "D",
            label("analysis_flag"),
            "答案",
            "选项选择率",
            "典型错误",
        ],
        [
            [
                i.variant,
                i.cell,
                i.stem,
                i.item_id,
                f"{i.section_id} {i.section_title}",
                kind_of(i.kind).part_name,
                i.points,
                round(i.mean, 2),
                round(i.p, 2),
                None if i.d is None else round(i.d, 2),
                _flag_label(i.flag),
                i.key,
                "　".join(f"{k or label('analysis_blank')} {percent(v)}" for k, v in i.options.items()),
                "　".join(f"{a}（{n}）" for a, n in i.typical),
            ]
            for i in analysis.items
        ],
    )
    sheet(
        "知识点",
        [label("analysis_section"), "名称", label("analysis_items"), label("analysis_mastery")],
        [[g.ident, g.title, g.items, round(g.mastery, 4)] for g in analysis.sections],
        {4: "0.0%"},
    )
    part_titles = [p.title for p in analysis.parts]
    sheet(
        "成绩",
        [label("analysis_rank"), "学号", "姓名", "班级", "卷型", *part_titles, "总分"],
        [[r.rank, r.student_id, r.name, r.class_name, r.variant, *r.parts, r.total] for r in analysis.ranking],
    )
    book.remove(book.worksheets[0])
    out = io.BytesIO()
    book.save(out)
    return fixed_zip(out.getvalue())


# ---- 个人成绩报告 -------------------------------------------------------------------------------------------------


def student_reports(analysis: Analysis, rows: Sequence[SheetRow], passing: float) -> list[dict[str, Any]]:
    """One 个人成绩报告 per student who sat: total, 名次, each question right or wrong, weak sections."""
    ranked = {r.student_id: r for r in analysis.ranking}
    points = Points([m.points for r in rows for m in r.marks or ()] + [r.total for r in analysis.ranking])
    reports = []
    for row in rows:
        if row.marks is None:
            continue
        line = ranked[row.sitter.student_id]
        questions = []
        sections: dict[str, list[float]] = {}
        titles: dict[str, str] = {}
        counts = counted_slots(row.sitter.slots, [m.points for m in row.marks])
        for slot, mark, counted in zip(row.sitter.slots, row.marks, counts, strict=True):
            state = "right" if mark.points == slot.points else ("wrong" if mark.points == 0 else "partly")
            kind = kind_of(slot.kind)
            bubbles = kind.sheet_field(slot.item, slot.indices, slot.points).bubbles
            shown = dict(bubbles)
            yours = "".join(shown.get(ch, ch) for ch in mark.text) if bubbles else mark.text
            key = "".join(shown.get(ch, ch) for ch in slot.sheet_key) if bubbles else ""
            questions.append(
                {
                    "number": slot.name,
                    "kind": kind.part_name,
                    "points": slot.points,
                    "scored": points(mark.points),
                    "state": state,
                    "mark": label(f"report_{state}"),
                    "yours": yours if mark.answered else "",
                    "key": key,
                    "section": f"{slot.section_id} {short_stem(slot.section_title, 14)}",
                }
            )
            if not counted:  # a 选做 item left for the other, a 附加题: no weak section
                continue
            pair = sections.setdefault(slot.section_id, [0.0, 0.0])
            pair[0] += mark.points
            pair[1] += slot.points
            titles[slot.section_id] = slot.section_title
        weak = sorted(
            (
                (earned / worth, ident)
                for ident, (earned, worth) in sections.items()
                if worth and earned / worth < passing
            ),
        )[:3]
        parts = paper_parts(row.sitter.slots)
        reports.append(
            {
                "student_id": row.sitter.student_id,
                "name": row.sitter.name,
                "class_name": row.sitter.class_name,
                "variant": row.sitter.variant,
                "total": points(line.total),
                "full": analysis.full_marks,
                "rank": label("report_of", rank=line.rank, count=analysis.overall.sat),
                "mean": f"{analysis.overall.mean:.2f}",
                "parts": [(p.title, points(s), p.points) for p, s in zip(parts, line.parts, strict=True)],
                "questions": questions,
                "weak": [(ident, titles[ident], percent(rate)) for rate, ident in weak],
            }
        )
    return reports
