"""`validate`, `list`, `bank check` and `export`: commands that read the content and report on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperkit.cli.common import (
    SourceOption,
    app,
    reported,
    text_option,
    warn,
)
from paperkit.i18n import _
from paperkit.paths import DEFAULT_BUILD, DEFAULT_SOURCE


@app.command(help=_("Load and check every content file; print a summary, or every problem with its file and line."))
def validate(source: SourceOption = DEFAULT_SOURCE) -> None:
    from paperkit.report import summary_line
    from paperkit.source import open_handbook

    with reported():
        handbook = open_handbook(source)
        for note in handbook.notes:
            warn(note)
        typer.echo(summary_line(handbook))


@app.command("list", help=_("List the modules with their section and question counts (to choose exam --modules)."))
def list_modules(source: SourceOption = DEFAULT_SOURCE) -> None:
    from paperkit.report import module_table
    from paperkit.source import open_handbook

    with reported():
        for row in module_table(open_handbook(source)):
            typer.echo(row)


@app.command(
    help=_("Write the question bank (worked examples and exercises) for Moodle or another LMS, or as a Word file.")
)
def export(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="moodle|gift|qti|docx",
            help=_(
                "Moodle XML, GIFT (Moodle's text format), a QTI 2.1 content package (zip), or a Word file in the "
                "common 题库 layout that `paperkit import` reads back."
            ),
        ),
    ] = "moodle",
    modules: Annotated[
        str | None,
        text_option("--modules", "LIST", _("Modules to export, e.g. 2,3 (see `paperkit list`).  [default: all]")),
    ] = None,
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help=_(
                "File to write.  [default: build/bank-moodle.xml, build/bank-gift.txt, build/bank-qti.zip or "
                "build/bank.docx]"
            ),
        ),
    ] = None,
    pool: Annotated[
        str,
        typer.Option(
            "--pool",
            metavar="practice|exam|all",
            help=_(
                "Which items: the handbook's practice items, the ones held back for exams (keep them off a "
                "platform students can browse), or all."
            ),
        ),
    ] = "practice",
    multi_rule: Annotated[
        str,
        typer.Option(
            "--multi-rule", metavar="half|per-option", help=_("How 多选 grades are split (see `exam --help`).")
        ),
    ] = "half",
) -> None:
    from paperkit.exam.options import POOLS
    from paperkit.export import ExportOptions, build_export, parse_format
    from paperkit.flags import parse_choice, parse_module_list
    from paperkit.questions.rules import MULTI_RULES, Rules

    with reported():
        export_format = parse_format(fmt)
        chosen = parse_module_list(modules) if modules is not None else None
        options = ExportOptions(
            parse_choice("--pool", pool, POOLS, "pool"),
            Rules(parse_choice("--multi-rule", multi_rule, MULTI_RULES, "rule")),
        )
        target = out if out is not None else DEFAULT_BUILD / export_format.filename
        typer.echo(str(build_export(source, target, export_format, chosen, options)))


bank_app = typer.Typer(
    help=_("Check the question bank against the item-writing rules."), no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(bank_app, name="bank")


@bank_app.command(
    "check",
    help=_("Lint the bank: cues (longest option, absolute words, lopsided keys), leaks, duplicates, missing fields."),
)
def bank_check(
    source: SourceOption = DEFAULT_SOURCE,
    modules: Annotated[
        str | None,
        text_option(
            "--modules",
            "LIST",
            _("Only these modules' items, e.g. 2,3 (pairs with other modules count).  [default: all]"),
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help=_("Exit 1 when there is any finding (for CI)."))] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help=_("Print the findings, summary and thresholds as JSON."))
    ] = False,
) -> None:
    from paperkit.flags import parse_module_list
    from paperkit.report import bank_report
    from paperkit.source import open_handbook

    with reported():
        chosen = parse_module_list(modules) if modules is not None else None
        lines, failed = bank_report(open_handbook(source), chosen, as_json=as_json, strict=strict)
        for line in lines:
            typer.echo(line)
        if failed:
            raise typer.Exit(1)
