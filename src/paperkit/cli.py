"""The `paperkit` command: parse options, call one library function, report PaperkitError in one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .errors import ContentError, PaperkitError
from .paths import DEFAULT_SOURCE

app = typer.Typer(
    help="Turn a structured handbook (YAML under source/) into print-ready PDFs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SourceOption = Annotated[
    Path,
    typer.Option("--source", metavar="DIR", help="Handbook directory (handbook.yaml + modules/*.yaml).", show_default=True),
]


@contextmanager
def _reported() -> Iterator[None]:
    """Turn paperkit's own errors into their message lines on stderr and the error's exit code."""
    try:
        yield
    except ContentError as error:
        for line in error.lines():
            typer.echo(line, err=True)
        raise typer.Exit(error.exit_code) from None
    except PaperkitError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None


@app.command()
def validate(source: SourceOption = DEFAULT_SOURCE) -> None:
    """Load and check every content file; print a summary, or every problem with its file and line."""
    from .report import summary_line
    from .validate import open_handbook

    with _reported():
        typer.echo(summary_line(open_handbook(source)))


@app.command("list")
def list_modules(source: SourceOption = DEFAULT_SOURCE) -> None:
    """List the modules with their section and question counts (to choose exam --modules)."""
    from .report import module_table
    from .validate import open_handbook

    with _reported():
        for row in module_table(open_handbook(source)):
            typer.echo(row)


def main() -> None:
    """Console entry point: run the app; an unexpected exception is reported as a bug, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written.", err=True)
        sys.exit(130)
    except Exception as error:  # the last line of defence: users never see a traceback
        if os.environ.get("PAPERKIT_DEBUG"):
            raise
        typer.echo(f"internal error: {type(error).__name__}: {error} (a bug in paperkit; rerun with PAPERKIT_DEBUG=1 for details)", err=True)
        sys.exit(70)
