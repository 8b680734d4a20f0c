"""An exam a teacher can trust for a grade: a held-back pool the handbook never prints, no two items on a paper
that test one knowledge point or give each other's answers away, balanced keys, and the 多选 rule on the paper,
in the key and in every scorer."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, SOURCE
from paperkit.content.models import Exercise
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import ExamPlan, plan_exam
from paperkit.exam.select import balanced_orders, shuffle_options
from paperkit.handbook.context import handbook_context
from paperkit.questions.bank import question_bank
from paperkit.questions.choice import option_points
from paperkit.questions.fill import matches
from paperkit.questions.overlap import clash, leak
from paperkit.questions.registry import kind_of
from paperkit.questions.rules import Rules
from paperkit.source import open_handbook

MIDTERM = "choice:10x2,multi:4x4,truefalse:5x2,fill:5x2,short:4x10"


def _plan(tmp_path: Path, **flags: str) -> ExamPlan:
    values = {"modules": "2,3,8", "seed": "7", "parts": MIDTERM, "variants": "2", **flags}
    return plan_exam(parse_exam_flags(ExamFlags(**values)), SOURCE, tmp_path)  # type: ignore[arg-type]


def _clashes(plan: ExamPlan) -> list[str]:
    found = []
    for variant, exam in plan.exams.items():
        questions = [q.question for q in exam.questions]
        for a, b in itertools.combinations(questions, 2):
            why = clash(a, b)
            if why:
                found.append(f"{variant}: {a.id} / {b.id}: {why}")
    return found


@pytest.mark.parametrize("seed", range(21))
def test_no_item_on_a_paper_tests_the_point_of_another_or_shows_its_answer(tmp_path: Path, seed: int) -> None:
    plan = _plan(tmp_path, seed=str(seed))
    assert _clashes(plan) == []
    for exam in plan.exams.values():
        assert all(q.question.item.use == "exam" for q in exam.questions)  # the held-back pool by default
        truth = Counter(q.question.item.answer for q in exam.questions if q.question.kind == "truefalse")
        assert sorted(truth.values()) == [2, 3]  # 5 判断: as even as five allows
        keys = Counter(
            kind_of(q.question.kind).printed_key(q.question.item, q.order)
            for q in exam.questions
            if q.question.kind == "choice"
        )
        assert set(keys) == set("ABCD") and max(keys.values()) - min(keys.values()) <= 1, keys


def test_the_pairs_a_teacher_found_on_the_old_papers_are_caught_by_the_measure() -> None:
    before = open_handbook(ROOT / "tests" / "fixtures" / "bank-before")
    items = {q.id: q for pool in question_bank(before, exercises=True).values() for q in pool}
    # Paper B: 判断 15/简答 25, 选择 4 D/简答 26, 填空 22/简答 27, 选择 8 D/简答 28; paper A: 选择 6 B/简答 27.
    for container, source in [
        ("2.4.t2", "2.4.q1"),
        ("2.5.c1", "2.5.q1"),
        ("3.3.f1", "3.3.q2"),
        ("8.3.c2", "8.3.q2"),
        ("3.3.c1", "3.3.q1"),
    ]:
        assert leak(items[source].item, items[container].item) is not None, (container, source)
        assert clash(items[source], items[container]) is not None


def test_a_shared_knowledge_point_keeps_two_items_apart(handbook) -> None:
    items = [q for pool in question_bank(handbook, exercises=True).values() for q in pool]
    a, b = next(
        (a, b)
        for a, b in itertools.combinations(items, 2)
        if a.section_id == b.section_id and a.item.tests == b.item.tests == ("k1",)
    )
    assert clash(a, b) == f"both test {a.section_id}/must_know1"


def test_no_held_back_item_is_in_any_handbook_edition_or_export(handbook) -> None:
    held = {x.id for x in handbook.exercises if x.use == "exam"}
    assert len(held) >= 195
    for answers in ("inline", "end", "none"):
        context = handbook_context(handbook, answers, exercises=True)
        shown = {
            q["source_label"] + q["prompt"] for m in context["modules"] for g in m["exercises"] for q in g["questions"]
        }
        prompts = {x.q for x in handbook.exercises if x.use == "exam"}
        assert not any(any(p in s for p in prompts) for s in shown)
    from paperkit.export import ExportFormat, ExportOptions, export_bank

    moodle = export_bank(handbook, ExportFormat.MOODLE).decode()
    assert not any(f"<name>\n      <text>{qid}</text>" in moodle for qid in held)
    assert sum(f"<text>{qid}</text>" in moodle for qid in held) == 0
    everything = export_bank(handbook, ExportFormat.MOODLE, options=ExportOptions(pool="exam")).decode()
    assert all(f"<text>{qid}</text>" in everything for qid in held)


def test_a_paper_draws_from_the_pool_it_asks_for_and_the_manifest_records_it(tmp_path: Path) -> None:
    plan = _plan(tmp_path, pool="practice", parts="choice:10x2,short:4x10")
    assert all(q.question.item.use != "exam" for e in plan.exams.values() for q in e.questions)
    assert plan.manifest.options.pool == "practice" and plan.out_dir.name != _plan(tmp_path).out_dir.name
    mixed = _plan(tmp_path, pool="all", parts="choice:20x2")
    uses = Counter(q.question.item.use for e in mixed.exams.values() for q in e.questions)
    assert set(uses) == {"exam", "practice"}
    default = plan_exam(parse_exam_flags(ExamFlags(modules="2,3,8", seed="7", variants="3")), SOURCE, tmp_path)
    golden = json.loads((ROOT / "tests" / "golden" / "exam-m2-3-8-s7.json").read_text(encoding="utf-8"))
    assert {v: [q.question.id for q in e.questions] for v, e in default.exams.items()} == golden["variants"]
    assert default.manifest.options.pool == golden["pool"] == "exam"


def test_letters_are_spread_over_a_paper_and_pinned_options_stay() -> None:
    items = [Exercise(f"1.1.c{n}", "choice", "q", options=("甲", "乙", "丙", "丁"), answer="A") for n in range(8)]
    orders = balanced_orders(items, seed=7, variant="A")
    keys = Counter("ABCD"[orders[item.id].index(0)] for item in items)
    assert keys == {"A": 2, "B": 2, "C": 2, "D": 2}
    pinned = Exercise("1.1.c9", "choice", "q", options=("甲", "乙", "丙", "以上都不对"), answer="D", pinned=("D",))
    assert all(shuffle_options(pinned, seed, "A", key_at=0)[3] == 3 for seed in range(20))


def test_the_multi_rule_is_printed_under_its_part_and_scored_the_same_everywhere(tmp_path: Path) -> None:
    half = _plan(tmp_path, parts="multi:2x4")
    new = _plan(tmp_path, parts="multi:2x4", multi_rule="per-option")
    assert (
        half.exams["A"].parts[0].instruction.endswith("全部选对得满分，部分选对得一半分（向下取整），有选错的得 0 分。")
    )
    assert (
        new.exams["A"]
        .parts[0]
        .instruction.endswith(
            "全部选对的得满分，部分选对的按选对的选项个数计分（每个正确选项得满分的相应份额），有选错的得 0 分。"
        )
    )
    assert new.out_dir.name != half.out_dir.name and new.manifest.options.multi_rule == "per-option"
    key = {"A", "C", "D"}
    assert [option_points(set(c), key, 6, True, Rules("half")) for c in ("ACD", "AC", "A", "AB", "")] == [6, 3, 3, 0, 0]
    assert [option_points(set(c), key, 6, True, Rules("per-option")) for c in ("ACD", "AC", "A", "AB")] == [6, 4, 2, 0]
    assert option_points({"A"}, {"A", "C", "D"}, 5, True, Rules("per-option")) == 1.5  # to half points


@pytest.mark.parametrize(
    ("typed", "answers", "right"),
    [
        ("−∞", ("$-\\infty$", "-inf"), True),  # the printed form of a formula
        ("ＫＶ　cache", ("KV cache",), True),  # full-width letters and spaces from a Chinese IME
        ("kv cache", ("KV cache",), True),
        ("9.80", ("9.8",), False),  # a plain number as written, as the score sheet reads it
        ("9.80", ("9.8 sf",), True),  # by value when the answer says how close
        ("15.75", ("15.7±0.1",), True),
        ("15.9", ("15.7±0.1",), False),
        ("101", ("100±1%",), True),
        ("9.803", ("9.80 sf",), True),
        ("9.85", ("9.80 sf",), False),
        ("0.8 m/s^2", ("0.8±0.05 m/s^2",), True),
        ("0.8 km", ("0.8±0.05 m/s^2",), False),
        ("1/2", ("1/2",), True),
        ("0.5", ("1/2",), False),
    ],
)
def test_fill_answers_match_as_a_teacher_reads_them(typed: str, answers: tuple[str, ...], right: bool) -> None:
    assert matches(typed, answers) is right


NONSENSE_KEYS = ["#=", "#=1", "#=11abc", "#=11a#b#", "#=11NAN#6#", "#=11-INF#INF#", "#=11SNAN#1#", "#=1019.55"]


@pytest.mark.parametrize("key", NONSENSE_KEYS)
def test_a_value_key_corrected_into_nonsense_scores_0_and_never_fails(key: str) -> None:
    # A teacher may type anything into the 答案 sheet; the sheet's formula errs (IFERROR: 0), paperkit agrees.
    from paperkit.questions.registry import kind_of

    assert kind_of("fill").judge("19.6", key, 3, Rules("half")) == 0.0
    assert kind_of("fill").judge("19.6", "#=1019.55#19.65#", 3, Rules("half")) == 3.0


@pytest.mark.parametrize(
    ("blank", "typed", "right"),
    [
        ("#FF0000", "#ff0000", True),  # an answer that starts with # is text, not a value key
        ("#include|include", "include", True),
        ("3×10^8 m/s", "3", False),  # not 3 with a unit: compared as written
        ("2n", "2", False),
        ("2π", "2", False),
        ("5±0.1 m", "5m", True),
        ("5±0.1 m", "5mm", False),  # the unit after the number only
        ("5±0.1 m", "m5", False),
        ("5±0.1 m", "5±0.1m", False),  # the key as written is no number
        ("3.0e8 sf", "3.04e8", True),  # two significant figures: the exponent is none of them
        ("3.0e8 sf", "3.06e8", False),
        ("5±-1", "5.5", True),  # a tolerance is a distance
    ],
)
def test_a_typed_answer_scores_by_one_rule_in_paperkit_and_matches(blank: str, typed: str, right: bool) -> None:
    # Found by a second reader: each was scored otherwise by the judge, by matches(), or both.
    from paperkit.content.models import Exercise
    from paperkit.questions.registry import kind_of

    item = Exercise(id="1.1.f1", kind="fill", q=f"答 [[{blank}]]。")
    fill = kind_of("fill")
    points = fill.judge(fill.normalise(typed, item, ()), fill.sheet_key(item, ()), 2, Rules("half"))
    assert (points == 2.0, matches(typed, tuple(blank.split("|")))) == (right, right)


def test_a_unit_is_no_function_and_a_length_keeps_its_sign() -> None:
    from paperkit.text.math import _unary_signs, render_math

    assert "mfn sp" not in render_math("\\mathrm{H_2O}").html  # 「H₂O」, not 「H₂ O」
    assert _unary_signs("a\\hspace{-1em}b - \\texttt{-c}") == "a\\hspace{-1em}b - \\texttt{-c}"
    assert "[−2,−1]" in render_math("x \\in [-2, -1]").html  # no space after the second sign either
