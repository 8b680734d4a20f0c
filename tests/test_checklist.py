"""The checklist PDF: exactly one page for any content that can fit, a clear error for content that cannot."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from paperkit.cli import app
from paperkit.content.models import Handbook
from paperkit.errors import RenderError
from paperkit.handbook.context import CHECKLIST_LAYOUTS, estimate_checklist_pages
from paperkit.handbook.job import render_checklist
from paperkit.render.page import PT_PER_MM, geometry_for

runner = CliRunner()


def enlarged(handbook: Handbook, times: int) -> Handbook:
    """The handbook's modules repeated `times` times under new ids (a bigger handbook of the same kind)."""
    modules = []
    for copy in range(times):
        for module in handbook.modules:
            new_id = copy * 100 + module.id
            sections = tuple(dataclasses.replace(s, id=f"{new_id}.{s.id.split('.')[1]}") for s in module.sections)
            modules.append(dataclasses.replace(module, id=new_id, sections=sections))
    return dataclasses.replace(handbook, modules=tuple(modules))


@pytest.mark.parametrize("paper", ["A4", "B5", "Letter"])
def test_our_checklist_is_one_page_of_the_paper(paper: str, handbook: Handbook) -> None:
    page = geometry_for(paper)
    reader = PdfReader(io.BytesIO(render_checklist(handbook, page).pdf))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(page.width_mm * PT_PER_MM, abs=0.5)
    text = re.sub(r"\s+", "", reader.pages[0].extract_text())
    for module in handbook.modules:
        assert str(module.id) + re.sub(r"\s+", "", module.label) in text
    for section in handbook.sections:
        assert section.id in text
    assert "姓名" in text and "完成日期" in text


def test_our_checklist_uses_the_roomiest_layout(handbook: Handbook) -> None:
    assert "run-on" not in render_checklist(handbook, geometry_for("A4")).html


def test_more_content_gets_denser_layouts_but_never_smaller_than_a_pen_needs(handbook: Handbook) -> None:
    # Half the modules fit the roomiest layout; the whole handbook on B5 needs sections run on.
    half = dataclasses.replace(handbook, modules=handbook.modules[:7])
    assert "run-on" not in render_checklist(half, geometry_for("B5")).html
    assert "run-on" in render_checklist(handbook, geometry_for("B5")).html


def test_content_that_cannot_fit_is_a_clear_error(handbook: Handbook) -> None:
    with pytest.raises(RenderError) as error:
        render_checklist(enlarged(handbook, 30), geometry_for("A4"))
    assert str(error.value) == (
        "the checklist does not fit on one A4 page: 420 modules and 1950 sections need about 20 pages "
        "even in the densest layout that keeps its tick boxes, type and date lines large enough to write in "
        "(3 columns, 72% type, sections run on); shorten the titles (short_title for modules) or split the handbook"
    )


def test_twice_our_content_is_refused_rather_than_printed_too_small(handbook: Handbook) -> None:
    with pytest.raises(RenderError, match="does not fit on one A4 page: 28 modules and 130 sections"):
        render_checklist(enlarged(handbook, 2), geometry_for("A4"))


@pytest.mark.parametrize("paper", ["A4", "B5", "Letter"])
def test_boxes_type_and_date_lines_are_large_enough_for_a_pen(paper: str, handbook: Handbook) -> None:
    from weasyprint.formatting_structure import boxes

    def walk(box):
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    def classes(box) -> list[str]:
        element = getattr(box, "element", None)
        return (element.get("class") or "").split() if element is not None else []

    laid = [b for b in walk(render_checklist(handbook, geometry_for(paper)).document.pages[0]._page_box)]
    px_per_mm = 96 / 25.4
    ticks = [b for b in laid if "box" in classes(b) and not isinstance(b, boxes.TextBox)]
    dates = [b for b in laid if "mod-date" in classes(b) and not isinstance(b, boxes.TextBox)]
    assert len(ticks) == len(handbook.modules) + len(handbook.sections)  # and none in the header row
    assert min(min(b.border_width(), b.border_height()) for b in ticks) / px_per_mm >= 3.5
    assert len(dates) == len(handbook.modules)
    assert min(b.border_width() for b in dates) / px_per_mm >= 25
    # Every text, but a formula's superscripts and subscripts (70 % of their formula, as in TeX).
    texts = [b for b in laid if isinstance(b, boxes.TextBox) and b.text.strip() and b.element_tag not in ("sub", "sup")]
    sizes = {round(b.style["font_size"] * 0.75, 2) for b in texts}
    assert min(sizes) >= 7.5, sorted(sizes)


def test_the_estimate_finds_where_to_start(handbook: Handbook) -> None:
    # The estimate only skips layouts that cannot fit; the densest layout must be the one estimated smallest.
    page = geometry_for("A4")
    estimates = [estimate_checklist_pages(handbook, layout, page) for layout in CHECKLIST_LAYOUTS]
    assert estimates[0] <= 1.1
    assert min(estimates) >= estimates[-1] - 0.05


def test_the_checklist_command(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.pdf"
    result = runner.invoke(app, ["checklist", "--source", str(tiny_source), "--out", str(out), "--paper", "letter"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert len(PdfReader(out).pages) == 1


def test_an_unknown_paper_is_a_usage_error(tiny_source: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["checklist", "--source", str(tiny_source), "--out", str(tmp_path / "c.pdf"), "--paper", "A5"]
    )
    assert result.exit_code == 2
    assert result.stderr == "error: --paper A5: unknown paper size; choose one of A4, B5, Letter\n"
    assert not (tmp_path / "c.pdf").exists()


def test_columns_are_balanced_in_reading_order() -> None:
    from paperkit.handbook.context import split_columns

    assert split_columns([1, 1, 1, 1], 2) == [2, 2]
    assert split_columns([5, 1, 1, 1, 1, 1], 2) == [1, 5]
    assert split_columns([3, 3, 3], 4) == [0, 1, 1, 1]  # fewer modules than columns: one column stays empty
    assert split_columns([2, 2, 2, 2, 2, 2], 3) == [2, 2, 2]
