"""Figures in the content (issue 29, point 1): `![caption](figures/x.svg){width=40% right}` in any text field,
checked when the content is read (inside figures/, the type its bytes say, size, a sanitary SVG, resolution),
numbered 图 1 … on the page, and served to WeasyPrint from memory (it never reads a teacher's file)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import MODULE_YAML, write_handbook
from paperkit.errors import ContentError
from paperkit.source import open_handbook
from paperkit.text.figures import figure_image, parse_options
from paperkit.text.markup import plain_text, render_inline, visible_text

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
    '<rect x="5" y="5" width="110" height="50" fill="none" stroke="black"/>'
    '<line x1="5" y1="30" x2="115" y2="30" stroke="black"/></svg>'
)


def png(width: int, height: int) -> bytes:
    """A grey PNG of this size, made here (no binary file of unknown origin in the repository)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def source_with(tmp_path: Path, overview: str, files: dict[str, bytes]) -> Path:
    module = MODULE_YAML.replace("overview: 概述文字，含公式 $O(S^2)$。", f"overview: '{overview}'")
    source = write_handbook(tmp_path, {"01-first.yaml": module})
    (source / "figures").mkdir()
    for name, data in files.items():
        (source / "figures" / name).write_bytes(data)
    return source


def test_a_figure_is_read_kept_and_drawn_from_memory(tmp_path: Path) -> None:
    source = source_with(
        tmp_path,
        "电路如图所示：![串联电路](figures/circuit.svg){width=40mm right}，电流处处相等。",
        {"circuit.svg": SVG.encode()},
    )
    handbook = open_handbook(source)
    text = handbook.sections[0].overview
    assert "figures/circuit.svg" not in text and "(formula:fig-" in text
    uri = text.split("(")[1].split(")")[0]
    assert figure_image(uri) == SVG.encode()
    html = str(render_inline(text))
    assert f'<span class="fig fig-right" style="width:40mm"><img src="{uri}" alt="串联电路">' in html
    assert '<span class="fig-caption">串联电路</span>' in html
    assert visible_text(text) == "电路如图所示：串联电路，电流处处相等。"  # the caption's glyphs are checked
    assert plain_text(text) == "电路如图所示：串联电路，电流处处相等。"


@pytest.mark.parametrize(
    ("reference", "files", "message"),
    [
        ("![图](figures/none.svg)", {}, "figure 'figures/none.svg': no such file in"),
        ("![图](../secret.svg)", {}, "figure '../secret.svg': give a file of the source's figures/ folder"),
        ("![图](modules/01-first.yaml)", {}, "give a file of the source's figures/ folder"),
        ("![图](figures/a.gif)", {"a.gif": b"GIF89a"}, "expected an .svg, .png or .jpg file"),
        ("![图](figures/a.png)", {"a.png": SVG.encode()}, "its name says PNG but its bytes are SVG"),
        ("![图](figures/a.svg)", {"a.svg": SVG.replace("<rect", "<script>x()</script><rect").encode()}, "<script>"),
        ("![图](figures/a.svg)", {"a.svg": SVG.replace("<rect", '<rect onclick="x()"').encode()}, "onclick="),
        (
            "![图](figures/a.svg)",
            {"a.svg": SVG.replace("<rect", '<image href="http://example.com/x.png"/><rect').encode()},
            "refers to 'http://example.com/x.png'",
        ),
        (
            "![图](figures/a.svg)",
            {
                "a.svg": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>'
            },
            "DOCTYPE or entities",
        ),
        ("![图](figures/a.svg){width=400mm}", {"a.svg": SVG.encode()}, "figure width 400mm is out of range"),
        ("![图](figures/a.svg){left}", {"a.svg": SVG.encode()}, "figure option 'left' is not one of"),
    ],
)
def test_a_bad_figure_is_named_by_file_line_and_field(
    tmp_path: Path, reference: str, files: dict[str, bytes], message: str
) -> None:
    source = source_with(tmp_path, f"如图：{reference}", files)
    with pytest.raises(ContentError) as caught:
        open_handbook(source)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1 and message in problems[0], problems
    assert problems[0].startswith(f"{source}/modules/01-first.yaml:7:13: sections[0].overview: ")


def test_a_link_out_of_the_figures_folder_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "secret.svg"
    outside.write_text(SVG, encoding="utf-8")
    source = source_with(tmp_path, "![图](figures/a.svg)", {})
    (source / "figures" / "a.svg").symlink_to(outside)
    with pytest.raises(ContentError) as caught:
        open_handbook(source)
    assert "figure 'figures/a.svg': a link out of the source folder is not read" in str(caught.value.problems[0])


def test_a_soft_raster_is_a_warning_naming_the_pixels_it_needs(tmp_path: Path) -> None:
    source = source_with(
        tmp_path,
        "![小图](figures/small.png){width=50mm} ![清晰](figures/sharp.png){width=20mm}",
        {"small.png": png(200, 100), "sharp.png": png(300, 150)},
    )
    handbook = open_handbook(source)
    assert handbook.notes == (
        f"{source}/modules/01-first.yaml:7:13: sections[0].overview: figure 'figures/small.png' is 200 pixels wide: "
        "102 dpi at 50mm, under the 300 dpi a printed figure needs (give it 591 pixels or print it smaller)",
    )


