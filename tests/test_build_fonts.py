"""scripts/build_fonts.py: a rebuild only ever adds characters, and the fallback faces hold the rest of GBK.

The subsetting itself needs the Noto CJK collections (Debian's fonts-noto-cjk), so the faces are not cut
here: `build_face` is replaced by a recorder, and the sets it is asked for are checked.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from conftest import ROOT


@pytest.fixture(scope="module")
def build_fonts():
    spec = importlib.util.spec_from_file_location("build_fonts", ROOT / "scripts" / "build_fonts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_fonts"] = module
    spec.loader.exec_module(module)
    return module


def test_a_rebuild_keeps_every_character_and_adds_the_extra_ones(
    build_fonts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, noto = tmp_path / "fonts", tmp_path / "noto"
    out.mkdir()
    noto.mkdir()
    for face in build_fonts.FACES:
        (noto / face.collection).write_bytes(b"")  # only their presence is checked before build_face
        if not face.fallback:
            shutil.copy(ROOT / "fonts" / face.output, out / face.output)
    asked: dict[str, frozenset[int]] = {}

    def record(face, noto_dir, out_dir, wanted, requested, all_features, hinting):
        asked[face.output] = wanted
        return build_fonts.FaceResult(
            output=out_dir / face.output,
            family=face.family,
            style="Regular",
            version="test",
            copyright="",
            code_points=len(wanted),
            glyphs=len(wanted),
            size=0,
            gb2312_missing=(),
            requested_missing=(),
            check_marks="",
        )

    monkeypatch.setattr(build_fonts, "build_face", record)
    monkeypatch.setattr(build_fonts, "write_license", lambda *args: None)
    monkeypatch.setattr(build_fonts, "write_readme", lambda *args: None)
    empty_source = tmp_path / "source"
    empty_source.mkdir()
    code = build_fonts.main(
        [
            "--output",
            str(out),
            "--noto-dir",
            str(noto),
            "--source",
            str(empty_source),
            "--extra-chars",
            "㐂",
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    shipped = set(TTFont(ROOT / "fonts" / "NotoSerifSC-Regular.otf").getBestCmap())
    main = asked["NotoSerifSC-Regular.otf"]
    # Nothing the shipped fonts have is dropped, though this run's --source has no YAML at all.
    assert shipped <= main
    assert ord("㐂") in main and ord("䶮") in main  # the new character, and one an earlier run added
    rest = asked["NotoSerifSC-Extra.otf"]
    gbk = build_fonts.gbk_code_points()
    assert rest == (gbk - main) | {0x20}  # the fallback faces: the rest of GBK
    assert all(ord(ch) in main | rest for ch in "喆堃犇淼垚")
    assert len(gbk) > 21000 and all(cp in gbk for cp in range(0x4E00, 0x9FA6))
