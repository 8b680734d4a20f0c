"""Where paperkit's own files live: templates, fonts and assets beside the package's project root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


# The URL scheme of a document's formula images (formula:<hash>.svg): the PDF stage serves them from memory.
FORMULA_SCHEME = "formula:"
