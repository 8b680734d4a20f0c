"""Shared fixtures: the real content, and a tiny handbook written into tmp_path to break on purpose."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest

# Tests (and the paperkit processes they start) use a cache of their own, never the user's; it goes at exit.
_CACHE = tempfile.TemporaryDirectory(prefix="paperkit-test-cache-")
os.environ["PAPERKIT_CACHE_DIR"] = _CACHE.name
# Messages in English whatever the machine's locale; the Chinese ones are tested by asking for them.
os.environ["PAPERKIT_LANG"] = "en"

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source"


def same_build(a: Path, b: Path) -> bool:
    """Whether two exam outputs are the same bytes; a manifest.json may differ only in where its handbook is
    seen from (`source`, relative to the folder it was written to), which must name the same folder."""
    if a.name != "manifest.json":
        return a.read_bytes() == b.read_bytes()
    import json

    first, second = json.loads(a.read_text(encoding="utf-8")), json.loads(b.read_text(encoding="utf-8"))
    if (a.parent / first.pop("source")).resolve() != (b.parent / second.pop("source")).resolve():
        return False
    return first == second


HANDBOOK_YAML = """\
title: 小手册
date: '2026-01-18'
language: zh-CN
usage: 按顺序学习。
"""

MODULE_YAML = """\
id: 1
title: 第一模块
objective: 学会基础。
sections:
- id: '1.1'
  title: 第一节
  overview: 概述文字，含公式 $O(S^2)$。
  must_know:
  - 要点一
  tips:
  - 提示一
  pitfalls:
  - 误区一
  examples:
  - id: 1.1.q1
    q: 问题一？
    a: 答案一。
