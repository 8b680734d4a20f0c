"""The on-disk cache: formulas and font coverage come back identical, and a damaged entry is redrawn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperkit import cache
from paperkit.text import fonts, math


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, and no in-process memo of earlier formulas."""
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    math.render_math.cache_clear()
    fonts.covered_characters.cache_clear()
    yield tmp_path
    math.render_math.cache_clear()
    fonts.covered_characters.cache_clear()


def test_a_cached_formula_is_the_same_formula(fresh_cache: Path) -> None:
    first = math.render_math(r"\sqrt{d_k + 1}")
    (entry,) = (fresh_cache / "math").iterdir()
    math.render_math.cache_clear()
    assert math.render_math(r"\sqrt{d_k + 1}") == first
    assert entry.read_bytes().decode().endswith("</svg>")


def test_a_damaged_entry_is_drawn_again(fresh_cache: Path) -> None:
    first = math.render_math(r"\frac{a}{b}")
    (entry,) = (fresh_cache / "math").iterdir()
    entry.write_bytes(b"<svg broken")
    math.render_math.cache_clear()
    assert math.render_math(r"\frac{a}{b}") == first
    assert entry.read_bytes().decode().endswith("</svg>")


def test_an_edited_entry_is_never_trusted(fresh_cache: Path) -> None:
    # A well-formed SVG that says something else ("HACKED" in place of the formula) is not what was stored.
    first = math.render_math(r"\frac{a}{b}")
    (entry,) = (fresh_cache / "math").iterdir()
    head, _, body = entry.read_bytes().partition(b"\n")
    hacked = body.replace(b"</svg>", b'<text x="0" y="0">HACKED</text></svg>')
    entry.write_bytes(head + b"\n" + hacked)
    math.render_math.cache_clear()
    assert math.render_math(r"\frac{a}{b}") == first
    assert b"HACKED" not in entry.read_bytes()


def test_font_coverage_is_cached_and_identical(fresh_cache: Path) -> None:
    covered = fonts.covered_characters()
    assert ord("的") in covered and 0x2005 in covered
    fonts.covered_characters.cache_clear()
    assert fonts.covered_characters() == covered
    assert len(list((fresh_cache / "fonts").iterdir())) == 1


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", "off")
    cache.write_cached("math", "k", b"x")
    assert cache.read_cached("math", "k") is None


def _within(seconds: float, call):
    """call() in a thread: its result, or a failure if it is still running after `seconds` (a FIFO blocks)."""
    import threading

    result: list = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked on a cache entry"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_a_link_to_a_device_in_the_cache_is_ignored(fresh_cache: Path) -> None:
    """Issue 31 row 8: a FIFO as the parts hint hung the handbook; a link to /dev/zero read until MemoryError."""
    first = math.render_math(r"\frac{c}{d}")
    (entry,) = (fresh_cache / "math").iterdir()
    entry.unlink()
    os.mkfifo(entry)
    math.render_math.cache_clear()
    assert _within(10, lambda: math.render_math(r"\frac{c}{d}")) == first
    assert entry.is_file()  # drawn again and stored as a file in the FIFO's place
    hint = fresh_cache / "handbook-parts" / ("0" * 64)
    hint.parent.mkdir()
    hint.symlink_to("/dev/zero")
    assert _within(10, lambda: cache.read_cached("handbook-parts", "0" * 64)) is None
    fifo = fresh_cache / "handbook-parts" / ("1" * 64)
    os.mkfifo(fifo)
    assert _within(10, lambda: cache.read_cached("handbook-parts", "1" * 64)) is None


def test_an_entry_over_the_size_limit_is_not_read(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.write_cached("math", "k" * 64, b"x" * 2000)
    assert cache.read_cached("math", "k" * 64) == b"x" * 2000
    monkeypatch.setattr(cache, "MAX_ENTRY", 1000)
    assert cache.read_cached("math", "k" * 64) is None
