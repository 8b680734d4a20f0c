"""Files a teacher works in after paperkit wrote them (score sheets, analyses): never replaced behind their back.

Each folder keeps a small record (`.paperkit-written.json`) of the SHA-256 of every such file as paperkit wrote
it. Writing one again is allowed only while it is still exactly what paperkit wrote (or what it would write
now); a file the teacher has changed — a filled score sheet, an analysis with their 试题评价 — stops the run
with one line naming `--force`, and with `--force` the old file is first kept beside it as `NAME.bakN.EXT`.
The record is input like any other file: unreadable, odd or oversized, it is treated as absent (which only
makes paperkit more careful, never less).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from paperkit.errors import OutputError
from paperkit.output import write_atomic

RECORD = ".paperkit-written.json"
RECORD_LIMIT = 256 * 1024  # a record names a handful of files; anything bigger is not ours


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record(folder: Path) -> dict[str, str]:
    """The folder's record of what paperkit wrote ({} when missing, not a regular file, too big or malformed)."""
    path = folder / RECORD
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > RECORD_LIMIT:
            return {}
        data = os.read(fd, RECORD_LIMIT + 1)
    finally:
        os.close(fd)
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}


def _file_digest(path: Path) -> str | None:
    """The SHA-256 of a regular file's bytes (None when there is none)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_since_written(files: Mapping[Path, bytes]) -> list[Path]:
    """The files among `files` that exist and are neither what paperkit last wrote there nor the new bytes."""
    changed = []
    records: dict[Path, dict[str, str]] = {}
    for path, data in files.items():
        found = _file_digest(path)
        if found is None or found == _digest(data):
            continue
        record = records.setdefault(path.parent, _record(path.parent))
        if record.get(path.name) != found:
            changed.append(path)
    return changed


def backup_name(path: Path) -> Path:
    """The first free `NAME.bakN.EXT` beside `path`."""
    number = 1
    while True:
        candidate = path.with_name(f"{path.stem}.bak{number}{path.suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        number += 1


def check_kept(files: Mapping[Path, bytes], force: bool) -> None:
    """Refuse (an OutputError, one line) to replace a file the teacher changed since paperkit wrote it, unless
    `force`."""
    changed = changed_since_written(files)
    if changed and not force:
        names = ", ".join(str(p) for p in changed)
        raise OutputError(
            f"{names} changed since paperkit wrote {'it' if len(changed) == 1 else 'them'} (the teacher's work is "
            "kept); write elsewhere with --out DIR, or give --force to replace "
            f"{'it' if len(changed) == 1 else 'them'} (the old file is kept as NAME.bak1…)"
        )


def write_kept(files: Mapping[Path, bytes], force: bool = False) -> tuple[list[Path], list[str]]:
    """Write files a teacher may then edit: checked with check_kept, changed ones backed up (with `force`), and
    each one's digest recorded, so the next run can tell paperkit's file from the teacher's. Returns the files
    written and a line per backup made."""
    check_kept(files, force)
    backups = []
    for path in changed_since_written(files):
        backup = backup_name(path)
        try:
            os.rename(path, backup)
        except OSError as error:
            raise OutputError(f"cannot keep {path} as {backup}: {error.strerror or error}") from None
        backups.append(f"{path} had changed since paperkit wrote it: kept as {backup}")
    written = []
    by_folder: dict[Path, dict[str, str]] = {}
    for path, data in files.items():
        write_atomic(path, data)
        written.append(path)
        by_folder.setdefault(path.parent, {})[path.name] = _digest(data)
    for folder, digests in by_folder.items():
        record = {**_record(folder), **digests}
        write_atomic(folder / RECORD, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    return written, backups
