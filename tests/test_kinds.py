"""The question-kind protocol is whole: every registered kind (and a toy one a test adds) goes through loading,
the paper and the key, every exporter, the scorer, the lint and the part syntax; no code outside questions/
names a kind."""

from __future__ import annotations

import ast
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

import paperkit
from conftest import HANDBOOK_YAML, write_handbook
from paperkit.content.models import Exercise
from paperkit.exam.options import ExamOptions, PartSpec, parse_parts
from paperkit.exam.paper import key_context, make_typed_exam, paper_context
from paperkit.export import ExportFormat, export_bank
from paperkit.marking.grading import Slot, score_cell
from paperkit.questions.bank import question_bank
from paperkit.questions.fill import normal_answer
from paperkit.questions.kind import Interaction, Kind, Layout, Rules, area_field, common_view
from paperkit.questions.lint import check_bank
from paperkit.questions.registry import KINDS, register, unregister
from paperkit.render.document import render_template
from paperkit.report import kind_counts
from paperkit.source import open_handbook

# -- a toy kind, defined here and nowhere else: a term the student writes on a line (its answer is `a`) -------


def _toy_paper(q: Any, layout: Layout) -> dict[str, Any]:
    return {**common_view(q, TOY), "lines": 1}


def _toy_key(q: Any, layout: Layout) -> dict[str, Any]:
    return {**common_view(q, TOY), "answer": q.question.item.a, "rubric": []}


def _toy_judge(answer: str, key: str, points: int, rules: Rules) -> float:
    return float(points) if answer == key else 0.0


TOY = Kind(
    "term",
    required=("a",),
    allowed=("a", "points", "difficulty"),
    check=lambda item: [] if item.a.strip() else [("a", "a term needs its answer")],
    paper_view=_toy_paper,
    key_view=_toy_key,
    answer_texts=lambda item: (item.a,),
    shown_texts=lambda item: (item.q,),
    interaction=lambda item: Interaction("blanks", item.q, segments=((item.q, ()), ("", (item.a,)))),
    sheet_field=area_field,
    printed_key=lambda item, order: item.a,
    takes_answer=lambda item: True,
    normalise=lambda text, item, order: normal_answer(text),
    normal_formula=lambda cell: f"TRIM({cell})",
    sheet_key=lambda item, order: normal_answer(item.a),
    judge=_toy_judge,
    judge_formula=lambda answer, key, points, rules, options: f"IF({answer}={key},{points},0)",
    text_answers=True,
    template_name="kind-short.html.j2",  # the short answer's macros set it: stem, lines, answer
    part_label="术语题",
    instruction_label="请写出术语。",
)

# One item of every built-in kind, and of the toy, as a module file would hold them.
ITEMS = """\
  exercises:
  - {id: 1.1.c1, kind: choice, q: 选出正确项, options: [甲, 乙, 丙, 丁], answer: B, tests: [k1], difficulty: 易}
  - {id: 1.1.m1, kind: multi, q: 选出正确的几项, options: [甲, 乙, 丙, 丁], answer: AC, tests: [k1], difficulty: 中}
  - {id: 1.1.t1, kind: truefalse, q: 这句话是对的。, answer: 'true', why: 因为如此。, tests: [k1], difficulty: 易}
  - {id: 1.1.f1, kind: fill, q: '填入 [[答案|answer]]。', tests: [k1], difficulty: 易}
  - {id: 1.1.s1, kind: short, q: 说明原因？, a: 因为如此。, tests: [k1], difficulty: 难}
  - {id: 1.1.x1, kind: term, q: 这个概念叫什么？, a: 注意力头, tests: [k1], difficulty: 中}
"""

MODULE = """\
id: 1
title: 第一模块
objective: 学会基础。
sections:
- id: '1.1'
  title: 第一节
  overview: 概述。
  must_know:
  - 要点一
  examples:
  - {id: 1.1.q1, q: 问题一？, a: 答案一。, tests: [k1], difficulty: 易}
"""


@pytest.fixture
def every_kind() -> Iterator[dict[str, Kind]]:
    """The registry with the toy kind added for the test."""
    register(TOY)
    yield dict(KINDS)
    unregister(TOY.name)


@pytest.fixture
def source(tmp_path: Path, every_kind: dict[str, Kind]) -> Path:
    return write_handbook(tmp_path / "src", {"01-first.yaml": MODULE + ITEMS}, HANDBOOK_YAML)


def test_every_kind_loads_validates_and_counts(source: Path, every_kind: dict[str, Kind]) -> None:
    handbook = open_handbook(source)
    assert kind_counts(handbook.modules) == {name: 2 if name == "short" else 1 for name in every_kind}
    assert check_bank(handbook) is not None  # the lint runs over every kind


