"""A small on-disk cache for values that are slow to derive: rendered formulas and font coverage."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from contextlib import suppress
from pathlib import Path


def cache_dir() -> Path | None:
    """The cache folder: $PAPERKIT_CACHE_DIR, else $XDG_CACHE_HOME/paperkit or ~/.cache/paperkit; None if "off"."""
    configured = os.environ.get("PAPERKIT_CACHE_DIR", "")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "paperkit"


def cache_key(*parts: str) -> str:
    """A file-name-safe key for the given parts (anything that changes the value must be a part)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# Each entry starts with a line naming its key and the SHA-256 of its value: an entry edited by hand, cut
# short or written for another key is ignored (the value is derived again), never trusted.
_HEADER = b"paperkit-cache 1 "
MAX_ENTRY = 16 * 1024 * 1024  # the largest value paperkit stores (a font's coverage) is well under 1 MB


def _header(key: str, data: bytes) -> bytes:
    return _HEADER + key.encode() + b" " + hashlib.sha256(data).hexdigest().encode() + b"\n"


def read_cached(kind: str, key: str) -> bytes | None:
    """The cached value, or None when absent, unreadable or not what was stored for this key."""
    root = cache_dir()
    if root is None:
        return None
    raw = read_regular_file(root / kind / key, MAX_ENTRY)
    if raw is None:
        return None
    head, _, data = raw.partition(b"\n")
    if head + b"\n" != _header(key, data):
        return None
    return data


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """A regular file's bytes if it has at most `limit` of them; None for anything else (absent, a symbolic link,
    a FIFO, a device, too large, unreadable)."""
    # The cache folder is writable by whoever else runs as this user: a FIFO there hung the build, a link to
    # /dev/zero read until memory ran out. Opened without following links and without blocking, checked, and
    # read no further than the limit.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_cached(kind: str, key: str, data: bytes) -> None:
    """Store a value atomically; a read-only or full disk just means no caching."""
    root = cache_dir()
    if root is None or len(data) > MAX_ENTRY:  # never read back (read_cached's limit): not worth writing
        return
    folder = root / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_header(key, data) + data)
        os.replace(tmp, folder / key)
    except OSError:
        return


def prune_cached(kind: str, keep: int) -> None:
    """Keep the `keep` most recently written entries of `kind` (a bounded cache); errors just leave it as it is."""
    root = cache_dir()
    if root is None:
        return
    try:
        entries = [
            (entry.stat(follow_symlinks=False).st_mtime_ns, entry.path)
            for entry in os.scandir(root / kind)
            if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
        ]
    except OSError:
        return
    for _, path in sorted(entries, reverse=True)[keep:]:
        with suppress(OSError):  # another build may have removed it first
            os.unlink(path)
