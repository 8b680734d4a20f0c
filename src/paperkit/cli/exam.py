"""`exam`: papers, keys and a manifest from the exam flags (or a manifest), checked before anything renders."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from paperkit.cli.common import (
    AllowOverflowOption,
    SourceOption,
    app,
    reported,
    stderr_progress,
    text_option,
    warn,
)
from paperkit.exam.options import POOLS, ExamOptions
from paperkit.i18n import _
from paperkit.paths import DEFAULT_BUILD, DEFAULT_SOURCE
from paperkit.questions.rules import MULTI_RULES

EXAM = ExamOptions(modules=())  # the defaults the help texts show


@app.command(help=_("Write a randomized exam paper, its answer key and manifest.json under build/exams/<exam-id>/."))
def exam(
    modules: Annotated[
        str | None,
        text_option("--modules", "LIST", _("Modules to draw questions from, e.g. 2,3,8 (see `paperkit list`).")),
    ] = None,
    seed: Annotated[
        str | None,
        text_option(
            "--seed",
            "N",
            _("Whole number ≥ 0; the same seed gives the same paper forever.  [default: {seed}]").format(
                seed=EXAM.seed
            ),
        ),
    ] = None,
    count: Annotated[
        str | None,
        text_option(
            "--count",
            "N",
            _("Number of questions, at most the modules' pool.  [default: {count}]").format(count=EXAM.count),
        ),
    ] = None,
    total_points: Annotated[
        str | None,
        text_option(
            "--total-points",
            "P",
            _("Total points, split evenly; the last questions take the remainder.  [default: {points}]").format(
                points=EXAM.total_points
            ),
        ),
    ] = None,
    variants: Annotated[
        str | None,
        text_option(
            "--variants",
            "K",
            _("Papers A, B, … (1–26), each with its own selection and key.  [default: {variants}]").format(
                variants=EXAM.variants
            ),
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="TEXT", help=_("Paper title.  [default: the handbook title + 测试卷]")),
    ] = None,
    course: Annotated[
        str | None, typer.Option("--course", metavar="TEXT", help=_("Course name printed under the title."))
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help=_("Exam date; left as a blank line if not given.")),
    ] = None,
    duration: Annotated[
        str | None,
        text_option(
            "--duration", "MIN", _("Exam duration in minutes.  [default: {minutes}]").format(minutes=EXAM.duration)
        ),
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            metavar="FILE.csv|FILE.xlsx",
            help=_(
                "Class list (姓名,学号[,班级]; CSV in UTF-8, GB18030/GBK or UTF-16, or an .xlsx): one named paper "
                "per student, papers-all.pdf (each paper padded to whole sheets) and keys.pdf."
            ),
        ),
    ] = None,
    paper: Annotated[
        str | None,
        typer.Option(
            "--paper",
            metavar="A4|B5|Letter|A3|B4|8K",
            help=_(
                "Paper size; A3, B4 and 8K (8开) print two columns to a landscape side (duplex: flip on the short "
                "edge, 短边翻转).  [default: {paper}]"
            ).format(paper=EXAM.page.paper),
        ),
    ] = None,
    seal_line: Annotated[
        bool | None,
        typer.Option(
            "--seal-line/--no-seal-line",
            help=_(
                "Print the 密封线 with 姓名/学号/班级 on the binding edge: left on odd pages, right on even ones, "
                "so it is outside on both sides of a sheet.  [default: off]"
            ),
            show_default=False,
        ),
    ] = None,
    parts: Annotated[
        str | None,
        text_option(
            "--parts",
            "KIND:NxP,…",
            _(
                "Typed parts, count × points each, e.g. choice:10x2,truefalse:5x2,fill:5x2,short:4x10 "
                "(the kinds are the columns of `paperkit list`); short:2x10:choose1 is a 选做题 (answer one of two), "
                "short:1x10:bonus a 附加题 (not in the 满分)."
            ),
        ),
    ] = None,
    blueprint: Annotated[
        Path | None,
        typer.Option(
            "--blueprint",
            metavar="FILE.yaml",
            help=_("The parts from a blueprint file (parts: kind, count, points; choose: 1 or bonus: true)."),
        ),
    ] = None,
    same_questions: Annotated[
        bool | None,
        typer.Option(
            "--same-questions",
            help=_("With --parts: every variant asks the same items, in its own order with its own option order."),
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            "--exclude",
            metavar="MANIFEST",
            help=_("Never reuse the items of this earlier exam (repeatable; make-ups)."),
        ),
    ] = None,
    seal_pages: Annotated[
        str | None,
        typer.Option(
            "--seal-pages",
            metavar="all|first",
            help=_(
                "With --seal-line: every page on the binding edge (left on odd, right on even pages), or page 1 only."
            ),
        ),
    ] = None,
    seal_fields: Annotated[
        str | None,
        typer.Option(
            "--seal-fields", metavar="LIST", help=_("Extra fields in the seal line, e.g. 考场号,座位号,准考证号.")
        ),
    ] = None,
    shuffle_options: Annotated[
        str | None,
        typer.Option(
            "--shuffle-options",
            metavar="variant|student",
            help=_(
                "Choice options in one order per variant, or (with --roster and --parts) per student; keys.pdf "
                "then adds a per-student answer table."
            ),
        ),
    ] = None,
    pool: Annotated[
        str | None,
        typer.Option(
            "--pool",
            metavar="|".join(POOLS),
            help=_(
                "Which items a paper draws: held back for exams (never printed in the handbook), the handbook's "
                "practice items, or all.  [default: {pool}]"
            ).format(pool=EXAM.pool),
        ),
    ] = None,
    multi_rule: Annotated[
        str | None,
        typer.Option(
            "--multi-rule",
            metavar="|".join(MULTI_RULES),
            help=_(
                "How 多选 are scored, printed under their part: half (some right, none wrong: half the points) or "
                "per-option (each right option its share, 新高考).  [default: {rule}]"
            ).format(rule=EXAM.multi_rule),
        ),
    ] = None,
    answer_sheet: Annotated[
        bool | None,
        typer.Option(
            "--answer-sheet",
            help=_(
                "Also print a 答题卡 per student (with --roster; else a blank one per variant, with a 考号 grid) "
                "for `paperkit scan` to read: sheets/… beside the papers, each after its paper in papers-all.pdf."
            ),
            show_default=False,
        ),
    ] = None,
    answer_grid: Annotated[
        bool | None,
        typer.Option(
            "--answer-grid",
            help=_("Print a 选择题答题表 (题号 | 答案) on the paper for the choice and true/false answers."),
            show_default=False,
        ),
    ] = None,
    blanks: Annotated[
        str | None,
        typer.Option(
            "--blanks",
            metavar="part|answer",
            help=_(
                "Fill-in blanks: one length for every blank of a part, so none hints at its answer's length, "
                "or each sized to its own answer.  [default: part]"
            ),
        ),
    ] = None,
    docx: Annotated[
        bool | None,
        typer.Option(
            "--docx",
            help=_(
                "Also write each variant's paper and key as a Word document to edit (paper.docx, key.docx or "
                "paper-A.docx, key-A.docx, …) beside the PDFs: the same numbering, points, options and answer space, "
                "formulas as Word equations; no seal line. With --roster: one per variant, not one per student."
            ),
            show_default=False,
        ),
    ] = None,
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from-manifest",
            metavar="FILE",
            help=_(
                "Reprint the exam a manifest.json records: the identical PDFs, or with a changed header "
                "(--title, --course, --date, --duration, --paper, --seal-line) into a folder of its own."
            ),
        ),
    ] = None,
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help=_("Folder for exams; each goes in DIR/<exam-id>/."))
    ] = DEFAULT_BUILD / "exams",
    allow_overflow: AllowOverflowOption = False,
) -> None:
    from paperkit.exam.job import build_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam, plan_from_manifest

    flags = ExamFlags(
        modules=modules,
        seed=seed,
        count=count,
        total_points=total_points,
        variants=variants,
        title=title,
        course=course,
        date=date,
        duration=duration,
        paper=paper,
        seal_line=seal_line,
        seal_pages=seal_pages,
        seal_fields=seal_fields,
        roster=roster,
        parts=parts,
        blueprint=blueprint,
        same_questions=same_questions,
        exclude=tuple(exclude) if exclude else None,
        shuffle_options=shuffle_options,
        pool=pool,
        multi_rule=multi_rule,
        answer_sheet=answer_sheet,
        answer_grid=answer_grid,
        blanks=blanks,
        docx=docx,
    )
    with reported():
        # Every option and the content are checked (the plan) before a worker process starts (the build).
        if from_manifest is not None:
            plan = plan_from_manifest(from_manifest, source, out, flags)
        else:
            plan = plan_exam(parse_exam_flags(flags), source, out)
        for warning in plan.warnings:
            warn(warning)
        if allow_overflow:
            plan = dataclasses.replace(plan, allow_overflow=True)
        progress = stderr_progress() if plan.students else None
        for path in build_exam(plan, progress=progress, parallel=True, on_overflow=warn, word=_word_files):
            if path.parent.name != "students":
                typer.echo(str(path))


def _word_files(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> list[bytes]:
    """--docx: the documents as Word files; a formula left as plain text is said once, on stderr."""
    from paperkit.export.docx import docx_files

    made = docx_files(documents)
    if made.warning:
        warn(made.warning)
    return made.files
