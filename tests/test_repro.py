"""Reproducible output: the same inputs give byte-identical PDFs, in another process and another folder.

No clock and no path of the machine may reach a PDF: documents are dated by their content (the
handbook's date, an exam's --date) or SOURCE_DATE_EPOCH, and the /ID is derived from the document.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import ROOT, SOURCE
from paperkit.errors import RenderError

pytestmark = pytest.mark.slow  # renders whole handbooks

MODULES = ("02-transformer.yaml", "03-objectives.yaml")
ROSTER = "\ufeff姓名,学号,班级\n张三,2024001,一班\n李四,2024002,一班\n王五,2024003,二班\n"

# One script, run in this process and in a fresh interpreter: every kind of PDF paperkit writes.
BUILD_ALL = textwrap.dedent(
    """
    from pathlib import Path
    import shutil
    from paperkit.cache import cache_dir
    from paperkit.handbook import parts, rebuild
    from paperkit.handbook.job import build_checklist, build_handbook
    from paperkit.handbook.options import HandbookOptions
    from paperkit.exam.job import build_exam
    from paperkit.exam.plan import plan_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags

    source, out = Path("source"), Path("out")
    build_handbook(source, out / "handbook.pdf", HandbookOptions(answers="end"))
    parts.PART_PAGES = 1  # two modules are too few to split otherwise
    # A knob changed in this process is not in the key of a whole build kept in the cache: forget the builds.
    shutil.rmtree(cache_dir() / rebuild.BUILT_CACHE, ignore_errors=True)
    build_handbook(source, out / "handbook-parts.pdf", HandbookOptions(answers="end"), jobs=2)
    build_checklist(source, out / "checklist.pdf")
    build_exam(plan_exam(parse_exam_flags(ExamFlags(modules="2,3", seed="7", count="4")), source, out / "exams"))
    roster = ExamFlags(modules="2,3", seed="7", count="3", variants="2", roster=Path("class.csv"))
    build_exam(plan_exam(parse_exam_flags(roster), source, out / "exams"))
    """
)


def _workspace(root: Path) -> Path:
    """A small real handbook (two modules with formulas) and a roster under root."""
    (root / "source" / "modules").mkdir(parents=True)
    shutil.copy(SOURCE / "handbook.yaml", root / "source" / "handbook.yaml")
    for name in MODULES:
        shutil.copy(SOURCE / "modules" / name, root / "source" / "modules" / name)
    shutil.copytree(SOURCE / "figures", root / "source" / "figures")  # a module's figures come with it
    (root / "class.csv").write_text(ROSTER, encoding="utf-8")
    return root


def _pdfs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.pdf"))}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes], list[Path]]:
    """The same build twice: here, and in a fresh interpreter in another folder (no shared caches or paths)."""
    here = _workspace(tmp_path_factory.mktemp("here"))
    there = _workspace(tmp_path_factory.mktemp("elsewhere") / "deeper" / "folder")
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PAPERKIT_DEBUG")}
    child = subprocess.Popen([sys.executable, "-c", BUILD_ALL], cwd=there, env=env, stderr=subprocess.PIPE, text=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(here)
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        exec(BUILD_ALL, {})
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors
    return _pdfs(here / "out"), _pdfs(there / "out"), [here, there]


def test_every_kind_of_pdf_is_built(builds) -> None:
    first, _, _ = builds
    assert sorted(first) == [
        "checklist.pdf",
        "exams/m2-3_s7_n3_v2_class/keys.pdf",
        "exams/m2-3_s7_n3_v2_class/papers-all.pdf",
        "exams/m2-3_s7_n3_v2_class/students/2024001-张三.pdf",
        "exams/m2-3_s7_n3_v2_class/students/2024002-李四.pdf",
        "exams/m2-3_s7_n3_v2_class/students/2024003-王五.pdf",
        "exams/m2-3_s7_n4/key.pdf",
        "exams/m2-3_s7_n4/paper.pdf",
        "handbook-parts.pdf",
        "handbook.pdf",
    ]


def test_two_builds_are_byte_identical(builds) -> None:
    first, second, _ = builds
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def _inflated(data: bytes) -> bytes:
    """The PDF's bytes followed by every Flate stream decompressed (paths could hide in compressed streams)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            parts.append(zlib.decompressobj().decompress(data[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def test_no_paths_or_clock_times_inside(builds) -> None:
    first, _, roots = builds
    forbidden = [b"/work/", b"/tmp/", b"/root/", b"file:", str(ROOT).encode(), *(str(r).encode() for r in roots)]
    for name, data in first.items():
        everything = _inflated(data)
        assert [word for word in forbidden if word in everything] == [], name
        assert b"ModDate" not in everything, name
        dates = set(re.findall(rb"/CreationDate\s*\((D:[^)]*)\)", everything))
        # The handbook and its checklist are dated by the content; exams without --date and merged files carry none.
        dated = name.startswith(("handbook", "checklist"))
        assert dates == ({b"D:20260118"} if dated else set()), (name, dates)


