"""Incremental handbook builds (issue 32): a part laid out before with the same context, numbers and build comes
from paperkit's cache, so an edit to one module lays out only its part, and the PDF is byte for byte a cold
build's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SOURCE
from paperkit.cache import prune_cached, write_cached
from paperkit.content.models import Handbook
from paperkit.handbook.context import handbook_document
from paperkit.handbook.options import DEFAULTS
from paperkit.handbook.parts import (
    PART_CACHE,
    LaidPart,
    Numbers,
    cached_part,
    keep_part,
    lay_out_in_parts,
    part_count,
    part_key,
    split,
)
from paperkit.render.assemble import join_parts
from paperkit.render.workers import lazy_engine
from paperkit.source import open_handbook

OVERVIEW = "overview: "


def _edit(source: Path, index: int, mark: str = "。") -> None:
    """An author's typo fix: one character more in module `index`'s first overview."""
    path = sorted((source / "modules").glob("*.yaml"))[index]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(OVERVIEW, OVERVIEW + mark, 1), encoding="utf-8")


def _keys(handbook: Handbook) -> list[str | None]:
    context = handbook_document(handbook, DEFAULTS).context
    runs = part_count(handbook, DEFAULTS.page)
    return [part_key(context, DEFAULTS, part, Numbers()) for part in split(handbook, runs)]


def test_an_edit_changes_only_its_own_parts_key(tmp_path: Path) -> None:
    copy = tmp_path / "source"
    shutil.copytree(SOURCE, copy)
    before = _keys(open_handbook(copy))
    assert len(before) >= 3 and None not in before and len(set(before)) == len(before)
    _edit(copy, 13)  # the last module: the last run of modules (which also holds the appendices)
    after = _keys(open_handbook(copy))
    assert [b == a for b, a in zip(before, after, strict=True)] == [True] * (len(before) - 1) + [False]
    _edit(copy, 0)  # the first module: the first run; the front matter prints only titles and stays
    again = _keys(open_handbook(copy))
    assert again[0] == before[0] and again[1] != before[1]


def test_a_parts_key_is_the_same_in_every_process(tmp_path: Path) -> None:
    # A frozenset's order (the part's anchors) changes with the string hash seed: the key must not.
    code = (
        "from pathlib import Path; from test_incremental import _keys; from paperkit.source import open_handbook;"
        f"print(_keys(open_handbook(Path({str(SOURCE)!r}))))"
    )
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "tests")}
        seen.add(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)
    assert len(seen) == 1 and "None" not in seen.pop()


def test_a_cached_part_that_is_not_well_formed_is_laid_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    good = LaidPart(Numbers(), b"%PDF-1.7 stand-in", 3, {"m-1": 0, "s-1.1": 2}, ((2, "a long word"),))
    keep_part("k", good)
    assert cached_part("k", Numbers()) == good
    for value in (
        b'{"pages": 3, "anchors": {"m-1": 7}, "beyond": []}\n%PDF-1.7',  # an anchor past its pages
        b'{"pages": 0, "anchors": {}, "beyond": []}\n%PDF-1.7',
        b'{"pages": 3}\n%PDF-1.7',
        b'{"pages": 3, "anchors": {}, "beyond": []}\n<html>',  # not a PDF
        b"not json\n%PDF-1.7",
    ):
        write_cached(PART_CACHE, "k", value)
        assert cached_part("k", Numbers()) is None, value


def test_the_parts_cache_keeps_only_the_latest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    for n in range(10):
        write_cached(PART_CACHE, f"k{n}", b"x")
        os.utime(tmp_path / PART_CACHE / f"k{n}", ns=(n * 10**9, n * 10**9))
    prune_cached(PART_CACHE, 4)
    assert sorted(p.name for p in (tmp_path / PART_CACHE).iterdir()) == ["k6", "k7", "k8", "k9"]


def _build(source: Path) -> tuple[bytes, int, bool]:
    """The handbook as the parts path builds it: its PDF, how many layouts came from the cache, and whether any
    worker was started."""
    handbook = open_handbook(source)
    runs = part_count(handbook, DEFAULTS.page)
    with lazy_engine(2) as engine:
        laid = lay_out_in_parts(handbook, DEFAULTS, engine, runs)
    return join_parts([part.pdf for part in laid.parts], laid.numbers), laid.reused, engine.started


def test_a_one_module_edit_lays_out_one_part_and_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "source"
    shutil.copytree(SOURCE, copy)
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path / "warm"))
    first, reused, _ = _build(copy)
    parts = len(split(open_handbook(copy), part_count(open_handbook(copy), DEFAULTS.page)))
    assert reused == 0
    _edit(copy, 13)
    edited, reused, _ = _build(copy)
    assert edited != first
    assert reused == parts - 1  # the front matter and the other runs of modules come from the cache
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path / "cold"))
    cold, reused, _ = _build(copy)
    assert reused == 0 and cold == edited
    again, reused, started = _build(copy)  # nothing changed: every part and the page numbers from the cache
    assert again == cold and reused == parts and not started


def test_formulas_drawn_ahead_on_every_core_are_the_ones_drawn_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperkit.text import drawn
    from paperkit.text.math import draw_ahead

    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    texs = [rf"\frac{{{n}}}{{{n + 1}}} \sqrt{{x_{{{n}}}}}" for n in range(drawn.DRAW_AHEAD_MIN)]
    texs += ["x^2", r"\frac{1}{", r"\notacommand{x}"]  # set as text; left for validation to report (twice)
    assert draw_ahead(texs, 2) == drawn.DRAW_AHEAD_MIN + 1  # the unknown command is tried, and fails there
    assert len(list((tmp_path / "math").iterdir())) == drawn.DRAW_AHEAD_MIN
    assert all(drawn.drawn_svg(tex)[0] == drawn._draw_svg(tex) for tex in texs[:5])
    assert draw_ahead(texs, 2) == 0  # all drawn: nothing to start processes for
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", "off")
    assert draw_ahead(texs, 2) == 0  # without a cache, drawing ahead would be lost


def test_parts_joined_before_are_taken_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from paperkit.handbook.job import _joined

    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def join(parts: list[bytes], numbers: bytes) -> bytes:
        calls.append(len(parts))
        return b"%PDF-" + b"|".join(parts) + numbers

    assert _joined([b"a", b"b"], b"n", join) == b"%PDF-a|bn" and calls == [2]
    assert _joined([b"a", b"b"], b"n", join) == b"%PDF-a|bn" and calls == [2]  # the same parts: not joined again
    assert _joined([b"a", b"c"], b"n", join) == b"%PDF-a|cn" and calls == [2, 2]  # a part changed: joined


def test_a_rebuild_from_the_same_bytes_writes_the_last_build_without_reading_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PdfReader

    from paperkit.handbook import job
    from test_figures import png, source_with

    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path / "cache"))
    source = source_with(tmp_path, "![小图](figures/small.png){width=50mm}", {"small.png": png(200, 100)})
    said: list[str] = []
    first = job.build_handbook(source, tmp_path / "a.pdf", on_warning=said.append)[0].read_bytes()
    assert len(said) == 1 and "102 dpi at 50mm" in said[0]

    def unread(path: Path) -> None:
        raise AssertionError("the source was read again")

    with monkeypatch.context() as patched:
        patched.setattr(job, "open_handbook", unread)
        again = job.build_handbook(source, tmp_path / "b.pdf", on_warning=said.append)[0].read_bytes()
        assert again == first and said[1] == said[0]  # the same bytes, and the soft figure said again
        for change in (
            lambda: (source / "figures" / "small.png").write_bytes(png(201, 100)),  # a figure's bytes
            lambda: (source / "modules" / "02-more.yaml").write_text("id: 2\n", encoding="utf-8"),  # a new module
        ):
            change()
            with pytest.raises(AssertionError, match="read again"):
                job.build_handbook(source, tmp_path / "c.pdf")
            (source / "modules" / "02-more.yaml").unlink(missing_ok=True)
    (source / "figures" / "small.png").write_bytes(png(200, 100))
    assert job.build_handbook(source, tmp_path / "d.pdf")[0].read_bytes() == first  # back as it was: cached
    path = source / "modules" / "01-first.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("第一节", "第一小节"), encoding="utf-8")
    edited = job.build_handbook(source, tmp_path / "e.pdf")[0]
    assert "第一小节" in "".join(page.extract_text() for page in PdfReader(edited).pages)


def test_a_kept_build_that_is_not_well_formed_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from paperkit.handbook.rebuild import BUILT_CACHE, Built, cached_build, keep_build

    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path))
    good = Built(b"%PDF-1.7 stand-in\n%%EOF\n", ("图太小",), "第 3 页")
    keep_build("k", good)
    assert cached_build("k") == good
    for value in (
        b'{"notes": [], "overflow": ""}\n%PDF-1.7 cut short',  # no %%EOF: a half-written file is no build
        b'{"notes": [], "overflow": ""}\n<html>%%EOF',
        b'{"notes": 3, "overflow": ""}\n%PDF-1.7\n%%EOF',
        b'["notes"]\n%PDF-1.7\n%%EOF',
        b"\xff\n%PDF-1.7\n%%EOF",
    ):
        write_cached(BUILT_CACHE, "k", value)
        assert cached_build("k") is None, value


def test_a_builds_key_follows_options_files_and_language(tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from paperkit.handbook.rebuild import build_key
    from paperkit.i18n import set_language

    key = build_key(tiny_source, DEFAULTS)
    assert key is not None and key == build_key(tiny_source, DEFAULTS)
    assert build_key(tiny_source, dataclasses.replace(DEFAULTS, answers="none")) != key
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_key(tiny_source, DEFAULTS) != key
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    try:
        set_language("en")
        english = build_key(tiny_source, DEFAULTS)
        set_language("zh")
        assert english != build_key(tiny_source, DEFAULTS)  # what the build says is said in the language spoken
    finally:
        set_language(None)
    (tiny_source / "notes.txt").write_text("not read by paperkit", encoding="utf-8")
    assert build_key(tiny_source, DEFAULTS) == key  # a file the handbook is not read from changes nothing
    (tiny_source / "modules" / "01-first.yaml").chmod(0)
    if os.geteuid() != 0:  # root reads it anyway
        assert build_key(tiny_source, DEFAULTS) is None


def test_a_builds_key_reads_figures_through_linked_folders_and_skips_what_cannot_print(
    tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperkit.handbook.rebuild import build_key

    art = tiny_source / "art"
    art.mkdir()
    (art / "pic.png").write_bytes(b"\x89PNG one")
    (tiny_source / "figures").mkdir()
    (tiny_source / "figures" / "sub").symlink_to(art)  # figures/sub/pic.png is read through the link
    (art / "loop").symlink_to(tiny_source / "figures")  # a link back up is walked once
    key = build_key(tiny_source, DEFAULTS)
    from paperkit.content.files import source_files

    assert [p.name for p in source_files(tiny_source)][2:] == ["pic.png"]  # after the YAML: walked once
    (art / "pic.png").write_bytes(b"\x89PNG two")
    assert key is not None and build_key(tiny_source, DEFAULTS) != key
    key = build_key(tiny_source, DEFAULTS)
    # A scan beside the figures that can never print (not a figure's kind, or over 4 MB) is keyed by its size and
    # time, not read at every build.
    scan = tiny_source / "figures" / "raw.tif"
    scan.write_bytes(b"a" * 1000)
    os.utime(scan, ns=(10**18, 10**18))
    with_scan = build_key(tiny_source, DEFAULTS)
    assert with_scan != key
    scan.write_bytes(b"b" * 1000)
    os.utime(scan, ns=(10**18, 10**18))
    assert build_key(tiny_source, DEFAULTS) == with_scan
    monkeypatch.setenv("PAPERKIT_CACHE_DIR", "off")
    assert build_key(tiny_source, DEFAULTS) is None  # no cache: nothing to key


def test_a_rebuild_from_the_cache_does_not_load_the_layout_code(tmp_path: Path) -> None:
    from test_figures import png, source_with

    source = source_with(tmp_path, "![小图](figures/small.png){width=50mm}", {"small.png": png(200, 100)})
    argv = ["handbook", "--source", str(source), "--out", str(tmp_path / "h.pdf")]
    code = (
        "import sys; from typer.testing import CliRunner; from paperkit.cli import app;"
        f"r = CliRunner().invoke(app, {argv!r});"
        "print(r.exit_code, r.stdout.strip(), 'paperkit.handbook.job' in sys.modules, 'weasyprint' in sys.modules,"
        "'102 dpi at 50mm' in r.stderr)"
    )
    env = {**os.environ, "PAPERKIT_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    first, second = (run.stdout.split() for run in runs)
    assert first == ["0", str(tmp_path / "h.pdf"), "True", "True", "True"], runs[0].stderr
    # 0.23 s instead of 0.4 s, and the soft figure said again
    assert second == ["0", str(tmp_path / "h.pdf"), "False", "False", "True"], runs[1].stderr


def test_a_builds_key_sees_links_the_reader_refuses(tiny_source: Path, tmp_path: Path) -> None:
    # The reader refuses a figure that is a link, or lies in a folder linked from outside the source: a kept build
    # must not be served for such a source when a fresh build would refuse it.
    import shutil

    from paperkit.content.files import source_files
    from paperkit.handbook.rebuild import build_key

    images = tiny_source / "figures" / "img"
    images.mkdir(parents=True)
    (images / "a.png").write_bytes(b"\x89PNG a")
    key = build_key(tiny_source, DEFAULTS)
    outside = tmp_path / "elsewhere"
    shutil.move(images, outside)
    images.symlink_to(outside)  # the same names and bytes, now out of the source
    assert build_key(tiny_source, DEFAULTS) != key
    assert not [p for p in source_files(tiny_source) if "a.png" in p.name]  # and not walked (/usr/share is 70,000)
    images.unlink()
    shutil.move(outside, images)
    assert build_key(tiny_source, DEFAULTS) == key
    (images / "b.png").write_bytes(b"\x89PNG b")
    with_b = build_key(tiny_source, DEFAULTS)
    (images / "b.png").unlink()
    (images / "b.png").symlink_to(images / "a.png")  # a figure that is a link, even to a figure of the source
    (images / "a.png").write_bytes(b"\x89PNG b")
    assert build_key(tiny_source, DEFAULTS) not in (key, with_b)


def test_a_file_saved_while_the_handbook_is_built_keeps_no_build(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperkit.handbook import job

    monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(tmp_path / "cache"))
    module = tiny_source / "modules" / "01-first.yaml"
    read = job.open_handbook

    def saved_meanwhile(source: Path) -> object:
        handbook = read(source)
        module.write_text(module.read_text(encoding="utf-8").replace("第一节", "改过的节"), encoding="utf-8")
        return handbook

    monkeypatch.setattr(job, "open_handbook", saved_meanwhile)
    job.build_handbook(tiny_source, tmp_path / "a.pdf")
    assert not (tmp_path / "cache" / "handbook-built").exists() or not any(
        (tmp_path / "cache" / "handbook-built").iterdir()
    )
