"""Pipe tables in content texts (issue 29, point 3): 实验数据 in a stem, laid out as a table on papers, keys and
the handbook, its shape checked with the field's file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MODULE_YAML, write_handbook
from paperkit.errors import ContentError
from paperkit.source import open_handbook
from paperkit.text.markup import inline_problems, plain_text, render_inline, visible_text
from paperkit.text.tables import Table, split_tables
from pdftext import page_texts, squash

DATA = """某同学测得数据如下：
| 次数 | 电压 $U$/V | 电流 $I$/A |
|---|:---:|---:|
| 1 | 1.5 | 0.30 |
| 2 | 3.0 | 0.60 |
根据数据，电阻约为"""


def test_a_pipe_table_is_split_from_its_text() -> None:
    pieces = split_tables(DATA)
    assert pieces == [
        "某同学测得数据如下：",
        Table(
            ("次数", "电压 $U$/V", "电流 $I$/A"),
            ("left", "center", "right"),
            (("1", "1.5", "0.30"), ("2", "3.0", "0.60")),
        ),
        "根据数据，电阻约为",
    ]
    assert split_tables("a | b\n| not a table |") == ["a | b\n| not a table |"]  # no delimiter row: text


def test_a_table_renders_as_cells_and_reads_as_its_cells() -> None:
    html = str(render_inline(DATA))
    assert html.count('<span class="tr">') == 3 and html.count('<span class="td"') == 6
    assert (
        '<span class="th" style="text-align:center">电压\u2005<span class="math"><var>U</var></span>/V</span>' in html
    )
    assert html.startswith('某同学测得数据如下：<br><span class="data-table">') and html.endswith(
        "<br>根据数据，电阻约为"
    )
    assert (
        visible_text(DATA) == "某同学测得数据如下：\n次数 电压 U/V 电流 I/A 1 1.5 0.30 2 3.0 0.60\n根据数据，电阻约为"
    )
    assert "次数" in plain_text(DATA) and "|" not in plain_text(DATA)
    escaped = str(render_inline("| <b>x</b> |\n|---|\n| <i> |"))  # cells are escaped like any text
    assert '<span class="th" style="text-align:left">&lt;b&gt;x&lt;/b&gt;</span>' in escaped and "<i>" not in escaped


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("| a | b |\n|---|---|\n| 1 |", "table row 1 has 1 cells, the header 2"),
        ("| a | b |\n|---|\n| 1 | 2 |", "the table's delimiter row has 1 cells, its header 2"),
        ("|" + "x|" * 13 + "\n" + "|---" * 13 + "|", "a table of 13 columns does not fit a page; at most 12"),
    ],
)
def test_a_misshapen_table_is_a_problem(table: str, message: str) -> None:
    assert inline_problems(table) == [message]


def test_a_misshapen_table_names_its_file_line_and_field(tmp_path: Path) -> None:
    module = MODULE_YAML.replace("a: 答案一。", "a: |-\n      | a | b |\n      |---|---|\n      | 1 |")
    with pytest.raises(ContentError) as caught:
        open_handbook(write_handbook(tmp_path, {"01-first.yaml": module}))
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "sections[0].examples[0].a: table row 1 has 1 cells, the header 2"
    ]


def test_a_paper_and_its_key_print_the_table(tmp_path: Path) -> None:
    from paperkit.exam.job import build_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam

    stem = "\n".join("      " + line for line in DATA.split("\n"))
    module = MODULE_YAML.replace("q: 问题一？", f"q: |-\n{stem}")
    source = write_handbook(tmp_path, {"01-first.yaml": module})
    plan = plan_exam(parse_exam_flags(ExamFlags(modules="1", count="1", pool="all")), source, tmp_path / "out")
    folder = build_exam(plan)[0].parent
    for name in ("paper.pdf", "key.pdf"):
        text = squash("".join(page_texts(folder / name)))
        assert "某同学测得数据如下：次数电压U/V电流I/A11.50.3023.00.60根据数据，电阻约为" in text, name
