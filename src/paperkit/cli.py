"""The `paperkit` command: parse options, call one library function, report PaperkitError in one line."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from paperkit.errors import ContentError, PaperkitError, ScoreSheetError, UsageError
from paperkit.paths import DEFAULT_BUILD, DEFAULT_SOURCE

app = typer.Typer(
    help="Turn a structured handbook (YAML under source/) into print-ready PDFs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SourceOption = Annotated[
    Path,
    typer.Option(
        "--source", metavar="DIR", help="Handbook directory (handbook.yaml + modules/*.yaml).", show_default=True
    ),
]

AllowOverflowOption = Annotated[
    bool,
    typer.Option(
        "--allow-overflow",
        help="Print text that runs past the page edge anyway, with a warning naming the page (else it is an error).",
    ),
]


@contextmanager
def _reported() -> Iterator[None]:
    """Turn paperkit's own errors into their message lines on stderr and the error's exit code."""
    try:
        yield
    except (ContentError, ScoreSheetError) as error:
        for line in error.lines():
            typer.echo(line, err=True)
        raise typer.Exit(error.exit_code) from None
    except PaperkitError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        # Typer would turn Ctrl-C into a silent exit 130; say what happened (outputs are written only at the end).
        typer.echo("interrupted; nothing was written.", err=True)
        raise typer.Exit(130) from None


@app.command()
def validate(source: SourceOption = DEFAULT_SOURCE) -> None:
    """Load and check every content file; print a summary, or every problem with its file and line."""
    from paperkit.report import summary_line
    from paperkit.source import open_handbook

    with _reported():
        typer.echo(summary_line(open_handbook(source)))


@app.command("list")
def list_modules(source: SourceOption = DEFAULT_SOURCE) -> None:
    """List the modules with their section and question counts (to choose exam --modules)."""
    from paperkit.report import module_table
    from paperkit.source import open_handbook

    with _reported():
        for row in module_table(open_handbook(source)):
            typer.echo(row)


@app.command()
def handbook(
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="PDF to write.")] = DEFAULT_BUILD / "handbook.pdf",
    paper: Annotated[
        str, typer.Option("--paper", metavar="A4|B5|Letter", help="Paper size; type and margins scale with it.")
    ] = "A4",
    answers: Annotated[
        str,
        typer.Option(
            "--answers",
            metavar="inline|end|none",
            help="Answers after each question, in an appendix, or left out (student edition).",
        ),
    ] = "inline",
    html: Annotated[bool, typer.Option("--html", help="Also write the rendered HTML beside the PDF.")] = False,
    exercises: Annotated[
        str,
        typer.Option(
            "--exercises",
            metavar="none|end",
            help="end: each module ends with its 练习 (exam items set as on a paper), answers in an appendix.",
        ),
    ] = "none",
    modules: Annotated[
        str | None,
        _text_option("--modules", "LIST", "A proof of only these modules, e.g. 2,3 (its page numbers are its own)."),
    ] = None,
    allow_overflow: AllowOverflowOption = False,
    jobs: Annotated[
        str | None,
        _text_option(
            "--jobs", "N", "Lay the handbook out on N processes (1: in this one).  [default: the cores, at most 4]"
        ),
    ] = None,
) -> None:
    """Write the handbook PDF: cover, checklist, contents with page numbers, modules, bookmarks."""
    from paperkit.exam.options import parse_module_list, parse_whole
    from paperkit.handbook.job import build_handbook
    from paperkit.handbook.parts import default_jobs
    from paperkit.render.page import geometry_for

    with _reported():
        if exercises not in ("none", "end"):
            raise UsageError(f"--exercises {exercises}: unknown mode; choose one of none, end")
        page = geometry_for(paper)
        chosen = parse_module_list(modules) if modules is not None else None
        processes = parse_whole("--jobs", jobs, 1, 64) if jobs is not None else default_jobs()
        written = build_handbook(
            source,
            out,
            page=page,
            answers=answers,
            html=html,
            exercises=exercises == "end",
            modules=chosen,
            on_overflow=_warn if allow_overflow else None,
            jobs=processes,
        )
        for path in written:
            typer.echo(str(path))


@app.command()
def preview(
    source: SourceOption = DEFAULT_SOURCE,
    paper: Annotated[str, typer.Option("--paper", metavar="A4|B5|Letter", help="Paper size.")] = "A4",
    port: Annotated[str, _text_option("--port", "N", "Port on 127.0.0.1 (0: any free one).  [default: 8000]")] = "8000",
) -> None:
    """Serve the handbook (and /exam?modules=2,3) as HTML on localhost, reloaded when source/ or templates/ change."""
    from paperkit.exam.options import parse_whole
    from paperkit.preview import describe, serving
    from paperkit.render.page import geometry_for

    with _reported():
        page = geometry_for(paper)
        with serving(source, page, parse_whole("--port", port, 0, 65535), _warn_plain) as (server, _):
            typer.echo(describe(server))
            try:
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                typer.echo("paperkit preview stopped.")


def _warn_plain(line: str) -> None:
    typer.echo(line, err=True)


@app.command()
def checklist(
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="PDF to write.")] = DEFAULT_BUILD / "checklist.pdf",
    paper: Annotated[str, typer.Option("--paper", metavar="A4|B5|Letter", help="Paper size.")] = "A4",
) -> None:
    """Write the one-page learning checklist PDF (it shrinks and adds columns to stay on one page)."""
    from paperkit.handbook.job import build_checklist
    from paperkit.render.page import geometry_for

    with _reported():
        typer.echo(str(build_checklist(source, out, page=geometry_for(paper))))


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _text_option(flag: str, metavar: str, help_text: str):
    # Numbers are taken as text and parsed by the library, so a bad value gets paperkit's one-line message.
    return typer.Option(flag, metavar=metavar, help=help_text)


@app.command()
def exam(
    modules: Annotated[
        str | None,
        _text_option("--modules", "LIST", "Modules to draw questions from, e.g. 2,3,8 (see `paperkit list`)."),
    ] = None,
    seed: Annotated[
        str | None,
        _text_option("--seed", "N", "Whole number ≥ 0; the same seed gives the same paper forever.  [default: 0]"),
    ] = None,
    count: Annotated[
        str | None, _text_option("--count", "N", "Number of questions, at most the modules' pool.  [default: 10]")
    ] = None,
    total_points: Annotated[
        str | None,
        _text_option(
            "--total-points", "P", "Total points, split evenly; the last questions take the remainder.  [default: 100]"
        ),
    ] = None,
    variants: Annotated[
        str | None,
        _text_option("--variants", "K", "Papers A, B, … (1–26), each with its own selection and key.  [default: 1]"),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", metavar="TEXT", help="Paper title.  [default: the handbook title + 测试卷]")
    ] = None,
    course: Annotated[
        str | None, typer.Option("--course", metavar="TEXT", help="Course name printed under the title.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Exam date; left as a blank line if not given.")
    ] = None,
    duration: Annotated[
        str | None, _text_option("--duration", "MIN", "Exam duration in minutes.  [default: 120]")
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            metavar="FILE.csv",
            help="Class list (姓名,学号[,班级]; UTF-8): one named paper per student, papers-all.pdf, keys.pdf.",
        ),
    ] = None,
    paper: Annotated[
        str | None, typer.Option("--paper", metavar="A4|B5|Letter", help="Paper size.  [default: A4]")
    ] = None,
    seal_line: Annotated[
        bool | None,
        typer.Option(
            "--seal-line/--no-seal-line",
            help="Print the 密封线 with 姓名/学号/班级 along the left margin of every page.  [default: off]",
            show_default=False,
        ),
    ] = None,
    parts: Annotated[
        str | None,
        _text_option(
            "--parts",
            "KIND:NxP,…",
            "Typed parts, count × points each, e.g. choice:10x2,truefalse:5x2,fill:5x2,short:4x10 "
            "(the kinds are the columns of `paperkit list`).",
        ),
    ] = None,
    blueprint: Annotated[
        Path | None,
        typer.Option(
            "--blueprint", metavar="FILE.yaml", help="The parts from a blueprint file (parts: kind, count, points)."
        ),
    ] = None,
    same_questions: Annotated[
        bool | None,
        typer.Option(
            "--same-questions",
            help="With --parts: every variant asks the same items, in its own order with its own option order.",
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            "--exclude", metavar="MANIFEST", help="Never reuse the items of this earlier exam (repeatable; make-ups)."
        ),
    ] = None,
    seal_pages: Annotated[
        str | None,
        typer.Option(
            "--seal-pages",
            metavar="all|first",
            help="With --seal-line: every page on the binding edge (left on odd, right on even pages), or page 1 only.",
        ),
    ] = None,
    seal_fields: Annotated[
        str | None,
        typer.Option(
            "--seal-fields", metavar="LIST", help="Extra fields in the seal line, e.g. 考场号,座位号,准考证号."
        ),
    ] = None,
    shuffle_options: Annotated[
        str | None,
        typer.Option(
            "--shuffle-options",
            metavar="variant|student",
            help="Choice options in one order per variant, or (with --roster and --parts) per student; keys.pdf "
            "then adds a per-student answer table.",
        ),
    ] = None,
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from-manifest",
            metavar="FILE",
            help="Reprint the exam a manifest.json records: the identical PDFs, or with a changed header "
            "(--title, --course, --date, --duration, --paper, --seal-line) into a folder of its own.",
        ),
    ] = None,
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder for exams; each goes in DIR/<exam-id>/.")
    ] = DEFAULT_BUILD / "exams",
    allow_overflow: AllowOverflowOption = False,
) -> None:
    """Write a randomized exam paper, its answer key and manifest.json under build/exams/<exam-id>/."""
    from paperkit.exam.job import build_exam, plan_exam, plan_from_manifest
    from paperkit.exam.options import ExamFlags, parse_exam_flags

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
    )
    with _reported():
        # Every option and the content are checked (the plan) before a worker process starts (the build).
        if from_manifest is not None:
            plan = plan_from_manifest(from_manifest, source, out, flags)
        else:
            plan = plan_exam(parse_exam_flags(flags), source, out)
        for warning in plan.warnings:
            _warn(warning)
        if allow_overflow:
            plan = dataclasses.replace(plan, allow_overflow=True)
        progress = _stderr_progress() if plan.students else None
        for path in build_exam(plan, progress=progress, parallel=True, on_overflow=_warn):
            if path.parent.name != "students":
                typer.echo(str(path))


@app.command()
def export(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="moodle|gift|qti",
            help="Moodle XML, GIFT (Moodle's text format) or a QTI 2.1 content package (zip).",
        ),
    ] = "moodle",
    modules: Annotated[
        str | None,
        _text_option("--modules", "LIST", "Modules to export, e.g. 2,3 (see `paperkit list`).  [default: all]"),
    ] = None,
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="File to write.  [default: build/bank-moodle.xml, build/bank-gift.txt or build/bank-qti.zip]",
        ),
    ] = None,
) -> None:
    """Write the question bank (worked examples and exercises) for Moodle or another LMS to import."""
    from paperkit.exam.options import parse_module_list
    from paperkit.export import build_export, parse_format

    with _reported():
        export_format = parse_format(fmt)
        chosen = parse_module_list(modules) if modules is not None else None
        target = out if out is not None else DEFAULT_BUILD / export_format.filename
        typer.echo(str(build_export(source, target, export_format, chosen)))


bank_app = typer.Typer(
    help="Check the question bank against the item-writing rules.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(bank_app, name="bank")


@bank_app.command("check")
def bank_check(
    source: SourceOption = DEFAULT_SOURCE,
    modules: Annotated[
        str | None,
        _text_option(
            "--modules", "LIST", "Only these modules' items, e.g. 2,3 (pairs with other modules count).  [default: all]"
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when there is any finding (for CI).")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings, summary and thresholds as JSON.")
    ] = False,
) -> None:
    """Lint the bank: cues (longest option, absolute words, lopsided keys), leaks, duplicates, missing fields."""
    from paperkit.exam.options import parse_module_list
    from paperkit.report import bank_report
    from paperkit.source import open_handbook

    with _reported():
        chosen = parse_module_list(modules) if modules is not None else None
        lines, failed = bank_report(open_handbook(source), chosen, as_json=as_json, strict=strict)
        for line in lines:
            typer.echo(line)
        if failed:
            raise typer.Exit(1)


ManifestArgument = Annotated[
    Path, typer.Argument(metavar="MANIFEST", help="The manifest.json that `paperkit exam` wrote beside the papers.")
]


@app.command()
def scoresheet(
    manifest: ManifestArgument,
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Folder to write to (default: the manifest's).")
    ] = None,
    rows: Annotated[
        str, _text_option("--rows", "N", "Blank rows to fill in when the exam had no roster (default 50).")
    ] = "50",
) -> None:
    """Write scores.xlsx and scores.csv: a row per student, a column per question, answers scored by the key."""
    from paperkit.exam.options import parse_whole
    from paperkit.marking.jobs import build_scoresheet

    with _reported():
        for path in build_scoresheet(manifest, source, out, parse_whole("--rows", rows, 1, 2000)):
            typer.echo(str(path))


@app.command()
def analyze(
    manifest: ManifestArgument,
    scores: Annotated[Path, typer.Argument(metavar="SCORES", help="The filled scores.xlsx or scores.csv.")],
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Folder to write to (default: the manifest's).")
    ] = None,
    passing: Annotated[str, _text_option("--pass", "PERCENT", "及格 mark in % of full marks (default 60).")] = "60",
    excellent: Annotated[
        str, _text_option("--excellent", "PERCENT", "优秀 mark in % of full marks (default 85).")
    ] = "85",
) -> None:
    """Write the 试卷分析 (analysis.pdf and analysis.json) from a filled score sheet."""
    from paperkit.exam.options import parse_whole
    from paperkit.marking.analysis import Thresholds
    from paperkit.marking.jobs import build_analysis

    with _reported():
        thresholds = Thresholds(
            parse_whole("--pass", passing, 1, 100) / 100, parse_whole("--excellent", excellent, 1, 100) / 100
        )
        written, warnings = build_analysis(manifest, scores, source, out, thresholds)
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        for path in written:
            typer.echo(str(path))


def _stderr_progress():
    """A one-line progress bar on stderr when it is a terminal; nothing otherwise (logs stay clean)."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = 30 * done // total
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rpapers [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def _click_exit(error: Exception) -> int | None:
    """The exit for Click's own exceptions (Typer vendors Click privately, so they are matched by class name):
    a usage error is one `error:` line like every other paperkit error; None for anything else."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if "NoArgsIsHelpError" in names:
        typer.echo(error.format_message())  # type: ignore[attr-defined]
        return 2
    if "UsageError" in names:
        ctx = getattr(error, "ctx", None)
        command = ctx.command_path if ctx is not None else "paperkit"
        message = error.format_message()  # type: ignore[attr-defined]
        typer.echo(f"error: {message} (see `{command} --help`)", err=True)
        return 2
    if "Exit" in names:
        return int(getattr(error, "exit_code", 0))
    if "Abort" in names:
        typer.echo("interrupted; nothing was written.", err=True)
        return 130
    return None


class Terminated(BaseException):
    """SIGTERM (a CI cancel, `kill`): unwinds like Ctrl-C, so workers stop and partial outputs are taken back."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Console entry point: run the app; an unexpected exception is reported as a bug, not a traceback."""
    import gc
    import signal

    # Layout builds millions of small objects that live until the PDF is written: with Python's default
    # thresholds the cycle collector walks them again and again (it cost a 4x formula handbook 17 % of its
    # time and made it grow faster than its pages). Fewer, larger collections; the output is the same.
    gc.set_threshold(50_000, 20, 100)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written.", err=True)
        sys.exit(130)
    except Terminated:
        typer.echo("terminated; nothing was written.", err=True)
        sys.exit(143)
    except Exception as error:  # the last line of defence: users never see a traceback
        known = _click_exit(error)
        if known is not None:
            sys.exit(known)
        if os.environ.get("PAPERKIT_DEBUG"):
            raise
        typer.echo(
            f"internal error: {type(error).__name__}: {error} "
            "(a bug in paperkit; rerun with PAPERKIT_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(70)
