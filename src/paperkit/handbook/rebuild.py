"""A handbook built before from the same bytes: the whole build's result from paperkit's cache.

As make skips a target whose inputs have not changed, a rebuild whose source files (by content), options and
build (paperkit's code, templates, fonts, libraries) are those of a build before writes that build's PDF without
reading the YAML, checking it or laying anything out; what that build said (a figure that prints soft, text past
the page edge) is said again. The entry is verified like every cache entry (its key and checksum) and must be a
whole PDF; like the rest of the cache, it is trusted as far as the user's own files are.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paperkit.cache import cache_dir, cache_key, prune_cached, read_cached, write_cached
from paperkit.content.files import source_files
from paperkit.handbook.options import HandbookOptions
from paperkit.i18n import current_language
from paperkit.output import check_output, write_atomic
from paperkit.render.fingerprint import build_fingerprint
from paperkit.text.figures import KINDS, MAX_FIGURE_BYTES

BUILT_CACHE = "handbook-built"
MAX_BUILT = 8  # about 1 MB each: the last few handbooks and editions


@dataclass(frozen=True)
class Built:
    """A build's PDF and what it said: the notes on its content and the text past the page edge (if allowed)."""

    pdf: bytes
    notes: tuple[str, ...] = ()
    overflow: str = ""


def rebuild_from_cache(
    source: Path,
    out: Path,
    options: HandbookOptions,
    on_overflow: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> bool:
    """Write `out` from the build kept for these source bytes and options and say what that build said: True; False
    when none is kept (--docx writes more than the PDF: always built). Needs none of the layout code (0.15 s to
    import), so the CLI asks before loading it."""
    if options.docx:
        return False
    check_output(out, inputs=[source])
    key = build_key(source, options)
    built = cached_build(key) if key else None
    if built is None:
        return False
    if on_warning is not None:
        for note in built.notes:
            on_warning(note)
    if built.overflow and on_overflow is not None:
        on_overflow(f"{out}: {built.overflow}")
    write_atomic(out, built.pdf)
    return True


def build_key(source: Path, options: HandbookOptions) -> str | None:
    """The key of everything a handbook build's bytes and messages come from; None when a source file cannot be
    read (the build then says what is wrong) or there is no cache to keep builds in."""
    if cache_dir() is None:
        return None
    try:
        files = _files_digest(source)
    except (OSError, ValueError):
        return None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    # The messages name files relative to the working folder, in the language spoken.
    said = f"{os.getcwd()}\0{source}\0{current_language()}"
    return cache_key(BUILT_CACHE, build_fingerprint(), repr(options), epoch, said, files)


# The source files' digest by what identifies them now (each file's name, size, time and whether it is a link): a
# build asks for its key before and after it lays the handbook out, and the CLI once before that.
_DIGESTS: OrderedDict[tuple[object, ...], str] = OrderedDict()


def _files_digest(source: Path) -> str:
    paths = source_files(source)
    stats = [(path, path.lstat(), path.stat()) for path in paths]
    stamp = (os.path.realpath(source), *((str(p), ln.st_mode, st.st_size, st.st_mtime_ns) for p, ln, st in stats))
    if stamp in _DIGESTS:
        return _DIGESTS[stamp]
    digest = hashlib.sha256()
    for path, link, info in stats:
        name = path.relative_to(source)
        # A figure that is a link is refused by the reader however its bytes read: a link is not the same source.
        kind = "link" if stat.S_ISLNK(link.st_mode) else "file"
        digest.update(f"{name}\0{kind}\0".encode() + _file_digest(path, info, figure=name.parts[0] == "figures"))
    _DIGESTS[stamp] = digest.hexdigest()
    while len(_DIGESTS) > 4:
        _DIGESTS.popitem(last=False)
    return _DIGESTS[stamp]


def _file_digest(path: Path, info: os.stat_result, figure: bool) -> bytes:
    """A file's content digest; a file that can never print (not a figure's kind, or larger than a figure may be)
    by its size and time only: a 1 GB scan kept beside the figures is not read at every build."""
    if figure and (path.suffix.lower() not in KINDS or info.st_size > MAX_FIGURE_BYTES):
        return f"{info.st_size} {info.st_mtime_ns}".encode()
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def cached_build(key: str) -> Built | None:
    """The build kept under `key`, or None (absent, or not a well-formed entry: then the handbook is built)."""
    raw = read_cached(BUILT_CACHE, key)
    if raw is None:
        return None
    head, _, pdf = raw.partition(b"\n")
    try:
        data = json.loads(head)
        notes = tuple(str(note) for note in data["notes"])
        overflow = str(data["overflow"])
    except (ValueError, TypeError, KeyError):
        return None
    if not pdf.startswith(b"%PDF-") or not pdf.rstrip().endswith(b"%%EOF"):
        return None
    return Built(pdf, notes, overflow)


def keep_build(key: str, built: Built) -> None:
    """Store a build under `key`, keeping the cache to its size."""
    head = json.dumps({"notes": list(built.notes), "overflow": built.overflow}, ensure_ascii=False, sort_keys=True)
    write_cached(BUILT_CACHE, key, head.encode() + b"\n" + built.pdf)
    prune_cached(BUILT_CACHE, MAX_BUILT)
