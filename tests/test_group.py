"""组合题 (issue 29, point 2): `kind: group` — one number, a shared stem (材料, table, figure), sub-questions
(1)(2)… of their own kinds, each with its own points, answer space, key and score-sheet column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_handbook
from paperkit.errors import ContentError, UsageError
from paperkit.exam.manifest import manifest_json, question_names, read_manifest
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam, plan_from_manifest
from paperkit.marking.analysis import Thresholds, analyze
from paperkit.marking.grading import sitters
from paperkit.marking.jobs import open_exam
from paperkit.marking.scoresheet import headers, read_scores
from paperkit.questions.group import shared_points
from paperkit.source import open_handbook
from test_marking import write_csv

MODULE = r"""
id: 1
title: 电路
objective: 会用欧姆定律。
sections:
- id: '1.1'
  title: 串联电路
  overview: 串联电路中电流处处相等。
  must_know:
  - 欧姆定律 $I = \dfrac{U}{R}$。
  - 伏安法测电阻。
  exercises:
  - id: 1.1.c1
    kind: choice
    q: 串联电路中电流
    options: [处处相等, 逐渐减小, 逐渐增大, 无法确定]
    answer: A
  - id: 1.1.c2
    kind: choice
    q: 欧姆定律的表达式为
    options: [$I = U/R$, $I = UR$, $I = R/U$, $I = U + R$]
    answer: A
  - id: 1.1.g1
    kind: group
    use: exam
    q: |-
      某同学用伏安法测电阻 $R$（电流表内接），记录数据如下：
      | 次数 | $U$/V | $I$/A |
      |---|:---:|:---:|
      | 1 | 1.0 | 0.20 |
      | 2 | 2.0 | 0.40 |
    parts:
    - kind: fill
      q: 第 1 次测量时，$U/I$ = [[5.0 sf]] Ω。
      points: 3
    - kind: choice
      q: 电流表内接时，测量值比真实值
      options: [偏大, 偏小, 相等, 无法确定]
      answer: A
      points: 3
    - kind: short
      q: 已知电流表内阻 $R_A = 0.5\ \Omega$，求电阻的真实值。
      a: $R = 5.0 - 0.5 = 4.5\ \Omega$。
      rubric:
      - {point: '用 $R_{\text{测}} = R + R_A$', points: 4}
      - {point: 结果 $4.5\ \Omega$, points: 2}
      points: 6
  - id: 1.1.g2
    kind: group
    use: exam
    q: 一段导体两端电压为 6 V 时，通过的电流为 0.3 A。
    parts:
    - kind: fill
      q: 导体的电阻为 [[20]] Ω。
    - kind: truefalse
      q: 电压为 0 时，导体的电阻也为 0。
      answer: false
  - id: 1.1.s1
    kind: short
    q: 简述串联电路的特点。
    a: 电流处处相等。
