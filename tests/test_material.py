"""材料题 (issue 29, point 2): a `material` on the first item of a `follows` chain prints once before it, led by
「阅读下面的材料，完成第 6–8 题。」 with the numbers the chain has on that paper; each item keeps its own number,
points, answer space and key, so the score sheet and the analysis see each."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_handbook
from paperkit.content.models import Exercise
from paperkit.errors import ContentError
from paperkit.questions.bank import ExamQuestion, Question, material_leads
from paperkit.source import open_handbook
from pdftext import page_texts, squash

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
  exercises:
  - id: 1.1.s1
    kind: short
    use: exam
    material: |-
      某电路中电源电压 $U = 6$ V，两电阻串联：
      | 电阻 | 阻值/Ω |
      |---|---|
      | $R_1$ | 10 |
      | $R_2$ | 20 |
    q: 求电路中的电流。
    a: 0.2 A。
  - id: 1.1.s2
    kind: short
    use: exam
    follows: 1.1.s1
    q: 求 $R_1$ 两端的电压。
    a: 2 V。
  - id: 1.1.s3
    kind: short
    use: exam
    q: 另一题。
    a: 答案。
"""


def _placed(items: list[Exercise], start: int = 6) -> list[ExamQuestion]:
    return [ExamQuestion(start + n, 5, Question(x.id, 1, "1.1", "第一节", x)) for n, x in enumerate(items)]


def test_a_material_leads_into_the_chain_it_heads() -> None:
    head = Exercise("a", "short", "q1", material="材料")
    second = Exercise("b", "short", "q2", follows="a")
    third = Exercise("c", "short", "q3", follows="b")
    alone = Exercise("d", "short", "q4")
    leads = material_leads(_placed([head, second, third, alone]))
    assert leads == {0: {"material": "材料", "material_lead": "阅读下面的材料，完成第 6–8 题。"}}
    assert material_leads(_placed([head, alone]))[0]["material_lead"] == "阅读下面的材料，完成第 6 题。"


def test_a_material_on_an_item_that_follows_is_refused(tmp_path: Path) -> None:
    module = MODULE.replace("    follows: 1.1.s1\n", "    follows: 1.1.s1\n    material: 又一段材料\n")
    with pytest.raises(ContentError) as caught:
        open_handbook(write_handbook(tmp_path, {"01-first.yaml": module}))
    assert [p.field + ": " + p.message for p in caught.value.problems] == [
        "sections[0].exercises[1].material: a 材料 goes on the first item of its chain, not on one that follows 1.1.s1"
    ]


def test_only_an_item_with_a_material_hashes_it() -> None:
    # Manifests record the bank's hash: a new field in every item's hash would say every bank had changed.
    from paperkit.questions.bank import _printed

    assert "material" not in _printed(Exercise("a", "short", "q"))
    assert _printed(Exercise("a", "short", "q", material="材料"))["material"] == "材料"


def test_a_paper_prints_the_material_once_before_its_chain(tmp_path: Path) -> None:
    from paperkit.exam.job import build_exam
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam

    source = write_handbook(tmp_path, {"01-first.yaml": MODULE})
    flags = ExamFlags(modules="1", parts="short:3x10", seed="1")
    plan = plan_exam(parse_exam_flags(flags), source, tmp_path / "out")
    folder = build_exam(plan)[0].parent
    paper = squash("".join(page_texts(folder / "paper.pdf")))
    ids = [q.question.id for q in plan.exams["A"].questions]
    first = ids.index("1.1.s1") + 1
    lead = f"阅读下面的材料，完成第{first}–{first + 1}题。某电路中电源电压U=6V，两电阻串联：电阻阻值/ΩR110R220{first}."
    assert lead in paper and paper.count("阅读下面的材料") == 1
    assert ids[first] == "1.1.s2"  # the chain stays whole and in order
    key = squash("".join(page_texts(folder / "key.pdf")))
    assert "阅读下面的材料" not in key  # the key gives answers, not the material again
