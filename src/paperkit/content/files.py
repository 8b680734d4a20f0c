"""The files a handbook is read from, found without reading them (light to import: the rebuild check uses it)."""

from __future__ import annotations

import os
from pathlib import Path


def source_files(source: Path) -> list[Path]:
    """Every file a handbook may be read from: handbook.yaml, the modules' YAML and everything under figures/, its
    linked folders too as long as they stay in the source (OSError if unreadable)."""
    files = sorted([source / "handbook.yaml", *source.glob("modules/*.yaml"), *source.glob("modules/*.yml")])
    return [f for f in files if f.is_file()] + _figure_files(source)


def _figure_files(source: Path) -> list[Path]:
    # A figure may be read through a linked folder that stays in the source (figures/art → ../art): walked too,
    # each folder once (a link back up would loop). A folder whose link leads out of the source is not walked: the
    # reader refuses what lies there, and /usr/share is 70,000 files.
    inside = os.path.realpath(source)
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for folder, folders, names in os.walk(source / "figures", followlinks=True):
        info = os.stat(folder)
        real = os.path.realpath(folder)
        if (info.st_dev, info.st_ino) in seen or os.path.commonpath([real, inside]) != inside:
            folders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        folders.sort()
        found += [Path(folder) / name for name in sorted(names) if os.path.isfile(os.path.join(folder, name))]
    return found
