"""The real handbook under source/: complete (verified counts), valid, and repaired."""

from __future__ import annotations

import re

from conftest import SOURCE
from paperkit.content.validate import iter_texts
from paperkit.source import open_handbook
from paperkit.text.markup import plain_text

# Counted from the seed text (../shared/seeds/000_e79bafe28e0219ea.txt): lines starting 学习目标 (14),
# 概述 (65), "- " bullets in module bodies (399), Q<n> (130) and A<n> (130).
SECTIONS_PER_MODULE = {0: 4, 1: 3, 2: 6, 3: 4, 4: 4, 5: 7, 6: 3, 7: 6, 8: 5, 9: 5, 10: 5, 11: 4, 12: 4, 13: 5}


def test_every_module_section_and_question_of_the_seed_is_there() -> None:
    handbook = open_handbook(SOURCE)
    assert [m.id for m in handbook.modules] == list(range(14))
    assert {m.id: len(m.sections) for m in handbook.modules} == SECTIONS_PER_MODULE
    assert len(handbook.sections) == 65
    # Every section of the seed has exactly two worked examples, Q1 and Q2.
    assert [len(s.examples) for s in handbook.sections] == [2] * 65
    assert len(handbook.examples) == 130
    assert [e.id for e in handbook.examples] == [f"{s.id}.q{n}" for s in handbook.sections for n in (1, 2)]


def test_every_bullet_of_the_seed_is_there() -> None:
    sections = open_handbook(SOURCE).sections
    assert sum(len(s.must_know) for s in sections) == 204
    assert sum(len(s.tips) for s in sections) == 130
    assert sum(len(s.pitfalls) for s in sections) == 65
    assert all(s.must_know and s.tips and s.pitfalls for s in sections)


def test_no_extraction_damage_is_left() -> None:
    handbook = open_handbook(SOURCE)
    for origin, name, text in iter_texts(handbook):
        where = f"{origin.file}: {origin.field_path(name)}"
        prose = plain_text(text)
        assert not re.search(r" [,:;?，。：；？！]", prose), f"space before punctuation in {where}: {text}"
        assert "。。" not in prose and text.strip() != "。", where
        assert not re.search(r"[\u4e00-\u9fff][,:;?]", text), f"half-width punctuation after Chinese in {where}: {text}"
        assert "直达到到" not in text and "审计audit" not in text, where


def test_the_known_formula_repairs_are_in_place() -> None:
    by_id = {s.id: s for s in open_handbook(SOURCE).sections}
    assert r"\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)\,V" in by_id["2.1"].must_know[0]
    assert r"p(x) = \prod_t p(x_t \mid x_{<t})" in by_id["3.1"].overview
    assert r"\Delta W = BA" in by_id["6.2"].examples[0].a
    assert "$\\beta$" in by_id["7.3"].examples[0].q
    assert "{\\{<t\\}}" not in by_id["2.5"].examples[0].a
