"""options.py: flags as typed into ExamOptions, checks against the bank, reprint options (messages exact)."""

from __future__ import annotations

import datetime

import pytest

from paperkit.errors import UsageError
from paperkit.exam.options import ExamFlags, ExamOptions, check_against_bank, parse_exam_flags, reprint_options
from paperkit.render.page import geometry_for

POOLS = {m: 10 for m in range(14)}  # the bundled handbook: 14 modules of 10 worked examples or fewer


def _error(flags: ExamFlags, pools: dict[int, int] | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        options = parse_exam_flags(flags)
        check_against_bank(options, pools or POOLS)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_defaults_live_in_exam_options() -> None:
    options = parse_exam_flags(ExamFlags(modules="8, 2,3"))
    assert options == ExamOptions(modules=(2, 3, 8))
    assert (options.seed, options.count, options.total_points, options.variants, options.duration) == (
        0,
        10,
        100,
        1,
        120,
    )
    assert (options.title, options.date, options.page, options.seal_line) == (None, None, geometry_for("A4"), False)


def test_values_are_typed() -> None:
    flags = ExamFlags(modules="2", seed="7", count="3", date="2026-06-20", paper="b5", seal_line=True, duration="90")
    options = parse_exam_flags(flags)
    assert options.date == datetime.date(2026, 6, 20)
    assert options.page.paper == "B5"
    assert (options.seed, options.count, options.duration, options.seal_line) == (7, 3, 90, True)


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ("14", "--modules 14: unknown module 14; modules are 0–13"),
        ("2,14,99", "--modules 2,14,99: unknown modules 14, 99; modules are 0–13"),
        ("2,,x", "--modules 2,,x: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"),
        ("", "--modules : expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"),
        ("-1", "--modules -1: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"),
        ("2,3,2", "--modules 2,3,2: module 2 is listed twice; list each module once"),
    ],
)
def test_bad_module_lists(modules: str, message: str) -> None:
    assert _error(ExamFlags(modules=modules)) == message


def test_a_module_without_questions() -> None:
    assert _error(ExamFlags(modules="1,2"), {1: 0, 2: 4}) == (
        "--modules 1,2: module 1 has no short-answer items held back for exams; choose other modules or draw from "
        "--pool all"
    )


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "--count 0: expected a whole number ≥ 1"),
        (
            "31",
            "--count 31: expected a whole number from 1 to 30 (--modules 2,3,8: modules 2,3,8 hold 30 short-answer "
            "items held back for exams)",
        ),
        ("ten", "--count ten: expected a whole number ≥ 1"),
    ],
)
def test_bad_counts(count: str, message: str) -> None:
    assert _error(ExamFlags(modules="2,3,8", count=count)) == message


@pytest.mark.parametrize("seed", ["-1", "1.5", "seven", ""])
def test_bad_seeds(seed: str) -> None:
    assert (
        _error(ExamFlags(modules="2", seed=seed))
        == f"--seed {seed}: expected a whole number from 0 to 999999999999999999"
    )


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-02-30", "--date 2026-02-30: no such day; expected a real date like 2026-06-20"),
        ("2025-13-45", "--date 2025-13-45: no such day; expected a real date like 2026-06-20"),
        ("20.6.2026", "--date 20.6.2026: expected a date like 2026-06-20"),
    ],
)
def test_dates_must_exist(date: str, message: str) -> None:
    assert _error(ExamFlags(modules="2", date=date)) == message


def test_points_must_cover_the_questions() -> None:
    assert _error(ExamFlags(modules="2", count="5", total_points="4")) == (
        "--total-points 4: less than one point per question; give at least 5 for 5 questions"
    )


def test_a_reprint_applies_header_flags_and_names_them() -> None:
    recorded = ExamOptions(modules=(2,), seed=7, title="期中", date=datetime.date(2026, 6, 20))
    flags = ExamFlags(title="期中（补考）", date="2026-07-01", paper="B5", course="高一", duration="90", seal_line=True)
    options, changed = reprint_options(recorded, flags)
    assert changed == ("--title", "--course", "--date", "--duration", "--paper", "--seal-line")
    assert (options.title, options.date, options.page.paper, options.duration) == (
        "期中（补考）",
        datetime.date(2026, 7, 1),
        "B5",
        90,
    )
    assert (options.modules, options.seed) == ((2,), 7)


def test_a_reprint_with_the_recorded_values_changes_nothing() -> None:
    recorded = ExamOptions(modules=(2,), title="期中")
    assert reprint_options(recorded, ExamFlags(title="期中", paper="A4")) == (recorded, ())


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (ExamFlags(seed="3"), "--seed"),
        (ExamFlags(modules="2", count="4"), "--modules, --count"),
        (ExamFlags(variants="2", total_points="50"), "--total-points, --variants"),
    ],
)
def test_a_reprint_refuses_selection_flags(flags: ExamFlags, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        reprint_options(ExamOptions(modules=(2,)), flags)
    assert str(caught.value) == (
        f"--from-manifest reprints the recorded questions; leave out {named} "
        "(only --title, --course, --date, --duration, --paper and the --seal-* options may change)"
    )
