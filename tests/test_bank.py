"""kinds.py and the typed bank: every kind's check (exact messages), the bundled bank's counts and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import HANDBOOK_YAML, MODULE_YAML, SOURCE, write_handbook
from paperkit.cli import app
from paperkit.questions.choice import option_columns
from paperkit.questions.fill import blanks, split_alternatives
from paperkit.questions.kind import scaled_rubric
from paperkit.questions.registry import KINDS

runner = CliRunner()
M = "source/modules/01-first.yaml"
ITEMS_AT = 18  # the line of the first exercise in the tiny module below

CHOICE = """\
  - id: 1.1.c1
    kind: choice
    q: 下列说法正确的是
    options:
    - 甲
    - 乙
    - 丙
    answer: B
"""


def _with_exercises(items: str) -> dict[str, str]:
    text = MODULE_YAML + "  exercises:\n" + items
    assert text.splitlines()[ITEMS_AT - 1] == "  exercises:"
    return {"01-first.yaml": text}


# (case id, the exercises YAML, the expected problem lines)
MALFORMED = [
    (
        "unknown kind",
        "  - id: 1.1.x1\n    kind: essay\n    q: 写一篇。\n",
        [
            f"{M}:20:11: sections[0].exercises[0].kind: unknown kind 'essay'; "
            f"expected one of choice, multi, truefalse, fill, short, group"
        ],
    ),
    (
        "answer not among the options",
        CHOICE.replace("answer: B", "answer: E"),
        [f"{M}:26:13: sections[0].exercises[0].answer: expected one letter of the options (A–C), got 'E'"],
    ),
    (
        "two answers for a choice",
        CHOICE.replace("answer: B", "answer: AB"),
        [f"{M}:26:13: sections[0].exercises[0].answer: a choice item has one answer, got 'AB'; use kind: multi"],
    ),
    (
        "duplicate options",
        CHOICE.replace("- 丙", "- 甲"),
        [f"{M}:25:7: sections[0].exercises[0].options[2]: the same as option A; options must differ"],
    ),
    (
        "one option",
        CHOICE.replace("    - 乙\n    - 丙\n", "").replace("answer: B", "answer: A"),
        [f"{M}:23:5: sections[0].exercises[0].options: expected 2 to 8 options, got 1"],
    ),
    (
        "multi with one answer",
        CHOICE.replace("kind: choice", "kind: multi"),
        [
            f"{M}:26:13: sections[0].exercises[0].answer: a multi item has two or more answers, got 'B'; use kind: "
            "choice"
        ],
    ),
    (
        "multi with every option keyed",
        CHOICE.replace("kind: choice", "kind: multi").replace("answer: B", "answer: ABC"),
        [
            f"{M}:26:13: sections[0].exercises[0].answer: every option is keyed correct; "
            f"a multi item needs at least one wrong option"
        ],
    ),
    (
        "choice without options",
        "  - id: 1.1.c1\n    kind: choice\n    q: 问？\n    answer: A\n",
        [
            f"{M}:19:5: sections[0].exercises[0].options: expected 2 to 8 options, got 0",
            f"{M}:19:5: sections[0].exercises[0].options: missing (required field for kind choice)",
            f"{M}:22:13: sections[0].exercises[0].answer: expected one letter of the options (none), got 'A'",
        ],
    ),
    (
        "true/false answer",
        "  - id: 1.1.t1\n    kind: truefalse\n    q: 说法。\n    answer: maybe\n",
        [f"{M}:22:13: sections[0].exercises[0].answer: expected true or false, got 'maybe'"],
    ),
    (
        "field another kind uses",
        "  - id: 1.1.t1\n    kind: truefalse\n    q: 说法。\n    answer: true\n    options:\n    - 甲\n",
        [
            f"{M}:24:5: sections[0].exercises[0].options: not used by kind truefalse "
            "(it takes id, kind, q, tests, use, material, answer, why, points, difficulty, follows)"
        ],
    ),
    (
        "fill-in without a blank",
        "  - id: 1.1.f1\n    kind: fill\n    q: 没有空。\n",
        [
            f"{M}:21:8: sections[0].exercises[0].q: a fill-in item needs at least one blank, "
            f"written [[answer]] outside $…$"
        ],
    ),
    (
        "blank with no answer",
        "  - id: 1.1.f1\n    kind: fill\n    q: 答案是 [[]]。\n",
        [
            f"{M}:21:8: sections[0].exercises[0].q: blank 1 has an empty answer; "
            f"write [[answer]] or [[answer|alternative]]"
        ],
    ),
    (
        "blank inside math",
        "  - id: 1.1.f1\n    kind: fill\n    q: '$x = [[1]]$，且 [[2]]'\n",
        [f"{M}:21:8: sections[0].exercises[0].q: a [[blank]] inside $…$; put the blank outside the math: $x=$ [[1]]"],
    ),
    (
        "unclosed blank",
        "  - id: 1.1.f1\n    kind: fill\n    q: 答案是 [[1。\n",
        [f"{M}:21:8: sections[0].exercises[0].q: a [[ without its ]]; blanks are written [[answer]]"],
    ),
    (
        "rubric that does not add up",
        "  - id: 1.1.s1\n    kind: short\n    q: 问？\n    a: 答。\n    points: 5\n"
        "    rubric:\n    - point: 要点一\n      points: 2\n    - point: 要点二\n      points: 2\n",
        [f"{M}:25:5: sections[0].exercises[0].rubric: scoring points add up to 4, but the item has points: 5"],
    ),
    (
        "short without an answer",
        "  - id: 1.1.s1\n    kind: short\n    q: 问？\n",
        [f"{M}:19:5: sections[0].exercises[0].a: missing (required field for kind short)"],
    ),
    (
        "id not prefixed by its section",
        CHOICE.replace("id: 1.1.c1", "id: 2.1.c1"),
        [f"{M}:19:9: sections[0].exercises[0].id: expected '1.1.<name>' (e.g. '1.1.q1'), got '2.1.c1'"],
    ),
    (
        "id used by a worked example",
        CHOICE.replace("id: 1.1.c1", "id: 1.1.q1"),
        [f"{M}:19:9: sections[0].exercises[0].id: '1.1.q1' is used by {M}:15 too"],
    ),
    (
        "follows an unknown id",
        CHOICE + "    follows: 1.1.c9\n",
        [f"{M}:27:14: sections[0].exercises[0].follows: no item '1.1.c9' in module 1"],
    ),
    (
        "follows cycle",
        CHOICE + "    follows: 1.1.c2\n" + CHOICE.replace("c1", "c2") + "    follows: 1.1.c1\n",
        [
            f"{M}:27:14: sections[0].exercises[0].follows: '1.1.c1' follows itself through 1.1.c2",
            f"{M}:36:14: sections[0].exercises[1].follows: '1.1.c2' follows itself through 1.1.c1",
        ],
    ),
    (
        "two items follow one item",
        CHOICE
        + CHOICE.replace("c1", "c2")
        + "    follows: 1.1.c1\n"
        + CHOICE.replace("c1", "c3")
        + "    follows: 1.1.c1\n",
        [f"{M}:44:14: sections[0].exercises[2].follows: '1.1.c1' is already followed by '1.1.c2'"],
    ),
    (
        "bad difficulty",
        CHOICE + "    difficulty: 极难\n",
        [f"{M}:27:17: sections[0].exercises[0].difficulty: expected 1–5 or 易/中/难, got '极难'"],
    ),
]


@pytest.mark.parametrize(("items", "expected"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_items_give_one_exact_line_each(in_tmp: Path, items: str, expected: list[str]) -> None:
    write_handbook(in_tmp, _with_exercises(items), HANDBOOK_YAML)
    result = runner.invoke(app, ["validate"])
    count = len(expected)
    summary = f"{count} error{'s' if count > 1 else ''} in source/; nothing was built."
    assert (result.exit_code, result.stderr.splitlines()) == (1, [*expected, summary])


def test_every_kind_validates(in_tmp: Path) -> None:
    items = (
        CHOICE
        + CHOICE.replace("c1", "m1").replace("choice", "multi").replace("answer: B", "answer: AC")
        + "  - id: 1.1.t1\n    kind: truefalse\n    q: 说法。\n    answer: false\n    why: 因为。\n"
        + "  - id: 1.1.f1\n    kind: fill\n    q: '$x=$ [[$2$|二]]，$|y|=$ [[1]]'\n"
        + "  - id: 1.1.s1\n    kind: short\n    q: 问？\n    a: 答。\n    rubric:\n    - point: 要点\n      points: 3\n"
    )
    write_handbook(in_tmp, _with_exercises(items), HANDBOOK_YAML)
    result = runner.invoke(app, ["validate"])
    assert result.stdout == (
        "source/: 1 module, 1 section, 1 question; exam items: 1 choice, 1 multi, 1 truefalse, 1 fill, 2 short — OK\n"
    )


# -- the bundled bank ----------------------------------------------------------------------------


def test_the_list_shows_counts_by_kind() -> None:
    lines = runner.invoke(app, ["list", "--source", str(SOURCE)]).stdout.splitlines()
    assert lines[0] == "module  sections  questions  choice  multi  truefalse   fill  short  held back  title"
    assert (
        lines[3]
        == "     2         6         12      14      4         12      7     18         23  Transformer 核心结构"
    )


# -- pure helpers ----------------------------------------------------------------------------------


def test_blanks_keep_math_and_alternatives() -> None:
    assert blanks("形状为 [[$(B,S,d_k)$|(B,S,d_k)]]，且 $|x|$ 为 [[1|一]]") == [
        ("$(B,S,d_k)$", "(B,S,d_k)"),
        ("1", "一"),
    ]
    assert split_alternatives("$|x|$|绝对值") == ("$|x|$", "绝对值")


def test_options_take_four_two_or_one_columns() -> None:
    assert option_columns(("甲", "乙", "丙", "丁"), 40) == 4
    assert option_columns(("一二三四五六七八九十一二", "乙", "丙", "丁"), 40) == 2
    assert option_columns(("一" * 30, "乙"), 40) == 1


def test_rubric_points_scale_to_the_paper() -> None:
    assert scaled_rubric((4, 3, 3), 10) == [4, 3, 3]
    assert scaled_rubric((4, 3, 3), 5) == [2, 2, 1]
    assert sum(scaled_rubric((5, 5), 7)) == 7


def test_the_registry_order_is_the_paper_order() -> None:
    assert list(KINDS) == ["choice", "multi", "truefalse", "fill", "short"]
