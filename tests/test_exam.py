"""exam.py: the question bank, selection (golden + properties), points and headings."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SOURCE
from paperkit.exam import paper as ex
from paperkit.exam import select as sel
from paperkit.questions import bank as qb
from paperkit.questions.short import answer_lines, formula_width
from paperkit.source import open_handbook

# The selection over the worked examples alone (the algorithm, pinned since the first paper was printed).
GOLDEN = Path(__file__).parent / "golden" / "select-worked-m2-3-8-s7.json"


@pytest.fixture(scope="module")
def bank() -> dict[int, tuple[qb.Question, ...]]:
    return qb.question_bank(open_handbook(SOURCE))


def _pools(bank, modules):
    return {m: [q.id for q in bank[m]] for m in modules}


# -- the bank -----------------------------------------------------------------------------------


def test_bank_has_every_example_as_a_short_answer_question(bank) -> None:
    assert sum(len(pool) for pool in bank.values()) == 130
    first = bank[2][0]
    assert (first.id, first.module_id, first.section_id, first.section_title, first.kind) == (
        "2.1.q1",
        2,
        "2.1",
        "Scaled Dot-Product Attention",
        "short",
    )


def test_bank_hash_changes_only_with_the_requested_modules(bank) -> None:
    changed = dict(bank)
    q = bank[5][0]
    changed[5] = (
        qb.Question(q.id, q.module_id, q.section_id, q.section_title, replace(q.item, q="？" + q.item.q)),
        *bank[5][1:],
    )
    assert qb.bank_hash(changed, (2, 3, 8)) == qb.bank_hash(bank, (2, 3, 8))
    assert qb.bank_hash(changed, (2, 5)) != qb.bank_hash(bank, (2, 5))


# -- naming -------------------------------------------------------------------------------------


def test_exam_ids_encode_the_selection() -> None:
    assert ex.make_exam_id((2, 3, 8), 7, 10, 1) == "m2-3-8_s7_n10"
    assert ex.make_exam_id((2, 3, 8), 7, 10, 3) == "m2-3-8_s7_n10_v3"
    assert ex.variant_letters(3) == ("A", "B", "C")


# -- selection ----------------------------------------------------------------------------------


def test_golden_selection_for_modules_2_3_8_seed_7(bank) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for variant, ids in golden["variants"].items():
        assert sel.select_questions(_pools(bank, (2, 3, 8)), 10, 7, variant) == ids


def test_sort_key_is_sha256_of_seed_variant_id() -> None:
    assert sel.sort_key(7, "A", "2.3.q1") == hashlib.sha256(b"7:A:2.3.q1").hexdigest()


def test_allocation_for_modules_2_3_8() -> None:
    # Quotas 4, 2⅔, 3⅓: floors 4+2+3, the spare question goes to the largest remainder (module 3).
    assert sel.allocate({2: 12, 3: 8, 8: 10}, 10) == {2: 4, 3: 3, 8: 3}


def test_every_module_gets_one_while_the_count_allows() -> None:
    assert sel.allocate({0: 1, 1: 40, 2: 1}, 3) == {0: 1, 1: 1, 2: 1}
    assert sel.allocate({0: 1, 1: 40, 2: 1}, 2) == {0: 0, 1: 2, 2: 0}


pools_strategy = st.dictionaries(st.integers(0, 13), st.integers(1, 14), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(pools=pools_strategy, data=st.data())
def test_allocation_properties(pools: dict[int, int], data) -> None:
    count = data.draw(st.integers(1, sum(pools.values())))
    shares = sel.allocate(pools, count)
    total = sum(pools.values())
    assert sum(shares.values()) == count
    assert all(0 <= shares[m] <= pools[m] for m in pools)
    if count >= len(pools):
        assert all(shares[m] >= 1 for m in pools)
    if all(Fraction(count * n, total) >= 1 for n in pools.values()):
        # No module needed topping up: every share is its quota rounded down or up.
        assert all(abs(shares[m] - Fraction(count * pools[m], total)) < 1 for m in pools)


@st.composite
def selections(draw):
    modules = draw(st.lists(st.integers(0, 13), min_size=1, max_size=5, unique=True))
    pools = {
        m: [f"{m}.{s}.q{i}" for s in range(1, draw(st.integers(1, 4)) + 1) for i in (1, 2)] for m in sorted(modules)
    }
    count = draw(st.integers(1, sum(len(p) for p in pools.values())))
    seed = draw(st.integers(0, 2**40))
    variant = draw(st.sampled_from("ABCZ"))
    return pools, count, seed, variant


@settings(max_examples=200, deadline=None)
@given(selections())
def test_selection_properties(case) -> None:
    pools, count, seed, variant = case
    chosen = sel.select_questions(pools, count, seed, variant)
    assert len(chosen) == count
    assert len(set(chosen)) == count
    everything = {qid for ids in pools.values() for qid in ids}
    assert set(chosen) <= everything
    assert chosen == sel.select_questions(dict(pools), count, seed, variant)
    shares = sel.allocate({m: len(ids) for m, ids in pools.items()}, count)
    assert {m: sum(q in ids for q in chosen) for m, ids in pools.items()} == shares
    # Paper order: module by module, in the order the modules were given.
    modules_in_order = [next(m for m, ids in pools.items() if q in ids) for q in chosen]
    assert modules_in_order == sorted(modules_in_order, key=list(pools).index)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**9))
def test_selection_does_not_depend_on_other_modules(seed: int) -> None:
    small = {2: [f"2.1.q{i}" for i in range(12)], 3: [f"3.1.q{i}" for i in range(8)]}
    bigger = {**small, 8: [f"8.1.q{i}" for i in range(10)]}
    assert set(sel.select_questions(small, 20, seed, "A")) == {q for ids in small.values() for q in ids}
    assert sel.select_questions(bigger, 30, seed, "A")[:12] == sel.select_questions(small, 20, seed, "A")[:12]


def test_other_seed_and_other_variant_differ(bank) -> None:
    pools = _pools(bank, (2, 3, 8))
    a7 = sel.select_questions(pools, 10, 7, "A")
    assert sel.select_questions(pools, 10, 8, "A") != a7
    assert sel.select_questions(pools, 10, 7, "B") != a7


# -- points and headings ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(count=st.integers(1, 60), extra=st.integers(0, 500))
def test_points_are_whole_sum_to_total_and_differ_by_at_most_one(count: int, extra: int) -> None:
    total = count + extra
    points = ex.split_points(total, count)
    assert sum(points) == total and len(points) == count
    assert max(points) - min(points) <= 1
    assert points == sorted(points)


def test_headings() -> None:
    assert ex.part_heading(0, "short", range(1, 11), [10] * 10) == "一、简答题（共 10 小题，每小题 10 分，共 100 分）"
    assert ex.part_heading(0, "short", range(1, 8), ex.split_points(100, 7)) == (
        "一、简答题（共 7 小题，第 1–5 题每小题 14 分，第 6–7 题每小题 15 分，共 100 分）"
    )
    assert ex.part_heading(1, "short", [1, 2, 3], [33, 33, 34]) == (
        "二、简答题（共 3 小题，第 1–2 题每小题 33 分，第 3 题 34 分，共 100 分）"
    )


def test_make_exam_numbers_and_points(bank) -> None:
    ids = sel.select_questions(_pools(bank, (2, 3, 8)), 7, 7, "A")
    exam = ex.make_exam(bank, (2, 3, 8), ids, exam_id="x", variant="A", seed=7, total_points=100)
    assert [q.number for q in exam.questions] == list(range(1, 8))
    assert [q.points for q in exam.questions] == [14, 14, 14, 14, 14, 15, 15]
    assert [q.question.id for q in exam.questions] == ids


def test_answer_space_follows_answer_length() -> None:
    assert answer_lines("短。", 40) == 2
    assert answer_lines("长" * 100, 40) == 6
    assert answer_lines("长" * 1000, 40) == 10
    # A derivation's formulas count by their size, not as four characters each.
    derivation = (
        "由 $F = ma$ 得 $a = \\frac{F}{m} = \\frac{20\\,\\mathrm{N}}{4\\,\\mathrm{kg}} = 5\\,\\mathrm{m/s^2}$。"
    )
    assert formula_width("a = \\frac{F}{m}") == 5
    assert answer_lines(derivation * 3, 40) > answer_lines("由" * 12, 40)


def test_score_table_rows() -> None:
    exam = ex.Exam("x", "A", 1, (2,), 30, (ex.ExamPart("h", tuple(qb.ExamQuestion(n, 1, None) for n in range(1, 31))),))  # type: ignore[arg-type]
    rows = ex.score_rows(exam)
    assert [len(r) for r in rows] == [11, 11, 9]
    assert rows[-1][-1] == "总分"