def test_every_pdf_made_by_weasyprint_has_a_stable_id(builds) -> None:
    first, _, _ = builds
    for name, data in first.items():
        trailer_id = PdfReader(io.BytesIO(data)).trailer.get("/ID")
        if "papers-all" in name or "keys.pdf" in name:
            assert trailer_id is None, name  # pypdf's merge writes no /ID (it would be random)
        elif name == "handbook-parts.pdf":
            assert trailer_id is not None and len(trailer_id[0]) == 16, name  # qpdf's, a hash of the content
        else:
            assert trailer_id is not None and len(trailer_id[0]) == 32, name


def test_source_date_epoch_dates_an_undated_exam_but_not_the_handbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperkit.exam.job import build_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam
    from paperkit.handbook.job import build_handbook

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00:00 UTC
    monkeypatch.chdir(_workspace(tmp_path))
    build_exam(plan_exam(parse_exam_flags(ExamFlags(modules="3", seed="1", count="1")), Path("source"), Path("out")))
    dated = plan_exam(parse_exam_flags(ExamFlags(modules="3", seed="1", count="1", date="2026-06-20")), Path("source"))
    build_exam(dated)
    assert PdfReader("out/m3_s1_n1/paper.pdf").metadata["/CreationDate"] == "D:20260101000000Z"
    assert PdfReader(dated.out_dir / "paper.pdf").metadata["/CreationDate"] == "D:20260620"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(RenderError) as caught:
        build_handbook(Path("source"), Path("hb.pdf"))
    assert str(caught.value) == (
        "SOURCE_DATE_EPOCH=yesterday: expected a whole number of seconds since 1970-01-01 (UTC), "
        "at most 253402300799 (the end of the year 9999)"
    )
    assert not Path("hb.pdf").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "99999999999999")  # year 3,170,843: was an internal error
    with pytest.raises(RenderError) as caught:
        build_handbook(Path("source"), Path("hb.pdf"))
    assert str(caught.value).startswith("SOURCE_DATE_EPOCH=99999999999999: expected a whole number of seconds")
    assert not Path("hb.pdf").exists()


def test_the_checklist_is_dated_as_the_handbook_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 31 row 20: with SOURCE_DATE_EPOCH=0 the checklist said 1970 while the handbook used its `date`."""
    from paperkit.handbook.job import build_checklist, build_handbook
    from paperkit.source import open_handbook

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.chdir(_workspace(tmp_path))
    build_checklist(Path("source"), Path("checklist.pdf"))
    build_handbook(Path("source"), Path("handbook.pdf"))
    date = "D:" + open_handbook(Path("source")).date.replace("-", "")
    assert PdfReader("checklist.pdf").metadata["/CreationDate"] == date
    assert PdfReader("handbook.pdf").metadata["/CreationDate"] == date
