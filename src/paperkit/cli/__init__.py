"""The `paperkit` command: parse options, call one library function, report PaperkitError in one line.

One module per group of commands; each registers its commands on `common.app`.
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from paperkit.cli import content, documents, exam, marking, word  # noqa: F401  (each registers its commands; help lists them in this order)
from paperkit.cli.clickwords import click_message, install
from paperkit.cli.common import app
from paperkit.i18n import _, catalog_missing

__all__ = ["app", "main"]

install()


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
        message = click_message(error)
        typer.echo(_("error: {message} (see `{command} --help`)").format(message=message, command=command), err=True)
        return 2
    if "Exit" in names:
        return int(getattr(error, "exit_code", 0))
    if "Abort" in names:
        typer.echo(_("interrupted; nothing was written."), err=True)
        return 130
    return None


class Terminated(BaseException):
    """SIGTERM (a CI cancel, `kill`): unwinds like Ctrl-C, so workers stop and partial outputs are taken back."""


_stopping = False


def _on_stop_signal(signum: int, frame: object) -> None:
    """SIGTERM raises Terminated and SIGINT KeyboardInterrupt, once: later ones are ignored."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    # `timeout`, CI runners and an impatient Ctrl-C send a second signal milliseconds later: raised again, it broke
    # into the unwinding (workers being stopped, this run's files taken back) or into the interpreter's exit and
    # printed a traceback. The first one already stops everything.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if signal.getsignal(signal.SIGINT) is _on_stop_signal:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def main() -> None:
    """Console entry point: run the app; an unexpected exception is reported as a bug, not a traceback."""
    import gc

    # Layout builds millions of small objects that live until the PDF is written: with Python's default
    # thresholds the cycle collector walks them again and again (it cost a 4x formula handbook 17 % of its
    # time and made it grow faster than its pages). Fewer, larger collections; the output is the same.
    gc.set_threshold(50_000, 20, 100)
    signal.signal(signal.SIGTERM, _on_stop_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with SIGINT ignored (nohup)
        signal.signal(signal.SIGINT, _on_stop_signal)
    try:
        if catalog_missing():  # installed without `make` (which compiles the catalog): say why it is English
            typer.echo(_("warning: Chinese messages are not compiled (run make); messages are in English"), err=True)
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt:
        typer.echo(_("interrupted; nothing was written."), err=True)
        sys.exit(130)
    except Terminated:
        typer.echo(_("terminated; nothing was written."), err=True)
        sys.exit(143)
    except Exception as error:  # the last line of defence: users never see a traceback
        known = _click_exit(error)
        if known is not None:
            sys.exit(known)
        if os.environ.get("PAPERKIT_DEBUG"):
            raise
        typer.echo(
            _("internal error: {kind}: {error} (a bug in paperkit; rerun with PAPERKIT_DEBUG=1 for details)").format(
                kind=type(error).__name__, error=error
            ),
            err=True,
        )
        sys.exit(70)
