"""The bundled bank (source/): every module's items, keys against their options, balance, rubrics."""

from __future__ import annotations

import re
from collections import Counter

from paperkit.questions.fill import blanks
from paperkit.report import kind_counts

PER_MODULE = {"choice": 8, "multi": 2, "truefalse": 6, "fill": 4}
WORKED = {0: 8, 1: 6, 2: 12, 3: 8, 4: 8, 5: 14, 6: 6, 7: 12, 8: 10, 9: 10, 10: 10, 11: 8, 12: 8, 13: 10}


def test_every_module_has_its_bank(handbook) -> None:
    for module in handbook.modules:
        assert kind_counts([module]) == {**PER_MODULE, "short": WORKED[module.id]}, module.id
    assert kind_counts(handbook.modules) == {"choice": 112, "multi": 28, "truefalse": 84, "fill": 56, "short": 130}
    assert sum(1 for e in handbook.examples if e.rubric) >= 30


def test_every_item_comes_from_its_section_and_ids_say_their_kind(handbook) -> None:
    letter = {"choice": "c", "multi": "m", "truefalse": "t", "fill": "f"}
    for section in handbook.sections:
        for item in section.exercises:
            assert re.fullmatch(rf"{re.escape(section.id)}\.{letter[item.kind]}\d+", item.id), item.id


def test_every_answer_key_points_at_its_options(handbook) -> None:
    for item in handbook.exercises:
        if item.kind in ("choice", "multi"):
            letters = item.answer.strip().upper()
            assert letters and all("A" <= ch < chr(ord("A") + len(item.options)) for ch in letters), item.id
            assert len(letters) == 1 if item.kind == "choice" else 2 <= len(letters) < len(item.options), item.id
            assert len(set(item.options)) == len(item.options), item.id
        elif item.kind == "truefalse":
            assert item.answer in ("true", "false"), item.id
            assert item.answer == "true" or item.why, f"{item.id}: a false statement needs its why"
        elif item.kind == "fill":
            assert blanks(item.q) and all(all(answers) for answers in blanks(item.q)), item.id


def test_choice_keys_are_spread_over_the_letters(handbook) -> None:
    for module in handbook.modules:
        keys = Counter(x.answer for s in module.sections for x in s.exercises if x.kind == "choice")
        assert set(keys) == set("ABCD") and max(keys.values()) <= 3, (module.id, keys)


def test_true_and_false_are_balanced(handbook) -> None:
    for module in handbook.modules:
        answers = Counter(x.answer for s in module.sections for x in s.exercises if x.kind == "truefalse")
        assert answers == {"true": 3, "false": 3}, module.id


def test_rubrics_add_up(handbook) -> None:
    for example in handbook.examples:
        if example.rubric:
            assert sum(p.points for p in example.rubric) == 10, example.id
