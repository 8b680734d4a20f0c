"""After the exam: write its score sheet, and turn a filled one into the 试卷分析 (PDF and JSON).

The I/O edge of grading.py, scoresheet.py and analysis.py: read the manifest and the bank, check, then write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperkit.errors import ScoreSheetError, UsageError
from paperkit.exam import paper as ex
from paperkit.exam.manifest import Manifest, read_manifest
from paperkit.i18n import _
from paperkit.marking.analysis import Thresholds, analysis_data, analyze
from paperkit.marking.options import SHEET_ROWS
from paperkit.marking.report import analysis_context, analysis_xlsx, student_reports
from paperkit.marking.scoresheet import read_sheet, write_csv, write_xlsx
from paperkit.output import check_output, write_kept
from paperkit.paths import DEFAULT_SOURCE
from paperkit.questions import bank as qb
from paperkit.questions.bank import Question, bank_by_id
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
    bank: dict[int, tuple[Question, ...]] = field(default_factory=dict)  # every module's items, by module


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
            _(
                "{manifest}: the handbook it was set from ({source}, i.e. {recorded}) is not there; "
                "the project has moved: give --source DIR"
            ).format(manifest=manifest_path, source=manifest.source, recorded=recorded)
        )
    return recorded


def open_exam(manifest_path: Path, source: Path | None = None, exercises: bool = False) -> Marked:
    """The manifest and the questions it names (and every exercise, with `exercises`); a question the bank no
    longer has is a UsageError."""
    manifest = read_manifest(manifest_path, flag="MANIFEST")
    source = exam_source(manifest_path, manifest, source)
    handbook = open_handbook(source)
    used = qb.question_bank(handbook, exercises=bool(manifest.options.parts))  # the bank the exam drew from
    bank = qb.question_bank(handbook, exercises=True) if exercises else used
    questions = bank_by_id(bank)
    wanted = [qid for paper in manifest.papers.values() for qid in paper["questions"]]
    gone = sorted({qid for qid in wanted if qid not in questions})
    if gone:
        raise UsageError(
            _("{manifest}: the bank under {source} no longer has {ids}; cannot score this exam").format(
                manifest=manifest_path, source=source, ids=", ".join(gone)
            )
        )
    warnings = []
    current = qb.bank_hash(used, manifest.options.modules)
    if current != manifest.bank_hash:
        warnings.append(
            _(
                "the question bank has changed since {manifest} was written; "
                "the keys are taken from the bank as it is now"
            ).format(manifest=manifest_path)
        )
    titles = {m.id: m.title for m in handbook.modules}
    return Marked(manifest, questions, handbook.language, titles, tuple(warnings), bank)


def scoresheet_bytes(marked: Marked, rows: int = SHEET_ROWS) -> tuple[bytes, bytes]:
    """scores.xlsx and scores.csv of an exam, as bytes."""
    return write_xlsx(marked.manifest, marked.questions, rows), write_csv(marked.manifest, marked.questions, rows)


def check_outputs(paths: Sequence[Path], manifest_path: Path, source: Path | None, *inputs: Path) -> None:
    """Every output checked before anything is written: a writable regular file, never the handbook, the manifest
    or the score sheet read."""
    manifest = read_manifest(manifest_path, flag="MANIFEST")
    handbook = exam_source(manifest_path, manifest, source)
    for path in paths:
        check_output(path, inputs=(handbook, manifest_path, *inputs))


def build_scoresheet(
    manifest_path: Path, source: Path | None, out: Path | None = None, rows: int = SHEET_ROWS, force: bool = False
) -> tuple[list[Path], list[str]]:
    """Write scores.xlsx and scores.csv for an exam (beside its manifest unless `out` is given); a sheet the
    teacher has filled is never replaced without `force` (and then kept as scores.bak1.xlsx). Returns the files
    written and a line per file kept."""
    marked = open_exam(manifest_path, source)
    folder = out if out is not None else manifest_path.parent
    paths = [folder / "scores.xlsx", folder / "scores.csv"]
    check_outputs(paths, manifest_path, source)
    xlsx, csv = scoresheet_bytes(marked, rows)
    return write_kept(dict(zip(paths, (xlsx, csv), strict=True)), force)


def build_analysis(
    manifest_path: Path,
    scores: Path,
    source: Path | None,
    out: Path | None = None,
    thresholds: Thresholds | None = None,
    students: bool = False,
    force: bool = False,
) -> tuple[list[Path], tuple[str, ...]]:
    """Read a filled score sheet and write analysis.pdf, .xlsx and .json (and with `students` students.pdf, a
    个人成绩报告 per student); problems are a ScoreSheetError, and then nothing is written. A file the teacher
    changed since paperkit wrote it is replaced only with `force` (and kept as NAME.bak1…)."""
    marked = open_exam(manifest_path, source)
    folder = out if out is not None else manifest_path.parent
    names = ["analysis.pdf", "analysis.xlsx", "analysis.json", *(["students.pdf"] if students else [])]
    check_outputs([folder / name for name in names], manifest_path, source, scores)
    read = read_sheet(scores, marked.manifest, marked.questions)
    rows = read.rows
    if not any(r.marks is not None for r in rows):
        raise ScoreSheetError(
            [_("{scores}: no student has any marks yet; fill in the sheet, then analyse it").format(scores=scores)]
        )
    thresholds = thresholds or Thresholds()
    analysis = analyze(rows, marked.manifest.exam_id, marked.manifest.title, thresholds)
    context = analysis_context(analysis, marked.manifest, marked.lang, marked.module_titles)
    files = {
        "analysis.pdf": render_document("analysis.html.j2", ["analysis.css.j2"], context, DEFAULT_PAGE),
        "analysis.xlsx": analysis_xlsx(analysis, context),
        "analysis.json": json.dumps(analysis_data(analysis), ensure_ascii=False, indent=2).encode() + b"\n",
    }
    if students:
        reports = {
            "lang": marked.lang,
            "generator": ex.GENERATOR,
            "title": marked.manifest.title,
            "exam_id": marked.manifest.exam_id,
            "reports": student_reports(analysis, rows, thresholds.passing),
        }
        files["students.pdf"] = render_document("student-report.html.j2", ["analysis.css.j2"], reports, DEFAULT_PAGE)
    written, kept = write_kept({folder / name: body for name, body in files.items()}, force)
    return written, (*marked.warnings, *read.corrections, *kept)
