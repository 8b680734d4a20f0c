"""After the exam: write its score sheet, and turn a filled one into the 试卷分析 (PDF and JSON).

The I/O edge of grading.py, scoresheet.py and analysis.py: read the manifest and the bank, check, then write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from paperkit.errors import ScoreSheetError, UsageError
from paperkit.exam import paper as ex
from paperkit.exam.manifest import Manifest, read_manifest
from paperkit.labels import label
from paperkit.marking.analysis import Analysis, Thresholds, analysis_data, analyze, histogram_svg
from paperkit.marking.options import SHEET_ROWS
from paperkit.marking.scoresheet import read_scores, write_csv, write_xlsx
from paperkit.output import write_atomic
from paperkit.paths import DEFAULT_SOURCE
from paperkit.questions import bank as qb
from paperkit.questions.bank import Question, bank_by_id
from paperkit.questions.registry import kind_of
from paperkit.render.document import render_document
from paperkit.render.page import DEFAULT_PAGE
from paperkit.source import open_handbook


@dataclass(frozen=True)
class Marked:
    """An exam's record and its bank's questions by id (with a warning if the bank changed since printing)."""

    manifest: Manifest
    questions: dict[str, Question]
    lang: str
    module_titles: dict[int, str]
    warnings: tuple[str, ...] = ()


def exam_source(manifest_path: Path, manifest: Manifest, source: Path | None) -> Path:
    """The handbook an exam was set from: `--source` if given, else the folder its manifest records (relative to
    the manifest), else ./source for a manifest older than that record."""
    if source is not None:
        return source
    if not manifest.source:
        return DEFAULT_SOURCE
    recorded = manifest_path.parent / manifest.source
    if not (recorded / "handbook.yaml").is_file():
        raise UsageError(
            f"{manifest_path}: the handbook it was set from ({manifest.source}, i.e. {recorded}) is not there; "
            "the project has moved: give --source DIR"
        )
    return recorded


def open_exam(manifest_path: Path, source: Path | None = None) -> Marked:
    """The manifest and the questions it names; a question the bank no longer has is a UsageError."""
    manifest = read_manifest(manifest_path, flag="MANIFEST")
    source = exam_source(manifest_path, manifest, source)
    handbook = open_handbook(source)
    bank = qb.question_bank(handbook, exercises=bool(manifest.options.parts))
    questions = bank_by_id(bank)
    wanted = [qid for paper in manifest.papers.values() for qid in paper["questions"]]
    gone = sorted({qid for qid in wanted if qid not in questions})
    if gone:
        raise UsageError(
            f"{manifest_path}: the bank under {source} no longer has {', '.join(gone)}; cannot score this exam"
        )
    warnings = []
    current = qb.bank_hash(bank, manifest.options.modules)
    if current != manifest.bank_hash:
        warnings.append(
            f"the question bank has changed since {manifest_path} was written; "
            "the keys are taken from the bank as it is now"
        )
    titles = {m.id: m.title for m in handbook.modules}
    return Marked(manifest, questions, handbook.language, titles, tuple(warnings))


def scoresheet_bytes(marked: Marked, rows: int = SHEET_ROWS) -> tuple[bytes, bytes]:
    """scores.xlsx and scores.csv of an exam, as bytes."""
    return write_xlsx(marked.manifest, marked.questions, rows), write_csv(marked.manifest, marked.questions, rows)


def build_scoresheet(
    manifest_path: Path, source: Path | None, out: Path | None = None, rows: int = SHEET_ROWS
) -> list[Path]:
    """Write scores.xlsx and scores.csv for an exam (beside its manifest unless `out` is given)."""
    marked = open_exam(manifest_path, source)
    folder = out if out is not None else manifest_path.parent
    xlsx, csv = scoresheet_bytes(marked, rows)
    written = [folder / "scores.xlsx", folder / "scores.csv"]
    for path, data in zip(written, (xlsx, csv), strict=True):
        write_atomic(path, data)
    return written


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _points(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value == int(value) else f"{value:.2f}"


def analysis_context(
    analysis: Analysis, manifest: Manifest, lang: str, module_titles: dict[int, str] | None = None
) -> dict[str, Any]:
    """Everything analysis.html.j2 shows, formatted for print."""
    passing = round(analysis.thresholds.passing * 100)
    excellent = round(analysis.thresholds.excellent * 100)
    summary = [
        (label("analysis_students"), str(analysis.students)),
        (label("analysis_full"), str(analysis.full_marks)),
        (label("analysis_mean"), f"{analysis.mean:.2f}"),
        (label("analysis_median"), _points(analysis.median)),
        (label("analysis_stdev"), f"{analysis.stdev:.2f}"),
        (label("analysis_high"), _points(analysis.highest)),
        (label("analysis_low"), _points(analysis.lowest)),
        (label("analysis_pass", percent=passing), _percent(analysis.pass_rate)),
        (label("analysis_excellent", percent=excellent), _percent(analysis.excellent_rate)),
    ]

    def group(g: Any, title: str) -> dict[str, Any]:
        return {
            "ident": g.ident,
            "title": title,
            "count": g.items,
            "mastery": _percent(g.mastery),
            "width": round(g.mastery * 100, 1),
            "weak": g.mastery < analysis.thresholds.passing,
        }

    items = []
    for i in analysis.items:
        options = [
            (letter or label("analysis_blank"), _percent(share), bool(letter) and letter in i.key)
            for letter, share in i.options.items()
        ]
        items.append(
            {
                "positions": " / ".join(f"{v}{n}" for v, n in i.positions.items())
                if len(manifest.papers) > 1
                else str(next(iter(i.positions.values()))),
                "item_id": i.item_id,
                "section_id": i.section_id,
                "section_title": i.section_title,
                "kind": kind_of(i.kind).part_name,
                "points": i.points,
                "mean": f"{i.mean:.2f}",
                "p": f"{i.p:.2f}",
                "d": "—" if i.d is None else f"{i.d:.2f}",
                "low_d": i.low_d,
                "options": options,
            }
        )
    return {
        "lang": lang,
        "generator": ex.GENERATOR,
        "title": analysis.title,
        "exam_id": analysis.exam_id,
        "date": manifest.options.date_text,
        "summary": summary,
        "absent": analysis.absent,
        "histogram": Markup(histogram_svg(analysis)),
        "sections": [group(g, g.title) for g in analysis.sections],
        "modules": [group(g, (module_titles or {}).get(int(g.ident), "")) for g in analysis.modules],
        "items": items,
        "totals": [(n, sid, name, v, _points(t)) for n, (sid, name, v, t) in enumerate(analysis.totals, start=1)],
    }


def build_analysis(
    manifest_path: Path,
    scores: Path,
    source: Path | None,
    out: Path | None = None,
    thresholds: Thresholds | None = None,
) -> tuple[list[Path], tuple[str, ...]]:
    """Read a filled score sheet and write analysis.pdf and analysis.json; problems are a ScoreSheetError."""
    marked = open_exam(manifest_path, source)
    rows = read_scores(scores, marked.manifest, marked.questions)
    if not any(r.marks is not None for r in rows):
        raise ScoreSheetError([f"{scores}: no student has any marks yet; fill in the sheet, then analyse it"])
    analysis = analyze(rows, marked.manifest.exam_id, marked.manifest.title, thresholds or Thresholds())
    context = analysis_context(analysis, marked.manifest, marked.lang, marked.module_titles)
    pdf = render_document("analysis.html.j2", ["analysis.css.j2"], context, DEFAULT_PAGE)
    data = json.dumps(analysis_data(analysis), ensure_ascii=False, indent=2).encode() + b"\n"
    folder = out if out is not None else manifest_path.parent
    written = [folder / "analysis.pdf", folder / "analysis.json"]
    for path, body in zip(written, (pdf, data), strict=True):
        write_atomic(path, body)
    return written, marked.warnings
