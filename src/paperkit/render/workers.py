"""Render worker processes: forked once per build, each loading WeasyPrint and the fonts once."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

WORKERS = 2  # the machine paperkit is measured on has two cores; see README, Performance


def _die_with_parent() -> None:
    """A worker ends when its parent does (even when the parent is killed), and leaves Ctrl-C to the parent."""
    import signal

    # The terminal sends Ctrl-C to the whole process group: the parent stops the workers and reports it once
    # (a worker catching it printed its own traceback).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's SIGTERM handler (cli.main) came with the fork; a worker told to stop just stops.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent's own handler still stops them
        pass


def _warm_up() -> None:
    import gc

    from paperkit.render.pdf import _font_config, isolate_fonts

    _die_with_parent()
    # A worker renders one small document after another: the default collector keeps its memory low (the CLI's
    # larger thresholds, inherited through fork, pay off only for one large document).
    gc.set_threshold(700, 10, 10)
    isolate_fonts()  # before WeasyPrint loads fontconfig
    importlib.import_module("weasyprint")
    _font_config()


@contextmanager
def start_engine(workers: int = WORKERS) -> Iterator[ProcessPoolExecutor]:
    """Render worker processes (each loads WeasyPrint and the fonts once); start them only once the job is checked."""
    import gc

    # What the parent holds (a validated handbook, a test session's documents) is frozen out of the collector:
    # a worker's collections would otherwise walk it and copy every page of it that fork shared.
    gc.freeze()
    engine = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=_warm_up)
    for _ in range(workers):
        engine.submit(int)  # workers start on the first submit; start them all now, to warm up together
    try:
        yield engine
    except BaseException:
        # Ctrl-C: stop the workers now rather than after their current document (no public handle for it).
        for process in list(getattr(engine, "_processes", {}).values()):
            process.terminate()
        engine.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        gc.unfreeze()
    engine.shutdown()