def test_options_parse() -> None:
    assert parse_options("width=40% right").place == "right"
    assert parse_options("").width == "60%"
    assert parse_options("width=30mm").width_mm == 30
    assert parse_options("width=50%").width_mm == 85


def test_a_handbook_prints_its_figures_numbered_and_embedded_once(tmp_path: Path) -> None:
    from paperkit.handbook.job import build_handbook

    body = (
        "![电路图](figures/circuit.svg){width=40%} 再看照片：![照片](figures/photo.png){width=20mm right} "
        "同上：![电路图](figures/circuit.svg){width=30%} ![](figures/photo.png){width=10mm inline}"
    )
    source = source_with(tmp_path, body, {"circuit.svg": SVG.encode(), "photo.png": png(300, 200)})
    out = tmp_path / "handbook.pdf"
    build_handbook(source, out)
    reader = PdfReader(out)
    text = "".join(page.extract_text() for page in reader.pages)
    # Numbered by module (图 1-1 …), so a handbook laid out in parts numbers them as one laid out whole.
    assert "图 1-1\u3000电路图" in text and "图 1-2\u3000照片" in text and "图 1-3\u3000电路图" in text
    assert "图 1-4" not in text  # an inline figure, and one without a caption, is not numbered
    images = {
        (obj.get_object()["/Width"], obj.get_object()["/Height"])
        for page in reader.pages
        for obj in (page["/Resources"].get("/XObject") or {}).values()
        if obj.get_object().get("/Subtype") == "/Image"
    }
    assert images == {(300, 200)}
    import pikepdf

    with pikepdf.open(out) as pdf:  # every object of the file, not only those the pages name
        pictures = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
    assert len(pictures) == 1  # used twice, embedded once


def test_a_paper_prints_the_figure_of_its_question_and_validate_warns_of_a_soft_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    from paperkit.exam.job import build_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam

    module = MODULE_YAML.replace("q: 问题一？", "q: '如图，![电路](figures/c.png){width=30mm right}电流多大？'")
    source = write_handbook(tmp_path, {"01-first.yaml": module})
    (source / "figures").mkdir()
    (source / "figures" / "c.png").write_bytes(png(200, 120))
    plan = plan_exam(parse_exam_flags(ExamFlags(modules="1", count="1", pool="all")), source, tmp_path / "out")
    assert plan.warnings[0].endswith(
        "169 dpi at 30mm, under the 300 dpi a printed figure needs (give it 354 pixels or print it smaller)"
    )
    folder = build_exam(plan)[0].parent
    for name in ("paper.pdf", "key.pdf"):
        page = PdfReader(folder / name).pages[0]
        shown = [o.get_object() for o in (page["/Resources"].get("/XObject") or {}).values()]
        assert [(o["/Width"], o["/Height"]) for o in shown if o.get("/Subtype") == "/Image"] == [(200, 120)], name
    paperkit = Path(sys.executable).with_name("paperkit")
    done = subprocess.run([paperkit, "validate", "--source", str(source)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.startswith("warning: ") and "169 dpi" in done.stderr


def test_a_handbook_in_parts_numbers_figures_as_one_laid_out_whole(tmp_path: Path) -> None:
    from paperkit.handbook.job import render_handbook, render_handbook_in_parts
    from paperkit.handbook.options import DEFAULTS

    second = MODULE_YAML.replace("id: 1\n", "id: 2\n").replace("'1.1'", "'2.1'").replace("1.1.q1", "2.1.q1")
    modules = {
        "01-first.yaml": MODULE_YAML.replace(
            "overview: 概述文字，含公式 $O(S^2)$。", "overview: '![甲图](figures/a.svg)'"
        ),
        "02-second.yaml": second.replace("overview: 概述文字，含公式 $O(S^2)$。", "overview: '![乙图](figures/a.svg)'"),
    }
    source = write_handbook(tmp_path, modules)
    (source / "figures").mkdir()
    (source / "figures" / "a.svg").write_text(SVG, encoding="utf-8")
    handbook = open_handbook(source)
    for rendered in (render_handbook(handbook, DEFAULTS), render_handbook_in_parts(handbook, DEFAULTS, 2)):
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
        assert "图 1-1\u3000甲图" in text and "图 2-1\u3000乙图" in text


def test_an_image_written_as_code_or_escaped_stays_text(tmp_path: Path) -> None:
    source = source_with(tmp_path, "Markdown 的图片写作 `![说明](图片地址)`，或 \\![说明](地址)。", {})
    text = open_handbook(source).sections[0].overview  # no figure problem: neither is a figure
    html = str(render_inline(text)).replace("\u2005", " ")  # the quarter em between Chinese and Latin
    assert html == "Markdown 的图片写作 <code>![说明](图片地址)</code>，或 ![说明](地址)。"


def test_an_export_carries_the_figure_and_the_table(tmp_path: Path) -> None:
    from paperkit.export.common import inline_html

    source = source_with(tmp_path, "看图：![电路](figures/c.svg){width=30mm}", {"c.svg": SVG.encode()})
    html = inline_html(open_handbook(source).sections[0].overview)
    assert html.startswith('看图：<img src="data:image/svg+xml;base64,') and 'alt="电路" />' in html
    assert "formula:" not in html
    table = inline_html("数据：\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert table == "数据：<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
