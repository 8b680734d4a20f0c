"""What a build's bytes depend on beyond its content and options, as one digest: the keys of paperkit's caches of
laid-out parts, joined parts and whole builds. Light to import: a rebuild from the cache needs nothing else."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from paperkit.paths import ASSETS, FONTS, TEMPLATES


@functools.cache
def build_fingerprint() -> str:
    """What a build depends on beyond its content and options: paperkit's code, messages, templates, fonts and
    assets, and the versions of the libraries that read, lay out, draw and join it (files by content; fonts by size
    and time, to skip reading 17 MB)."""
    from importlib.metadata import version

    # Everything that turns content into bytes and messages: the YAML reader, the templates' engine, the markup and
    # math renderers, the layout engine and what it draws with (fonts, CSS, images, text shaping), the join.
    libraries = ["weasyprint", "pydyf", "jinja2", "markdown-it-py", "mdit-py-plugins", "ziamath", "latex2mathml"]
    libraries += ["ziafont", "fonttools", "tinycss2", "cssselect2", "pillow", "markupsafe", "pyyaml", "pikepdf"]
    shaping = f"pango {_pango_version()} harfbuzz {_harfbuzz_version()}"  # HarfBuzz subsets the joined fonts
    digest = hashlib.sha256(" ".join([*(f"{n} {version(n)}" for n in libraries), shaping]).encode())
    code = Path(__file__).resolve().parents[1]
    for root, pattern in ((code, "*.py"), (code, "*.mo"), (TEMPLATES, "*"), (ASSETS, "*")):
        for path in sorted(root.rglob(pattern)) if root.is_dir() else []:
            if path.is_file():
                digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes())
    for path in sorted(FONTS.glob("*")):
        info = path.stat()
        digest.update(f"{path.name} {info.st_size} {info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _harfbuzz_version() -> str:
    """The HarfBuzz the join subsets fonts with (hbsubset.py)."""
    import ctypes

    try:
        library = ctypes.CDLL("libharfbuzz.so.0")
        library.hb_version_string.restype = ctypes.c_char_p
        return str(library.hb_version_string().decode())
    except (OSError, AttributeError):
        return ""


def _pango_version() -> int:
    """The Pango WeasyPrint lays text out with (read from the library: importing WeasyPrint costs 0.5 s)."""
    import ctypes

    try:
        return int(ctypes.CDLL("libpango-1.0.so.0").pango_version())
    except (OSError, AttributeError):
        return 0
