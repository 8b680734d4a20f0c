"""Where paperkit's own files live: templates, fonts and assets beside the package's project root."""

from __future__ import annotations

import os
from pathlib import Path

# src/paperkit/paths.py -> the project root; PAPERKIT_HOME overrides it for relocated installs.
ROOT = Path(os.environ.get("PAPERKIT_HOME") or Path(__file__).resolve().parents[2])
TEMPLATES = ROOT / "templates"
FONTS = ROOT / "fonts"
ASSETS = ROOT / "assets"
DEFAULT_SOURCE = Path("source")
DEFAULT_BUILD = Path("build")
