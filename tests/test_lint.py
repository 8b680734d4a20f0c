# ruff: noqa: E501  (items are written out whole, as a module file holds them)
"""`paperkit bank check`: each rule fires on an item written to break it, stays quiet on a fair one, and on the
bank as it was before the rewrite (tests/fixtures/bank-before: source/ at commit ee89644) reports the cues a
teacher found by reading it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, write_handbook
from paperkit.cli import app
from paperkit.questions.lint import RULES, Finding, check_bank
from paperkit.source import open_handbook

BEFORE = ROOT / "tests" / "fixtures" / "bank-before"
runner = CliRunner()

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
  - 要点二
  tips:
  - 提示一
  pitfalls:
  - 误区一
  examples:
  - {{id: 1.1.q1, q: 问题一？, a: 答案一。, tests: [k1], difficulty: 易, rubric: [{{point: 答出要点, points: 10}}]}}
  exercises:
{items}
"""


def _findings(tmp_path: Path, items: str) -> list[Finding]:
    source = write_handbook(tmp_path / "src", {"01-first.yaml": MODULE.format(items=items)})
    return check_bank(open_handbook(source))


def _rules(findings: list[Finding]) -> Counter[str]:
    return Counter(f.rule for f in findings)


FAIR_CHOICE = "  - {id: 1.1.c1, kind: choice, q: 哪一项正确, options: [甲方案可行, 乙方案可行, 丙方案可行, 丁方案可行], answer: B, tests: [k1], difficulty: 易}"


@pytest.mark.parametrize(
    ("items", "rule"),
    [
        (
            "  - {id: 1.1.c1, kind: choice, q: 哪一项正确, options: [甲, 乙, 这是一个明显更长而且更具体的正确选项, 丁], answer: C, tests: [k1], difficulty: 易}",
            "longest-option",
        ),
        (
            "  - {id: 1.1.t1, kind: truefalse, q: 只要数据多，模型就一定更好。, answer: 'false', why: 不是。, tests: [k1], difficulty: 易}",
            "absolute-word",
        ),
        (
            "  - {id: 1.1.m1, kind: multi, q: 正确的有, options: [甲方, 乙方, 丙方, 丁方, 戊方, 己方], answer: ABCDE, tests: [k1], difficulty: 中}",
            "multi-count",
        ),
        (
            "  - {id: 1.1.c1, kind: choice, q: 下列说法正确的是, options: [先用检索保证召回率，再用重排提升精确率, 先用重排保证召回率，再用检索提升精确率, 全文摘要后作为唯一上下文, 压缩缓存后再重要性采样], answer: A, tests: [k1], difficulty: 中}",
            "mirror-pair",
        ),
        (
            "  - {id: 1.1.c1, kind: choice, q: 本节介绍的方法是, options: [甲方案可行, 乙方案可行, 丙方案可行, 丁方案可行], answer: B, tests: [k1], difficulty: 易}",
            "section-reference",
        ),
        (
            "  - {id: 1.1.c1, kind: choice, q: 下列说法不正确的是, options: [甲方案可行, 乙方案可行, 丙方案可行, 丁方案可行], answer: B, tests: [k1], difficulty: 易}",
            "negative-unmarked",
        ),
        (
            "  - {id: 1.1.c1, kind: choice, q: 哪一项正确, options: [甲方案可行, 乙方案可行, 丙方案可行, 丁方案可行], answer: B}",
            "missing-difficulty",
        ),
        ("  - {id: 1.1.s1, kind: short, q: 为什么？, a: 因为。, tests: [k2], difficulty: 中}", "missing-rubric"),
        (
            "  - {id: 1.1.s1, kind: short, q: 为什么？, a: 因为。, tests: [k2], difficulty: 中, rubric: [{point: 甲, points: 6}]}",
            "rubric-total",
        ),
    ],
)
def test_each_item_rule_fires_on_an_item_written_to_break_it(tmp_path: Path, items: str, rule: str) -> None:
    assert rule in _rules(_findings(tmp_path, items))
    assert _rules(_findings(tmp_path / "fair", FAIR_CHOICE)) == Counter()


