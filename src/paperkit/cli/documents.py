"""`handbook`, `checklist` and `preview`: the handbook as a PDF, as one page, and as a live page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from paperkit.cli.common import (
    AllowOverflowOption,
    SourceOption,
    app,
    reported,
    text_option,
    warn,
    warn_plain,
)
from paperkit.handbook.options import ANSWER_MODES, DEFAULTS, EXERCISE_MODES
from paperkit.i18n import _
from paperkit.paths import DEFAULT_BUILD, DEFAULT_SOURCE


@app.command(help=_("Write the handbook PDF: cover, checklist, contents with page numbers, modules, bookmarks."))
def handbook(
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help=_("PDF to write.")),
    ] = DEFAULT_BUILD / "handbook.pdf",
    paper: Annotated[
        str, typer.Option("--paper", metavar="A4|B5|Letter", help=_("Paper size; type and margins scale with it."))
    ] = DEFAULTS.page.paper,
    answers: Annotated[
        str,
        typer.Option(
            "--answers",
            metavar="|".join(ANSWER_MODES),
            help=_("Answers after each question, in an appendix, or left out (student edition)."),
        ),
    ] = DEFAULTS.answers,
    html: Annotated[bool, typer.Option("--html", help=_("Also write the rendered HTML beside the PDF."))] = False,
    exercises: Annotated[
        str,
        typer.Option(
            "--exercises",
            metavar="|".join(EXERCISE_MODES),
            help=_("end: each module ends with its 练习 (exam items set as on a paper), answers in an appendix."),
        ),
    ] = EXERCISE_MODES[DEFAULTS.exercises],
    docx: Annotated[
        bool,
        typer.Option(
            "--docx",
            help=_(
                "With --exercises end: also write the 练习 and their answers as a Word file to edit "
                "(handbook-exercises.docx beside the PDF); one you have edited is never replaced."
            ),
        ),
    ] = False,
    modules: Annotated[
        str | None,
        text_option("--modules", "LIST", _("A proof of only these modules, e.g. 2,3 (its page numbers are its own).")),
    ] = None,
    allow_overflow: AllowOverflowOption = False,
    jobs: Annotated[
        str | None,
        text_option(
            "--jobs", "N", _("Lay the handbook out on N processes (1: in this one).  [default: the cores, at most 4]")
        ),
    ] = None,
) -> None:
    from paperkit.handbook.options import HandbookFlags, parse_handbook_flags, parse_jobs
    from paperkit.handbook.rebuild import rebuild_from_cache

    with reported():
        flags = HandbookFlags(paper, answers, exercises, modules, allow_overflow, docx)
        options = parse_handbook_flags(flags)
        processes = parse_jobs(jobs)
        if not html and rebuild_from_cache(source, out, options, warn if allow_overflow else None, warn):
            typer.echo(str(out))  # the same bytes built before: the layout code is not even loaded
            return
        from paperkit.handbook.job import build_handbook

        written = build_handbook(
            source,
            out,
            options,
            html=html,
            on_overflow=warn if allow_overflow else None,
            jobs=processes,
            on_warning=warn,
            word=_exercises_word,
        )
        for path in written:
            typer.echo(str(path))


def _exercises_word(doc: dict[str, Any]) -> bytes:
    """--docx: the 练习 as a Word file; a formula left as plain text is said once, on stderr."""
    from paperkit.export.docx import exercises_docx

    made = exercises_docx(doc)
    if made.warning:
        warn(made.warning)
    return made.files[0]


@app.command(
    help=_(
        "Serve the handbook (and /exam?modules=2,3) as HTML on localhost, reloaded when source/ or templates/ change."
    )
)
def preview(
    source: SourceOption = DEFAULT_SOURCE,
    paper: Annotated[str, typer.Option("--paper", metavar="A4|B5|Letter", help=_("Paper size."))] = DEFAULTS.page.paper,
    port: Annotated[
        str, text_option("--port", "N", _("Port on 127.0.0.1 (0: any free one).  [default: 8000]"))
    ] = "8000",
) -> None:
    from paperkit.flags import MAX_OPTION_TEXT, check_length, parse_number
    from paperkit.preview import describe, serving
    from paperkit.render.page import geometry_for

    with reported():
        page = geometry_for(check_length("--paper", paper, MAX_OPTION_TEXT))
        with serving(source, page, parse_number("--port", port, 0, 65535), warn_plain) as (server, _preview):
            typer.echo(describe(server))
            try:
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                typer.echo(_("paperkit preview stopped."))


@app.command(help=_("Write the one-page learning checklist PDF (it shrinks and adds columns to stay on one page)."))
def checklist(
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help=_("PDF to write.")),
    ] = DEFAULT_BUILD / "checklist.pdf",
    paper: Annotated[str, typer.Option("--paper", metavar="A4|B5|Letter", help=_("Paper size."))] = DEFAULTS.page.paper,
) -> None:
    from paperkit.flags import MAX_OPTION_TEXT, check_length
    from paperkit.handbook.job import build_checklist
    from paperkit.render.page import geometry_for

    with reported():
        page = geometry_for(check_length("--paper", paper, MAX_OPTION_TEXT))
        typer.echo(str(build_checklist(source, out, page=page)))
