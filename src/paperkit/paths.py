"""Where paperkit's own files live: templates, fonts and assets beside the package's project root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from paperkit.i18n import _

# src/paperkit/paths.py -> the project root; PAPERKIT_HOME overrides it for relocated installs.
ROOT = Path(os.environ.get("PAPERKIT_HOME") or Path(__file__).resolve().parents[2])
TEMPLATES = ROOT / "templates"
FONTS = ROOT / "fonts"
ASSETS = ROOT / "assets"
DEFAULT_SOURCE = Path("source")
DEFAULT_BUILD = Path("build")


def file_kind(path: Path) -> str:
    """What a file that is not a regular file is, in a message's words ('a directory', 'a named pipe (FIFO)')."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        return _("a directory")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("a device")
    if stat.S_ISFIFO(mode):
        return _("a named pipe (FIFO)")
    if stat.S_ISSOCK(mode):
        return _("a socket")
    return _("not a regular file")


# The URL scheme of a document's formula images (formula:<hash>.svg): the PDF stage serves them from memory.
FORMULA_SCHEME = "formula:"