"""
PARTS = "choice:2x5,short:1x10,group:2x15"


@pytest.fixture
def physics(tmp_path: Path) -> Path:
    return write_handbook(tmp_path, {"01-circuits.yaml": MODULE})


def _plan(source: Path, out: Path, **flags: object):
    options = parse_exam_flags(ExamFlags(modules="1", parts=PARTS, pool="all", **flags))  # type: ignore[arg-type]
    return plan_exam(options, source, out)


def test_a_groups_parts_load_as_items_of_their_own_kinds(physics: Path) -> None:
    items = open_handbook(physics).modules[0].sections[0].exercises
    parts = [(x.id, x.kind, x.sub, x.group.id if x.group else "", x.use) for x in items]
    assert parts == [
        ("1.1.c1", "choice", 0, "", "practice"),
        ("1.1.c2", "choice", 0, "", "practice"),
        ("1.1.g1.1", "fill", 1, "1.1.g1", "exam"),  # ids from the group's, use inherited
        ("1.1.g1.2", "choice", 2, "1.1.g1", "exam"),
        ("1.1.g1.3", "short", 3, "1.1.g1", "exam"),
        ("1.1.g2.1", "fill", 1, "1.1.g2", "exam"),
        ("1.1.g2.2", "truefalse", 2, "1.1.g2", "exam"),
        ("1.1.s1", "short", 0, "", "practice"),
    ]
    assert items[2].group is items[4].group and items[2].group.size == 3
    assert items[2].origin.path == "sections[0].exercises[2].parts[0]"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (  # a group without parts
            lambda m: m.split("  - id: 1.1.g2")[0] + "  - id: 1.1.g2\n    kind: group\n    q: 缺小题\n",
            "sections[0].exercises[3].parts: missing: a group's sub-questions",
        ),
        (  # one part only
            lambda m: m.replace(
                "    - kind: truefalse\n      q: 电压为 0 时，导体的电阻也为 0。\n      answer: false\n", ""
            ),
            "sections[0].exercises[3].parts: a group needs two sub-questions or more",
        ),
        (  # its points disagree with its parts'
            lambda m: m.replace(
                "    kind: group\n    use: exam\n    q: |-", "    kind: group\n    points: 10\n    q: |-"
            ),
            "sections[0].exercises[2].points: its parts' points add up to 12, not 10",
        ),
        (  # parts on an item that is not a group
            lambda m: m.replace("    answer: A\n  - id: 1.1.c2", "    answer: A\n    parts: []\n  - id: 1.1.c2"),
            "sections[0].exercises[0].parts: not used by kind choice",
        ),
        (  # a sub-question that is a group
            lambda m: m.replace("    - kind: truefalse\n", "    - kind: group\n"),
            "sections[0].exercises[3].parts[1].parts: a sub-question cannot be a group",
        ),
        (  # an item following a sub-question
            lambda m: m.replace("    a: 电流处处相等。\n", "    a: 电流处处相等。\n    follows: 1.1.g2.2\n"),
            "sections[0].exercises[4].follows: '1.1.g2.2' is a sub-question of group '1.1.g2'",
        ),
    ],
)
def test_a_bad_group_is_a_located_problem(tmp_path: Path, edit, expected: str) -> None:
    source = write_handbook(tmp_path, {"01-circuits.yaml": edit(MODULE)})
    with pytest.raises(ContentError) as caught:
        open_handbook(source)
    found = [f"{p.field}: {p.message}" for p in caught.value.problems]
    assert any(line.startswith(expected) for line in found), found


def test_a_groups_points_are_shared_by_its_own_and_add_up() -> None:
    from paperkit.content.models import Exercise, Group

    group = Group("g", "stem", 3)

    def parts(*points: int | None) -> list[Exercise]:
        return [Exercise(f"g.{n}", "short", "q", points=p, group=group, sub=n) for n, p in enumerate(points, 1)]

    assert shared_points(parts(3, 3, 6), 12) == [3, 3, 6]  # the author's own when they agree
    assert shared_points(parts(3, 3, 6), 15) == [4, 4, 7]  # 3.75, 3.75, 7.5: largest remainder
    assert shared_points(parts(None, None, None), 10) == [3, 3, 4]
    assert shared_points(parts(2, None, 5), 9) == [3, 3, 3]  # some without points: all alike
    assert sum(shared_points(parts(1, 2, 3), 17)) == 17


def test_a_paper_numbers_a_group_once_and_its_sub_questions_under_it(physics: Path, tmp_path: Path) -> None:
    plan = _plan(physics, tmp_path / "out")
    exam = plan.exams["A"]
    assert [q.label for q in exam.questions] == ["1", "2", "3", "4(1)", "4(2)", "5(1)", "5(2)", "5(3)"]
    assert [q.number for q in exam.questions] == [1, 2, 3, 4, 5, 6, 7, 8]  # each answer has a place of its own
    group_part = exam.parts[-1]
    assert group_part.heading == "三、综合题（本大题共 2 题，每题 15 分，共 30 分）"
    by_group: dict[str, int] = {}
    for q in group_part.questions:
        by_group[q.question.asked] = by_group.get(q.question.asked, 0) + q.points
    assert by_group == {"1.1.g2": 15, "1.1.g1": 15}  # each group its part's points, shared over its parts
    assert exam.total_points == 10 + 10 + 30 == sum(q.points for q in exam.questions)
    assert exam.asked == 5
    paper = plan.manifest.papers["A"]
    assert paper["sub"] == [0, 0, 0, 1, 2, 1, 2, 3]
    assert question_names(paper) == [q.label for q in exam.questions]


def test_a_manifest_with_groups_rebuilds_the_same_paper(physics: Path, tmp_path: Path) -> None:
    plan = _plan(physics, tmp_path / "out")
    path = tmp_path / "manifest.json"
    path.write_text(manifest_json(plan.manifest), encoding="utf-8")
    again = plan_from_manifest(path, physics, tmp_path / "again")
    assert [(q.label, q.points, q.question.id) for q in again.exams["A"].questions] == [
        (q.label, q.points, q.question.id) for q in plan.exams["A"].questions
    ]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["papers"]["A"]["sub"][4] = 3  # 4(1) then 4(3)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UsageError, match=r"papers\.A\.sub\[4\]: sub-question 3 does not follow sub-question 2"):
        read_manifest(path)


def test_variants_with_groups_of_other_shapes_are_refused_unless_the_same_items(physics: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the 组合题 of variant A have sub-questions 4\\(1\\) 4\\(2\\) 5\\(1\\)"):
        _plan(physics, tmp_path / "out", variants="2", seed="1")
    plan = _plan(physics, tmp_path / "out", variants="2", seed="1", same_questions=True)
    assert [q.label for q in plan.exams["A"].questions] == [q.label for q in plan.exams["B"].questions]
    assert [q.question.id for q in plan.exams["A"].questions][3:] == [q.question.id for q in plan.exams["B"].questions][
        3:
    ]


def test_the_score_sheet_and_the_analysis_see_each_sub_question(physics: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,学号\n" + "".join(f"学生{n},2026{n:03d}\n" for n in range(1, 5)), encoding="utf-8")
    plan = _plan(physics, tmp_path / "out", roster=roster)
    path = tmp_path / "manifest.json"
    path.write_text(manifest_json(plan.manifest, "source"), encoding="utf-8")
    marked = open_exam(path, physics)
    row = headers(marked.manifest, marked.questions)
    assert row[4:12] == [
        "1（5分）",
        "2（5分）",
        "3（10分）",
        "4(1)（7分）",
        "4(2)（8分）",
        "5(1)（4分）",
        "5(2)（4分）",
        "5(3)（7分）",
    ]
    assert row[12:15] == ["一（10分）", "二（10分）", "三（30分）"]  # a 大题 subtotal: the group part is one
    students = sitters(marked.manifest, marked.questions)
    # Everyone answers right but 5(3) (the short answer: 0 for half the class); the rest as points or answers.
    rows = []
    for index, student in enumerate(students):
        cells: list[object] = []
        for slot in student.slots:
            if slot.name == "5(3)" and index % 2:
                cells.append(0)
            elif slot.kind in ("choice", "multi"):
                cells.append(slot.key)
            elif slot.kind == "truefalse":
                cells.append("√" if slot.key == "true" else "×")
            else:
                cells.append(slot.points)
        rows.append([student.student_id, student.name, student.class_name, student.variant, *cells])
    sheet = tmp_path / "scores.csv"
    write_csv(sheet, row[:12], rows)
    result = analyze(read_scores(sheet, marked.manifest, marked.questions), "x", "t", Thresholds(0.6, 0.85, 0.4))
    assert [r.total for r in result.ranking] == [50, 50, 43, 43]
    parts = {p.title: (p.numbers, p.points) for p in result.parts}
    assert parts["三、综合题"] == ("4(1)–5(3)", 30)
    assert [i.name for i in result.items] == ["1", "2", "3", "4(1)", "4(2)", "5(1)", "5(2)", "5(3)"]
    last = result.items[-1]
    assert (last.cell, last.p) == ("5(3)", 0.5)


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_a_group_prints_once_with_its_sub_questions_on_the_paper_the_key_and_the_answer_sheet(
    physics: Path, tmp_path: Path, paper: str
) -> None:
    from typer.testing import CliRunner

    from paperkit.cli import app
    from pdftext import page_texts, pdf_text

    out = tmp_path / "out"
    command = ["exam", "--source", str(physics), "--modules", "1", "--parts", PARTS, "--pool", "all"]
    result = CliRunner().invoke(app, [*command, "--paper", paper, "--answer-sheet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = next(out.iterdir())
    text = pdf_text(folder / "paper.pdf")
    # Each group's stem once, under its one number, its sub-questions (1)(2)… after it with their own points.
    assert text.count("某同学用伏安法测电阻") == 1 and text.count("一段导体两端电压为6V") == 1
    stems = sorted(text.index(stem) for stem in ("某同学用伏安法测电阻", "一段导体两端电压为6V"))
    assert [text[at - 7 : at] for at in stems] == ["4.（15分）", "5.（15分）"], text
    assert text.count("（1）") == 2 and text.count("（2）") == 2 and text.count("（3）") == 1
    assert "三、综合题（本大题共2题，每题15分，共30分）" in text
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sub_points = manifest["papers"]["A"]["points"][3:]
    assert sum(sub_points[:2]) == sum(sub_points[2:]) == 15 and sum(manifest["papers"]["A"]["points"]) == 50
    key = pdf_text(folder / "key.pdf")
    # The 答案速查 names sub-questions 4(2), 5(2); each sub-question has its own answer under its (n).
    assert "4(2)×" in key
    order = manifest["papers"]["A"]["options"]["1.1.g1.2"]
    assert f"5(2){'ABCD'[order.index('A')]}" in key, key
    assert "（1）（7分）导体的电阻为Ω。【参考答案】20" in key and "【参考答案】5.0（2位有效数字）" in key
    sheet = pdf_text(folder / "sheet.pdf")
    assert all(name in sheet for name in ("4(1)", "4(2)", "5(1)", "5(2)", "5(3)")), sheet
    if paper == "A3":
        first = page_texts(folder / "paper.pdf")[0]  # two columns side by side on one A3 side: the whole paper
        assert "试卷到此结束" in first and "某同学用伏安法测电阻" in first.replace(" ", "")