def test_a_held_back_item_that_shows_another_ones_answer_is_a_leak(tmp_path: Path) -> None:
    items = "\n".join(
        [
            "  - {id: 1.1.ef1, kind: fill, use: exam, q: '缓存注意力键值的结构叫 [[KV cache]]。', tests: [k1], difficulty: 易}",
            "  - {id: 1.1.et1, kind: truefalse, use: exam, q: 推理时 KV cache 会随序列变长。, answer: 'true', why: 是。, tests: [k2], difficulty: 易}",
        ]
    )
    leaks = [f for f in _findings(tmp_path, items) if f.rule == "answer-leak"]
    assert [(f.subject, f.message) for f in leaks] == [("1.1.et1", "shows the answer of 1.1.ef1: 「KV cache」")]


def test_every_rule_is_documented_and_the_cli_prints_a_summary_and_json(tmp_path: Path) -> None:
    source = write_handbook(tmp_path / "src", {"01-first.yaml": MODULE.format(items=FAIR_CHOICE)})
    result = runner.invoke(app, ["bank", "check", "--source", str(source)])
    assert result.exit_code == 0 and result.stdout.splitlines()[-1].endswith("0 findings in 2 items — OK")
    assert [line.split()[0] for line in result.stdout.splitlines()[2:-1]] == list(RULES)
    data = json.loads(runner.invoke(app, ["bank", "check", "--source", str(source), "--json"]).stdout)
    assert data["items"] == 2 and data["findings"] == [] and set(data["summary"]) == set(RULES)
    assert data["thresholds"]["longest_ratio"] == 1.25


def test_strict_fails_on_a_finding_and_modules_limit_the_check(tmp_path: Path) -> None:
    items = "  - {id: 1.1.c1, kind: choice, q: 本节的方法是, options: [甲方案可行, 乙方案可行, 丙方案可行, 丁方案可行], answer: B, tests: [k1], difficulty: 易}"
    source = write_handbook(tmp_path / "src", {"01-first.yaml": MODULE.format(items=items)})
    warned = runner.invoke(app, ["bank", "check", "--source", str(source)])
    assert warned.exit_code == 0 and "1.1.c1: section-reference: the stem says 本节" in warned.stdout
    strict = runner.invoke(app, ["bank", "check", "--source", str(source), "--strict"])
    assert strict.exit_code == 1 and strict.stdout.splitlines()[-1].endswith("1 finding in 2 items — strict: failed")
    unknown = runner.invoke(app, ["bank", "check", "--source", str(source), "--modules", "7"])
    assert (unknown.exit_code, unknown.stderr) == (2, "error: --modules: unknown module 7; modules are 1\n")


@pytest.fixture(scope="module")
def before() -> list[Finding]:
    return check_bank(open_handbook(BEFORE))


def test_on_the_bank_before_the_rewrite_it_reports_the_cues_a_reader_found(before: list[Finding]) -> None:
    rules = _rules(before)
    # The key uniquely the longest option in 56 of 112 choice items (chance about 28), ≥ 1.5× the next in 21.
    assert rules["longest-option"] >= 21 and rules["longest-share"] >= 8
    # 33 of 42 false 判断 with an absolute word.
    assert rules["absolute-word"] >= 30
    # 26 of 28 多选 with 3 of 5 correct; A correct in 25 of 28.
    assert rules["multi-spread"] == 12
    assert any(f.rule == "multi-letter" and f.message == "A is correct in 25 of 28 multi items" for f in before)
    mirrors = {f.subject for f in before if f.rule == "mirror-pair"}
    assert mirrors >= {"0.3.c1", "3.2.c1", "5.3.c1", "5.7.c1", "9.4.c1", "8.5.c1"}
    duplicates = {(f.subject, f.message.split()[5]) for f in before if f.rule == "near-duplicate"}
    assert {("5.3.f1", "0.3.f1"), ("8.2.c1", "2.6.c1"), ("8.2.c2", "2.2.c1")} <= duplicates
    assert {f.subject for f in before if f.rule == "section-reference"} == {"6.3.c2", "7.4.f1", "8.1.f1"}
    assert rules["missing-rubric"] == 95 and rules["missing-difficulty"] == 264