"""


@pytest.fixture(scope="session")
def handbook():
    """The bundled handbook, loaded and validated once per session (tests never change it)."""
    from paperkit.source import open_handbook

    return open_handbook(SOURCE)


# The bundled handbook laid out once per session in one process, by answer mode (the three modes also cover
# the three papers): test_handbook reads them all, test_errata the A4 one.
HANDBOOK_VARIANTS = {"inline": "A4", "none": "B5", "end": "Letter"}


@pytest.fixture(scope="session")
def rendered_handbooks():
    from paperkit.handbook.job import render_handbook
    from paperkit.handbook.options import HandbookOptions
    from paperkit.render.page import geometry_for
    from paperkit.source import open_handbook

    handbook = open_handbook(SOURCE)
    return {
        answers: render_handbook(handbook, HandbookOptions(geometry_for(paper), answers))
        for answers, paper in HANDBOOK_VARIANTS.items()
    }


def write_handbook(root: Path, modules: dict[str, str] | None = None, handbook: str = HANDBOOK_YAML) -> Path:
    """Write a handbook under root/source and return that directory."""
    source = root / "source"
    (source / "modules").mkdir(parents=True, exist_ok=True)
    (source / "handbook.yaml").write_text(handbook, encoding="utf-8")
    for name, text in (modules if modules is not None else {"01-first.yaml": MODULE_YAML}).items():
        (source / "modules" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return source


@pytest.fixture
def tiny_source(tmp_path: Path) -> Path:
    """A minimal valid handbook in tmp_path/source."""
    return write_handbook(tmp_path)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with tmp_path as the working directory (so paths print as source/...)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# The unit tier (`make test-unit`) is every test that lays out no PDF and starts no paperkit process. These
# files lay out PDFs throughout; the tests named below do in files that are otherwise quick. A test marked
# slow renders too. Found by running the suite with WeasyPrint's layout refused (PAPERKIT_DISCOVER_RENDERS=1).
RENDER_FILES = {
    "test_assemble.py",
    "test_checklist.py",
    "test_cli.py",
    "test_docx.py",
    "test_exam_pdf.py",
    "test_faults.py",
    "test_handbook.py",
    "test_parts.py",
    "test_pdf.py",
    "test_preview.py",
    "test_print_polish.py",
    "test_readme_commands.py",
    "test_recalc.py",
    "test_repro.py",
    "test_scan.py",
}
RENDER_FIXTURES = {"ab", "raw_build"}  # fixtures that build PDFs: a test using one renders
RENDER_TESTS = {
    "test_incremental.py::test_a_file_saved_while_the_handbook_is_built_keeps_no_build",
    "test_incremental.py::test_a_rebuild_from_the_cache_does_not_load_the_layout_code",
    "test_incremental.py::test_a_rebuild_from_the_same_bytes_writes_the_last_build_without_reading_the_source",
    "test_export.py::test_exporting_twice_gives_identical_bytes",  # its .docx case runs pandoc twice on the bank
    "test_errors.py::test_a_bom_roster_with_empty_lines_builds",
    "test_errors.py::test_a_symbolic_link_is_written_through",
    "test_errors.py::test_allow_overflow_prints_it_anyway_with_a_warning_naming_the_page",
    "test_errors.py::test_long_words_long_formulas_and_wide_formulas_stay_on_the_page",
    "test_errors.py::test_what_cannot_be_broken_is_an_error_naming_the_page",
    "test_errors.py::test_raw_html_builds_without_opening_anything_else",
    "test_exam_parts.py::test_a_blueprint_exam_reprints_byte_for_byte",
    "test_harden_marking.py::test_an_analysis_the_teacher_edited_is_kept",
    "test_harden_output.py::test_a_reprint_replaces_the_folder_its_manifest_came_from_byte_for_byte",
    "test_marking.py::test_a_class_of_45_from_sheet_to_report",
    "test_figures.py::test_a_handbook_prints_its_figures_numbered_and_embedded_once",
    "test_docs.py::test_the_physics_example_in_the_format_doc_validates_and_prints",  # three exams, A4, A3, a class
    "test_group.py::test_a_group_prints_once_with_its_sub_questions_on_the_paper_the_key_and_the_answer_sheet",
    "test_figures.py::test_a_paper_prints_the_figure_of_its_question_and_validate_warns_of_a_soft_one",
    "test_figures.py::test_a_handbook_in_parts_numbers_figures_as_one_laid_out_whole",
    "test_incremental.py::test_a_one_module_edit_lays_out_one_part_and_gives_a_cold_builds_bytes",
    "test_tables.py::test_a_paper_and_its_key_print_the_table",
    "test_incremental.py::test_a_parts_key_is_the_same_in_every_process",
    "test_incremental.py::test_formulas_drawn_ahead_on_every_core_are_the_ones_drawn_in_place",
    "test_markup.py::test_the_paragraph_end_rule_reads_only_the_text_after_the_last_tag",
    "test_material.py::test_a_paper_prints_the_material_once_before_its_chain",
    "test_optional_parts.py::test_the_paper_says_how_each_part_counts",
    "test_optional_parts.py::test_the_engine_totals_the_best_choice_and_leaves_the_bonus_out",
    "test_practice.py::test_a_paper_per_student_and_one_print_file",
    # pandoc converts the formulas (a process each): the Word round trip and the samples with an equation
    "test_wordin.py::test_the_bundled_bank_comes_back_field_by_field",
    "test_wordin.py::test_a_physics_module_with_formulas_figures_and_a_table_comes_back",
    "test_wordin.py::test_paragraphs_it_cannot_place_are_listed_and_nothing_is_written",
    "test_wordin.py::test_partial_writes_the_rest_with_the_equation_as_tex_and_the_picture_in_figures",
    "test_kinds.py::test_every_exporter_writes_every_kind",
}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The unit tier (`-m "not render"`) does not even import the files that only render."""
    if "not render" in (config.getoption("markexpr") or "") and collection_path.name in RENDER_FILES:
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that renders (see RENDER_FILES) `render`, so `-m "not render"` is the unit tier."""
    for item in items:
        name = item.nodeid.split("/")[-1].split("[")[0]
        renders = set(getattr(item, "fixturenames", ())) & RENDER_FIXTURES
        if name.split("::")[0] in RENDER_FILES or name in RENDER_TESTS or renders or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.render)


@pytest.fixture(autouse=True)
def _discover_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PAPERKIT_DISCOVER_RENDERS=1 any layout fails: the tests that fail are the ones that render."""
    if os.environ.get("PAPERKIT_DISCOVER_RENDERS"):
        from paperkit.render import pdf

        def refuse(*args: object, **kwargs: object) -> None:
            raise SystemError("RENDERED")

        monkeypatch.setattr(pdf, "lay_out", refuse)
