"""Every file paperkit writes goes through here: atomic files, and folders built beside their target and
swapped in under a lock, so a reader sees the old output or the new one, never half of either.

Nothing here knows what it writes; the jobs check every output first (`check_output`), then write.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from paperkit.errors import OutputError
from paperkit.i18n import _, ngettext
from paperkit.paths import ASSETS, FONTS, TEMPLATES, file_kind


def output_target(path: Path) -> Path:
    """Where writing `path` really writes: through a symbolic link to its target; only ever a regular file.

    The atomic rename would replace whatever is at the path, so a device node (`--out /dev/null` as root),
    a named pipe or a directory is refused, never turned into a regular file; a symbolic link is written
    through (its target gets the new file, the link stays).
    """
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise OutputError(_("{path} is a directory; give a file name for the output").format(path=path))
    if target.exists() and not target.is_file():
        raise OutputError(
            _("{path} is {kind}; paperkit writes only regular files, give a file name").format(
                path=path, kind=file_kind(target)
            )
        )
    return target


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file and a rename: readers see the old file or the new one."""
    path = output_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OutputError(_("cannot write {path}: {reason}").format(path=path, reason=_reason(error))) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; give it what a plain open() would (0666 less the umask), so a
        # colleague or a print server can read it.
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(_("cannot write {path}: {reason}").format(path=path, reason=_reason(error))) from None
        raise


def current_umask() -> int:
    """The process umask (read by setting it and putting it straight back)."""
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def check_output(path: Path, directory: bool = False, inputs: Sequence[Path] = ()) -> None:
    """Fail before any rendering if `path` (a file, or a folder with `directory`) cannot or must not be written.

    Never an input: not under `inputs` (the source folder, the roster, the manifest) nor paperkit's own
    templates, fonts and assets.
    """
    if not directory and path.is_dir():
        raise OutputError(_("{path} is a directory; give a file name for the output").format(path=path))
    if directory and path.exists() and not path.is_dir():
        raise OutputError(_("{path} is a file; give a folder for the output").format(path=path))
    real = Path(os.path.realpath(path))
    for given in (*inputs, TEMPLATES, FONTS, ASSETS):
        source = Path(os.path.realpath(given))
        if real == source or source in real.parents or (directory and real in source.parents):
            raise OutputError(
                _("{path} would overwrite an input ({input}); write the output somewhere else").format(
                    path=path, input=given
                )
            )
    if not directory:
        output_target(path)
    for parent in path.parents:
        if parent.is_dir():
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(
                    _("cannot write {path}: permission denied in {folder}").format(path=path, folder=parent)
                )
            return
        if parent.exists():
            raise OutputError(
                _("cannot write {path}: {parent} is a file, not a directory").format(path=path, parent=parent)
            )


def _reason(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return _("permission denied")
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        return _("a part of the path is a file, not a directory")
    if error.errno == errno.ENOSPC:
        return _("no space left on the device")
    return error.strerror or str(error)


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """A new, empty folder to build `folder` in; when the block ends it replaces `folder` in one rename (files
    the old folder had and the new one lacks are carried over). One build per folder at a time; a failed or
    interrupted build leaves nothing behind, and the old folder as it was."""
    with _parents_made(folder), _folder_lock(folder), _staging(folder) as staging:
        yield staging
        _swap_in(folder, staging)


@contextmanager
def _parents_made(folder: Path) -> Iterator[None]:
    """Make the folders above `folder` that do not exist yet; a build that fails or is interrupted removes them
    again (build/exams/ included), so it leaves nothing behind."""
    missing = [parent for parent in (folder.parent, *folder.parent.parents) if not parent.exists()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for parent in missing:  # innermost first
            try:
                parent.rmdir()
            except OSError:
                break
        raise


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One build at a time per exam folder: a second one says so at once instead of mixing its files in."""
    import fcntl

    lock = folder.parent / f".{folder.name}.lock"
    with open(lock, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(
                _("another paperkit build is writing {folder} right now; run this one when it has finished").format(
                    folder=folder
                )
            ) from None
        try:
            yield
        finally:
            # Removed while still held, so no stray file is left beside the exam folders.
            with suppress(OSError):  # gone with its folder (replaced by a file mid-build): nothing to tidy
                lock.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _staging(folder: Path) -> Iterator[Path]:
    """A new, empty folder beside `folder` to build the exam in; removed with everything in it if the build
    fails or is interrupted (Ctrl-C, SIGTERM), so nothing of the run is left and the old folder is as it was."""
    import shutil
    import tempfile

    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".new", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        yield staging
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError):
            raise OutputError(
                _("cannot write {path}: {reason}").format(path=folder, reason=error.strerror or error)
            ) from None
        if isinstance(error, OutputError):  # name the folder the user asked for, not the temporary one
            raise OutputError(str(error).replace(str(staging), str(folder))) from None
        raise


def _swap_in(folder: Path, staging: Path) -> None:
    """Put the built folder in place with renames: the folder holds the old set or the new one, never papers
    of one build with keys of another. Other files in the old folder (the teacher's scores.xlsx,
    analysis.pdf) are carried over."""
    import shutil
    import tempfile

    if not folder.is_dir():
        os.rename(staging, folder)
        return
    for kept in folder.rglob("*"):
        target = staging / kept.relative_to(folder)
        if kept.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(kept, target)
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
    os.rename(folder, retired / folder.name)
    os.rename(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)


# ---- files a teacher works in ----------------------------------------------------------------------------
# Score sheets and analyses are the teacher's to fill and edit after paperkit wrote them, so they are never
# replaced behind their back. Each folder keeps a record (`.paperkit-written.json`) of the SHA-256 of every such
# file as paperkit wrote it; writing one again is allowed only while it is still exactly that (or what paperkit
# would write now). A changed one stops the run with one line naming `--force`; with `--force` the old file is
# first kept beside it as `NAME.bakN.EXT`. The record is input like any other file: unreadable, odd or oversized
# it counts as absent, which only makes paperkit more careful, never less.

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


def carry_record(folder: Path, staging: Path) -> None:
    """Start a staged folder's record from the folder's own, so files it keeps stay known as paperkit's."""
    record = _record(folder)
    if record:
        write_atomic(staging / RECORD, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())


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
            ngettext(
                "{names} changed since paperkit wrote it (the teacher's work is kept); write elsewhere with --out DIR, "
                "or give --force to replace it (the old file is kept as NAME.bak1…)",
                "{names} changed since paperkit wrote them (the teacher's work is kept); write elsewhere with "
                "--out DIR, or give --force to replace them (the old file is kept as NAME.bak1…)",
                len(changed),
            ).format(names=names)
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
            raise OutputError(
                _("cannot keep {path} as {backup}: {reason}").format(
                    path=path, backup=backup, reason=error.strerror or error
                )
            ) from None
        backups.append(
            _("{path} had changed since paperkit wrote it: kept as {backup}").format(path=path, backup=backup)
        )
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


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every member's time: the same input gives the same bytes
_CREATED = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def fixed_zip(data: bytes, edits: Mapping[str, Callable[[bytes], bytes | None]] | None = None) -> bytes:
    """An Office file (.xlsx, .docx) with fixed member times and no created/modified times, so the same exam gives
    the same bytes; `edits` may change a member's bytes by name (None leaves the member out)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body: bytes | None = source.read(info.filename)
            if info.filename == "docProps/core.xml" and body is not None:
                body = _CREATED.sub(b"", body)
            if edits and info.filename in edits and body is not None:
                body = edits[info.filename](body)
            if body is None:
                continue
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, body)
    return out.getvalue()
