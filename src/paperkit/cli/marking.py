"""`scoresheet`, `scan` and `analyze`: after the exam, the score sheet, the answer sheets read, the 试卷分析."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperkit.cli.common import app, reported, text_option
from paperkit.i18n import _
from paperkit.marking.options import EXCELLENT_SHARE, LOW_SHARE, PASS_SHARE, PER_STUDENT, SHEET_ROWS

ExamSourceOption = Annotated[
    Path | None,
    typer.Option(
        "--source",
        metavar="DIR",
        help=_("Handbook directory (default: the one the manifest records, found from any folder)."),
        show_default=False,
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help=_(
            "Replace files changed since paperkit wrote them (a filled sheet, an edited analysis); "
            "the old ones are kept as NAME.bak1…."
        ),
    ),
]
ManifestArgument = Annotated[
    Path,
    typer.Argument(metavar="MANIFEST", help=_("The manifest.json that `paperkit exam` wrote beside the papers.")),
]


@app.command(
    help=_("Write scores.xlsx and scores.csv: a row per student, a column per question, answers scored by the key.")
)
def scoresheet(
    manifest: ManifestArgument,
    source: ExamSourceOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help=_("Folder to write to (default: the manifest's)."))
    ] = None,
    rows: Annotated[str, text_option("--rows", "N", _("Blank rows to fill in when the exam had no roster."))] = str(
        SHEET_ROWS
    ),
    force: ForceOption = False,
) -> None:
    from paperkit.flags import parse_number
    from paperkit.marking.jobs import build_scoresheet

    with reported():
        written, kept = build_scoresheet(manifest, source, out, parse_number("--rows", rows, 1, 2000), force)
        for line in kept:
            typer.echo(_("note: {message}").format(message=line), err=True)
        for path in written:
            typer.echo(str(path))


@app.command(help=_("Write the 试卷分析 (analysis.pdf, analysis.xlsx, analysis.json) from a filled score sheet."))
def analyze(
    manifest: ManifestArgument,
    scores: Annotated[Path, typer.Argument(metavar="SCORES", help=_("The filled scores.xlsx or scores.csv."))],
    source: ExamSourceOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help=_("Folder to write to (default: the manifest's)."))
    ] = None,
    passing: Annotated[str, text_option("--pass", "PERCENT", _("及格 mark as a percentage of full marks."))] = str(
        round(PASS_SHARE * 100)
    ),
    excellent: Annotated[
        str, text_option("--excellent", "PERCENT", _("优秀 mark as a percentage of full marks."))
    ] = str(round(EXCELLENT_SHARE * 100)),
    low: Annotated[
        str, text_option("--low", "PERCENT", _("低分 line as a percentage of full marks (低分率 counts below)."))
    ] = str(round(LOW_SHARE * 100)),
    students: Annotated[
        bool, typer.Option("--students", help=_("Also write students.pdf: a 个人成绩报告 page per student."))
    ] = False,
    force: ForceOption = False,
) -> None:
    from paperkit.flags import parse_number
    from paperkit.marking.analysis import Thresholds
    from paperkit.marking.jobs import build_analysis

    with reported():
        thresholds = Thresholds(
            parse_number("--pass", passing, 1, 100) / 100,
            parse_number("--excellent", excellent, 1, 100) / 100,
            parse_number("--low", low, 1, 100) / 100,
        )
        written, warnings = build_analysis(manifest, scores, source, out, thresholds, students, force)
        for warning in warnings:
            typer.echo(_("warning: {message}").format(message=warning), err=True)
        for path in written:
            typer.echo(str(path))


@app.command(
    help=_("Read answer sheets into scores.xlsx; what needs a person is listed in review.html and review.csv.")
)
def scan(
    manifest: ManifestArgument,
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[SCAN]...",
            help=_("Scanned answer sheets: PDFs (any number of pages, any order) or photos (JPEG, PNG, HEIC)."),
            show_default=False,
        ),
    ] = None,
    source: ExamSourceOption = None,
    review: Annotated[
        Path | None,
        typer.Option("--review", metavar="CSV", help=_("A review.csv with its 更正 column filled in, to apply.")),
    ] = None,
    rows: Annotated[
        str, text_option("--rows", "N", _("Blank rows of a new score sheet (exams without a roster)."))
    ] = str(SHEET_ROWS),
) -> None:
    from paperkit.flags import parse_number
    from paperkit.marking.scan import scan as run_scan

    with reported():
        report = run_scan(manifest, inputs or [], source, review, parse_number("--rows", rows, 1, 2000))
        for line in report.lines():
            typer.echo(line, err=True)
        for path in report.written:
            typer.echo(str(path))


@app.command(
    help=_(
        "错题重练: a paper per student from the two sections they lost most on, of questions they have not seen, "
        "answers at the end; one file each and practice-all.pdf to print."
    )
)
def practice(
    manifest: ManifestArgument,
    scores: Annotated[Path, typer.Argument(metavar="SCORES", help=_("The filled scores.xlsx or scores.csv."))],
    source: ExamSourceOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help=_("Folder to write to (default: practice/ beside the manifest).")),
    ] = None,
    count: Annotated[str, text_option("--count", "N", _("Questions per student."))] = str(PER_STUDENT),
) -> None:
    from paperkit.flags import parse_number
    from paperkit.marking.practice import build_practice

    with reported():
        folder, notes = build_practice(manifest, scores, source, out, parse_number("--count", count, 1, 40))
        for note in notes:
            typer.echo(_("note: {message}").format(message=note), err=True)
        typer.echo(str(folder))
