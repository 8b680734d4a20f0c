"""The command line's shared parts: the app, shared options, and turning paperkit's errors into one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from paperkit.errors import ListedError, PaperkitError, UsageError
from paperkit.i18n import LANGUAGES, _, language_from, language_in_argv, set_language

# Help texts are made when the commands are defined (every command module imports this one first), so `--lang`
# is read from the command line here, before them; the option's callback below sets it again for the record.
set_language(language_in_argv(sys.argv[1:]))

app = typer.Typer(
    help=_("Turn a structured handbook (YAML under source/) into print-ready PDFs."),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion: Click's own, for bash, zsh, fish
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(given: bool) -> None:
    if given:
        from paperkit import __version__
        from paperkit.content.models import CONTENT_FORMAT

        typer.echo(_("paperkit {version} (content format {format})").format(version=__version__, format=CONTENT_FORMAT))
        raise typer.Exit()


def _choose_language(value: str | None) -> None:
    if value is None:
        return
    language = language_from(value)
    if language is None:
        raise UsageError(
            _("--lang must be one of {choices}, not {value!r}").format(choices=", ".join(LANGUAGES), value=value)
        )
    set_language(language)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help=_("Print the version and the content format version, then stop."),
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="zh|en",
            help=_("Language of messages and help (else PAPERKIT_LANG, then the locale: LANG=zh_CN.UTF-8 is Chinese)."),
            callback=_choose_language,
            is_eager=True,
        ),
    ] = None,
) -> None:
    """Turn a structured handbook (YAML under source/) into print-ready PDFs."""


SourceOption = Annotated[
    Path,
    typer.Option(
        "--source", metavar="DIR", help=_("Handbook directory (handbook.yaml + modules/*.yaml)."), show_default=True
    ),
]

AllowOverflowOption = Annotated[
    bool,
    typer.Option(
        "--allow-overflow",
        help=_("Print text that runs past the page edge anyway, with a warning naming the page (else it is an error)."),
    ),
]


@contextmanager
def reported() -> Iterator[None]:
    """Turn paperkit's own errors into their message lines on stderr and the error's exit code."""
    try:
        yield
    except ListedError as error:
        for line in error.lines():
            typer.echo(line, err=True)
        raise typer.Exit(error.exit_code) from None
    except PaperkitError as error:
        typer.echo(_("error: {message}").format(message=error), err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        # Typer would turn Ctrl-C into a silent exit 130; say what happened (outputs are written only at the end).
        typer.echo(_("interrupted; nothing was written."), err=True)
        raise typer.Exit(130) from None


def warn_plain(line: str) -> None:
    typer.echo(line, err=True)


def warn(message: str) -> None:
    typer.echo(_("warning: {message}").format(message=message), err=True)


def text_option(flag: str, metavar: str, help_text: str):
    # Numbers are taken as text and parsed by the library, so a bad value gets paperkit's one-line message.
    return typer.Option(flag, metavar=metavar, help=help_text)


def stderr_progress():
    """A one-line progress bar on stderr when it is a terminal; nothing otherwise (logs stay clean)."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = 30 * done // total
        end = "\n" if done == total else ""
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write("\r" + _("papers [{bar}] {done}/{total}").format(bar=bar, done=done, total=total) + end)
        sys.stderr.flush()

    return show
