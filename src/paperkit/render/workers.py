"""Render worker processes: forked once per build, each loading WeasyPrint and the fonts once."""

from __future__ import annotations

import importlib
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager, suppress
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from paperkit.errors import WorkerError
from paperkit.i18n import _

WORKERS = 2  # the machine paperkit is measured on has two cores; see README, Performance


def _quiet_pool_wakeup() -> None:
    """CPython 3.11's process pool may wake a manager thread through a pipe that thread has just closed when the
    interpreter exits after Ctrl-C (the `_closed` check and the write race); the OSError it raises is printed as
    "Exception ignored … Bad file descriptor" after 「interrupted; nothing was written.」. The thread is ending
    anyway, so the wake-up is dropped. 3.12 takes a lock there."""
    import sys
    from concurrent.futures import process

    if sys.version_info >= (3, 12) or getattr(process._ThreadWakeup.wakeup, "_paperkit", False):
        return
    wake = process._ThreadWakeup.wakeup

    def wakeup(self: Any) -> None:
        with suppress(OSError):
            wake(self)

    wakeup._paperkit = True  # type: ignore[attr-defined]
    process._ThreadWakeup.wakeup = wakeup  # type: ignore[method-assign]


_quiet_pool_wakeup()


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
    for _worker in range(workers):
        engine.submit(int)  # workers start on the first submit; start them all now, to warm up together
    # Held here: they tell, once the pool is broken, how a worker ended (no public handle for them).
    processes = list(getattr(engine, "_processes", {}).values())
    try:
        yield engine
    except BaseException as error:
        # Ctrl-C: stop the workers now rather than after their current document.
        for process in list(getattr(engine, "_processes", {}).values()):
            process.terminate()
        engine.shutdown(wait=False, cancel_futures=True)
        # The pool's thread closes its pipes as it ends; the interpreter's exit wakes it through one of them, and
        # racing it printed "Exception ignored … Bad file descriptor" (`timeout` kills the workers as well). The
        # exit waits for that thread anyway: wait here, with the workers stopped it takes milliseconds.
        manager = getattr(engine, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=5)
        if isinstance(error, BrokenProcessPool):
            # A worker was killed (the OOM killer sends SIGKILL) or crashed: nothing of it can be trusted, and
            # the caller writes nothing; say what happened instead of the pool's error, which reads like a bug.
            raise WorkerError(
                _("a rendering worker stopped unexpectedly ({how}); nothing was written").format(
                    how=how_it_ended(processes)
                )
            ) from None
        raise
    finally:
        gc.unfreeze()
    engine.shutdown()


T = TypeVar("T")


class LazyEngine(Executor):
    """Worker processes started on the first submit: a build that finds every part in the cache starts none."""

    def __init__(self, stack: ExitStack, workers: int) -> None:
        self._stack, self._workers = stack, workers
        self._engine: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether any work went to the workers."""
        return self._engine is not None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run `fn` on a worker, starting them first if none runs yet."""
        if self._engine is None:
            self._engine = self._stack.enter_context(start_engine(self._workers))
        return self._engine.submit(fn, *args, **kwargs)


@contextmanager
def lazy_engine(workers: int = WORKERS) -> Iterator[LazyEngine]:
    """start_engine's workers, started only when the first document is submitted (and stopped as it stops them)."""
    with ExitStack() as stack:
        yield LazyEngine(stack, workers)


def how_it_ended(processes: Sequence[BaseProcess], wait: float = 1.0) -> str:
    """How a worker that ended abnormally ended, in a few words ("killed, likely out of memory")."""
    # The pool terminates the other workers once one is gone and its thread reaps them: give it a moment.
    deadline = time.monotonic() + wait
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
    codes = [p.exitcode for p in processes if p.exitcode is not None and p.exitcode != 0]
    # SIGTERM is how the pool stops the others: a worker that ended otherwise is the one that broke it.
    code = next((c for c in codes if c != -signal.SIGTERM), codes[0] if codes else None)
    if code is None:
        return _("exit status unknown")
    if code == -signal.SIGKILL:
        return _("killed, likely out of memory")
    if code > 0:
        return _("exited with status {code}").format(code=code)
    try:
        return _("killed by {signal}").format(signal=signal.Signals(-code).name)
    except ValueError:
        return _("killed by signal {number}").format(number=-code)