def test_every_kind_sets_a_paper_and_a_key(source: Path, every_kind: dict[str, Kind]) -> None:
    handbook = open_handbook(source)
    bank = question_bank(handbook, exercises=True)
    parts = tuple(PartSpec(name, 2 if name == "short" else 1, 3) for name in every_kind)
    ids = [q.id for q in bank[1]]
    exam = make_typed_exam(bank, (1,), parts, ids, {}, exam_id="toy", variant="A", seed=0)
    options = ExamOptions(modules=(1,), parts=parts)
    paper = _text(render_template("exam.html.j2", paper_context(exam, options, "卷", "zh-CN")))
    key = _text(render_template("key.html.j2", key_context(exam, options, "卷", "zh-CN")))
    for name, kind in every_kind.items():
        assert kind.part_name in paper and kind.part_name in key, name
    for q in bank[1]:
        assert re.sub(r"\s+", "", q.item.q.split("[[")[0])[:4] in paper, q.id
    assert "注意力头" in key and "注意力头" not in paper  # the toy's answer only in the key


def _text(html: str) -> str:
    """What a reader sees of the HTML: tags and whitespace removed."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_every_exporter_writes_every_kind(source: Path, fmt: ExportFormat) -> None:
    data = export_bank(open_handbook(source), fmt)
    if fmt is ExportFormat.QTI:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert "items/1.1.x1.xml" in names and len([n for n in names if n.startswith("items/")]) == 7
    elif fmt is ExportFormat.MOODLE:
        names = [q.findtext("name/text") for q in ET.fromstring(data).iter("question")]
        assert "1.1.x1" in names and len([n for n in names if n and n.startswith("1.1.")]) == 7
    elif fmt is ExportFormat.DOCX:
        from docx import Document

        texts = [p.text for p in Document(io.BytesIO(data)).paragraphs]
        assert sum(text.startswith("【答案】") for text in texts) == 7
    else:
        assert data.decode().count("::1.1.") == 7


def test_every_kind_is_scored_from_its_printed_key(every_kind: dict[str, Kind]) -> None:
    items = {
        "choice": Exercise("1.1.c1", "choice", "q", options=("甲", "乙", "丙", "丁"), answer="B"),
        "multi": Exercise("1.1.m1", "multi", "q", options=("甲", "乙", "丙", "丁"), answer="AC"),
        "truefalse": Exercise("1.1.t1", "truefalse", "q", answer="true"),
        "fill": Exercise("1.1.f1", "fill", "填入 [[答案|answer]]。"),
        "short": Exercise("1.1.s1", "short", "q", a="因为"),
        "term": Exercise("1.1.x1", "term", "q", a="注意力头"),
    }
    assert set(items) == set(every_kind)
    for name, item in items.items():
        order = "ABCD" if item.options else ""
        slot = Slot(1, item.id, name, 4, 1, "1.1", "节", item, order)
        assert score_cell(4, slot).points == 4, name  # points are points for every kind
        if every_kind[name].takes_answer(item):
            assert score_cell(slot.key, slot).points == 4, name  # the printed key earns full marks


def test_every_kind_is_a_part(every_kind: dict[str, Kind]) -> None:
    assert [spec.kind for spec in parse_parts("term:1x5,choice:2x2")] == ["choice", "term"]


def _string_constants(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


# Moodle's own question type names one: its true/false type is called truefalse.
ALLOWED = {("export/moodle.py", "truefalse")}


def test_no_code_outside_questions_names_a_kind() -> None:
    package = Path(paperkit.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package).as_posix()
        if where.startswith("questions/"):
            continue
        for line, text in _string_constants(path):
            if text in KINDS and (where, text) not in ALLOWED:
                found.append(f"{where}:{line}: {text!r}")
    assert found == []


def test_a_drawn_formula_counts_the_width_it_is_drawn_at() -> None:
    # 「$H(p,q)=H(q)+\mathrm{KL}(p\,\|\,q)$」 counted as its characters and three more fitted four to a row, and
    # WeasyPrint shrank the drawn formulas to fit (#29): drawn, it is about 12 em wide, so two to a row.
    from paperkit.questions.choice import option_columns
    from paperkit.questions.kind import text_width

    options = tuple(f"$H(p,q)=H({a})+\\mathrm{{KL}}({b}\\,\\|\\,{c})$" for a, b, c in ("qpq", "ppq", "ppq", "qqp"))
    assert 11 < text_width(options[0]) < 14
    assert option_columns(options, 45) == 2
    # Set as text, a formula is measured as it is set: an italic x, a script 2 at 0.7 of the size.
    from paperkit.text.measure import MATH_ITALIC, MATH_UPRIGHT, run_width

    assert text_width("$x^2$") == run_width("x", MATH_ITALIC) + 0.7 * run_width("2", MATH_UPRIGHT)
    assert text_width("约 $\\frac{1}{2}mv^2$") > text_width("约 ") + 2
