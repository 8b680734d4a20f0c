"""`import`: a teacher's Word 题库 (.docx) into a module of the handbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperkit.cli.common import SourceOption, app, reported, text_option, warn
from paperkit.i18n import _
from paperkit.paths import DEFAULT_SOURCE


@app.command(
    "import",
    help=_(
        "Read a Word 题库 (.docx: 「1．题干」, 「A．…」, 【答案】【解析】【考点】【难度】) into a new module "
        "file, or into a section with --module and --section; every paragraph it cannot place is listed and "
        "nothing is written unless --partial."
    ),
)
def import_docx(
    file: Annotated[Path, typer.Argument(metavar="FILE.docx", help=_("The Word file to read."), show_default=False)],
    source: SourceOption = DEFAULT_SOURCE,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help=_("The new module file to write.  [default: SOURCE/modules/NN-<file name>.yaml]"),
        ),
    ] = None,
    module: Annotated[
        str | None, text_option("--module", "N", _("Add the items to this module (with --section) instead."))
    ] = None,
    section: Annotated[
        str | None, text_option("--section", "ID", _("The section of --module the items go into, e.g. 2.1."))
    ] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help=_("Write the questions it placed even when some paragraphs were not."))
    ] = False,
) -> None:
    from paperkit.errors import UsageError
    from paperkit.wordin import ImportOptions, import_word

    with reported():
        number = None
        if module is not None:
            if not module.strip().isdigit():
                raise UsageError(_("--module {value}: expected a module number").format(value=module))
            number = int(module)
        done = import_word(file, source, ImportOptions(out, number, section, partial))  # UnplacedError: listed
        for line in done.report:
            warn(_("not placed: {line}").format(line=line))
        for note in done.notes:
            warn(note)
        typer.echo(done.summary, err=True)
        typer.echo(str(done.target))
