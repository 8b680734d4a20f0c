"""The on-disk cache: formulas and font coverage come back identical, and a damaged entry is redrawn."""

from __future__ import annotations

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
