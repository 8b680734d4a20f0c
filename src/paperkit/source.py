"""Open a source folder: load its YAML, check its content and every item against its kind, or say what is wrong."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from paperkit.content.files import source_files
from paperkit.content.load import read_handbook
from paperkit.content.models import Handbook, Module
from paperkit.content.validate import validate_handbook
from paperkit.content.yamlfile import display_path
from paperkit.errors import ContentError, Problem, UsageError
from paperkit.i18n import ngettext
from paperkit.questions.check import check_items


def handbook_problems(handbook: Handbook) -> list[Problem]:
    """Every problem of a loaded handbook, content and items, in file and line order."""
    return sorted(validate_handbook(handbook) + check_items(handbook))


# Handbooks opened in this process, by folder and the size and time of every file in it: a long-lived process
# (the preview, a test session) opens the same content many times; an edited file is read again.
_OPENED: OrderedDict[tuple[object, ...], Handbook] = OrderedDict()
_KEEP = 4


def _stamp(source: Path) -> tuple[object, ...] | None:
    """What identifies a source folder's content now: its path and each YAML file's size and mtime."""
    try:
        stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in source_files(source))
    except OSError:
        return None
    return (os.path.realpath(source), os.getcwd(), stats)


def open_handbook(source: Path) -> Handbook:
    """Load and validate a source directory; raise ContentError with every problem found."""
    stamp = _stamp(source)
    if stamp is not None and stamp in _OPENED:
        _OPENED.move_to_end(stamp)
        return _OPENED[stamp]
    # One run shows every problem: the files that read cleanly are checked (kinds, glyphs, ids, formulas) even
    # when another file has a YAML or field problem, so a teacher fixes them all in one round.
    handbook, problems = read_handbook(source)
    if handbook is not None:
        problems = problems + handbook_problems(handbook)
    if problems or handbook is None:
        raise ContentError(problems, display_path(source).rstrip("/") + "/")
    if stamp is not None:
        _OPENED[stamp] = handbook
        while len(_OPENED) > _KEEP:
            _OPENED.popitem(last=False)
    return handbook


def select_modules(handbook: Handbook, modules: Sequence[int] | None) -> tuple[Module, ...]:
    """The handbook's modules with these ids, in handbook order; an id that does not exist is a UsageError."""
    if modules is None:
        return handbook.modules
    known = [m.id for m in handbook.modules]
    unknown = sorted({m for m in modules if m not in known})
    if unknown:
        raise UsageError(
            ngettext(
                "--modules {given}: unknown module {unknown}; modules are {known}",
                "--modules {given}: unknown modules {unknown}; modules are {known}",
                len(unknown),
            ).format(given=",".join(map(str, modules)), unknown=", ".join(map(str, unknown)), known=_id_range(known))
        )
    return tuple(m for m in handbook.modules if m.id in modules)


def _id_range(ids: Sequence[int]) -> str:
    # Worded as `paperkit exam` words it, so both commands answer a wrong --modules alike.
    ids = sorted(ids)
    if ids and ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}"
    return ", ".join(map(str, ids))
