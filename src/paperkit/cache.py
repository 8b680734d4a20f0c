"""A small on-disk cache for values that are slow to derive: rendered formulas and font coverage."""

from __future__ import annotations

import hashlib
import os
import tempfile
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


def _header(key: str, data: bytes) -> bytes:
    return _HEADER + key.encode() + b" " + hashlib.sha256(data).hexdigest().encode() + b"\n"


def read_cached(kind: str, key: str) -> bytes | None:
    """The cached value, or None when absent, unreadable or not what was stored for this key."""
    root = cache_dir()
    if root is None:
        return None
    try:
        raw = (root / kind / key).read_bytes()
    except OSError:
        return None
    head, _, data = raw.partition(b"\n")
    if head + b"\n" != _header(key, data):
        return None
    return data


def write_cached(kind: str, key: str, data: bytes) -> None:
    """Store a value atomically; a read-only or full disk just means no caching."""
    root = cache_dir()
    if root is None:
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
