"""The bundled bank (source/): every module's practice items and its held-back pool, keys against their options,
balance, rubrics, and the item-writing lint clean in strict mode."""

from __future__ import annotations

import re
from collections import Counter

from paperkit.content.models import Handbook
from paperkit.questions.fill import blanks
from paperkit.questions.registry import as_item
from paperkit.report import bank_report, kind_counts

# The practice items every module carries (the handbook's 练习), and its worked examples.
PER_MODULE = {"choice": 8, "multi": 2, "truefalse": 6, "fill": 4}
WORKED = {0: 8, 1: 6, 2: 12, 3: 8, 4: 8, 5: 14, 6: 6, 7: 12, 8: 10, 9: 10, 10: 10, 11: 8, 12: 8, 13: 10}


def _items(handbook: Handbook):
    return [item for s in handbook.sections for item in (*map(as_item, s.examples), *s.exercises)]


def test_every_module_has_its_practice_items(handbook: Handbook) -> None:
    for module in handbook.modules:
        practice = Counter(x.kind for s in module.sections for x in s.practice)
        assert dict(practice) == PER_MODULE, module.id
        assert module.question_count == WORKED[module.id]


def test_every_section_holds_back_objective_items_and_a_short_one_with_a_rubric(handbook: Handbook) -> None:
    held = 0
    for module in handbook.modules:
        kinds = Counter()
        for section in module.sections:
            items = [x for x in section.exercises if x.use == "exam"]
            mine = Counter(x.kind for x in items)
            assert mine["choice"] >= 1 and mine["truefalse"] >= 1, section.id
            assert sum(mine[k] for k in ("choice", "multi", "truefalse", "fill")) >= 2, section.id
            assert any(x.kind == "short" and x.rubric for x in items), section.id
            kinds += mine
            held += len(items)
        assert kinds["multi"] >= 2 and kinds["fill"] >= 2, (module.id, kinds)
    assert held >= 195


def test_every_item_names_its_point_and_difficulty_and_every_short_one_its_rubric(handbook: Handbook) -> None:
    for item in _items(handbook):
        assert item.tests and item.difficulty in ("易", "中", "难"), item.id
        if item.kind == "short":
            assert item.rubric and sum(p.points for p in item.rubric) == (item.points or 10), item.id


def test_ids_say_their_kind_and_their_pool(handbook: Handbook) -> None:
    letter = {"choice": "c", "multi": "m", "truefalse": "t", "fill": "f", "short": "s"}
    for section in handbook.sections:
        for item in section.exercises:
            held = "e" if item.use == "exam" else ""
            assert re.fullmatch(rf"{re.escape(section.id)}\.{held}{letter[item.kind]}\d+", item.id), item.id


def test_every_answer_key_points_at_its_options(handbook: Handbook) -> None:
    for item in handbook.exercises:
        if item.options:
            letters = item.answer.strip().upper()
            assert letters and all("A" <= ch < chr(ord("A") + len(item.options)) for ch in letters), item.id
            assert len(letters) == 1 if item.kind == "choice" else 2 <= len(letters) <= 4, item.id
            assert len(letters) < len(item.options) and len(set(item.options)) == len(item.options), item.id
        elif item.kind == "truefalse":
            assert item.answer in ("true", "false") and item.why, item.id
        elif item.kind == "fill":
            assert blanks(item.q) and all(all(answers) for answers in blanks(item.q)), item.id


def test_keys_and_truth_are_balanced_in_each_pool(handbook: Handbook) -> None:
    for module in handbook.modules:
        for held in (False, True):
            items = [x for s in module.sections for x in s.exercises if (x.use == "exam") == held]
            keys = Counter(x.answer for x in items if x.kind == "choice")
            assert max(keys.values()) - min(keys.get(letter, 0) for letter in "ABCD") <= 2, (module.id, held, keys)
            truth = Counter(x.answer for x in items if x.kind == "truefalse")
            assert abs(truth["true"] - truth["false"]) <= 2, (module.id, held, truth)


def test_the_multi_items_vary_their_number_of_correct_options(handbook: Handbook) -> None:
    counts = Counter(len(x.answer) for x in handbook.exercises if x.kind == "multi")
    assert set(counts) == {2, 3, 4} and max(counts.values()) < 0.6 * sum(counts.values()), counts


def test_the_bank_passes_the_item_writing_lint_in_strict_mode(handbook: Handbook) -> None:
    lines, failed = bank_report(handbook, strict=True)
    assert not failed and lines[-1].endswith("0 findings in 664 items — OK"), "\n".join(lines[:20])
    assert kind_counts(handbook.modules) == {"choice": 177, "multi": 56, "truefalse": 149, "fill": 87, "short": 195}
