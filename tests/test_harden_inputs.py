"""Hardening (issue 31, rows 9, 12, 13): text options have lengths, numbers have ranges, manifests have a schema.

Each was an exit-70 internal error (or minutes of layout) before: a 100,000-character --title, a 5,000-digit
--seed, a hand-edited manifest with a student without a name or `Infinity` for a seed. Now each is one line
naming the option (or the manifest and its field) and what would be right, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.errors import UsageError
from paperkit.exam.job import source_from
from paperkit.exam.manifest import manifest_json, read_manifest
from paperkit.exam.options import MAX_COURSE, MAX_TITLE, ExamFlags, check_against_bank, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.preview import Preview
from paperkit.render.page import geometry_for

runner = CliRunner()
DIGITS = "9" * 5000
SHOWN = "9" * 32 + "… (5000 characters)"  # how a message quotes a 5,000-character value
EX = ["exam", "--source", str(SOURCE), "--modules", "2"]


def fails(args: list[str], line: str, cwd: Path) -> None:
    """The command exits 2 with exactly this one line on stderr, and writes nothing."""
    before = sorted(cwd.rglob("*"))
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.stderr) == (2, line + "\n")
    assert sorted(cwd.rglob("*")) == before


# ---- row 9: free text has a length ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "line"),
    [
        ("--title", f"error: --title is 100000 characters long; at most {MAX_TITLE} fit on a paper"),
        ("--course", f"error: --course is 100000 characters long; at most {MAX_COURSE} fit on a paper"),
        ("--date", "error: --date is 100000 characters long; at most 1000 are allowed"),
        ("--seal-fields", "error: --seal-fields is 100000 characters long; at most 1000 are allowed"),
        ("--paper", "error: --paper is 100000 characters long; at most 1000 are allowed"),
        ("--pool", "error: --pool is 100000 characters long; at most 1000 are allowed"),
    ],
)
def test_a_100000_character_text_option_is_one_usage_line(
    flag: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fails([*EX, flag, "x" * 100_000], line, tmp_path)


def test_title_and_course_at_their_limits_are_taken() -> None:
    options = parse_exam_flags(ExamFlags(modules="2", title="题" * MAX_TITLE, course="课" * MAX_COURSE))
    assert (len(options.title or ""), len(options.course)) == (MAX_TITLE, MAX_COURSE)
    with pytest.raises(UsageError) as caught:
        parse_exam_flags(ExamFlags(modules="2", title="题" * (MAX_TITLE + 1)))
    assert str(caught.value) == f"--title is {MAX_TITLE + 1} characters long; at most {MAX_TITLE} fit on a paper"


@pytest.mark.parametrize(
    "args", [["handbook", "--answers"], ["handbook", "--paper"], ["checklist", "--paper"], ["preview", "--paper"]]
)
def test_a_handbook_option_has_a_length(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fails(
        [args[0], "--source", str(SOURCE), args[1], "x" * 100_000],
        f"error: {args[1]} is 100000 characters long; at most 1000 are allowed",
        tmp_path,
    )


# ---- row 13: every number has a range, 5,000 digits included -------------------------------------------------


NUMBER_CASES: list[tuple[list[str], str]] = [
    ([*EX, "--seed", DIGITS], f"error: --seed {SHOWN}: expected a whole number from 0 to 999999999999999999"),
    ([*EX, "--count", DIGITS], f"error: --count {SHOWN}: expected a whole number ≥ 1 of at most 40 digits"),
    ([*EX, "--count", "9" * 41], f"error: --count {'9' * 41}: expected a whole number ≥ 1 of at most 40 digits"),
    ([*EX, "--total-points", DIGITS], f"error: --total-points {SHOWN}: expected a whole number from 1 to 1000"),
    ([*EX, "--total-points", "1001"], "error: --total-points 1001: expected a whole number from 1 to 1000"),
    (
        [*EX, "--variants", DIGITS],
        f"error: --variants {SHOWN}: expected a whole number from 1 to 26 (one paper per letter A–Z)",
    ),
    ([*EX, "--duration", DIGITS], f"error: --duration {SHOWN}: expected a whole number from 1 to 1440 minutes"),
    (
        ["exam", "--source", str(SOURCE), "--modules", DIGITS],
        f"error: --modules {SHOWN}: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)",
    ),
    (
        [*EX, "--parts", f"choice:{DIGITS}x2"],
        f"error: --parts choice:{'9' * 25}… (5009 characters): a part has 1 to 200 questions of 1 to 1000 "
        "points each, like choice:10x2",
    ),
    (
        [*EX, "--parts", f"choice:2x{DIGITS}"],
        f"error: --parts choice:2x{'9' * 23}… (5009 characters): a part has 1 to 200 questions of 1 to 1000 "
        "points each, like choice:10x2",
    ),
    (
        [*EX, "--parts", "choice:150x2,short:60x1"],
        "error: --parts choice:150x2,short:60x1: 210 questions in all; a paper holds at most 200",
    ),
    (
        [*EX, "--parts", "choice:10x60,short:5x100"],
        "error: --parts choice:10x60,short:5x100: 1100 points in all; a paper gives at most 1000",
    ),
    (["handbook", "--jobs", DIGITS], f"error: --jobs {SHOWN}: expected a whole number from 1 to 64"),
    (["scoresheet", "m.json", "--rows", DIGITS], f"error: --rows {SHOWN}: expected a whole number from 1 to 2000"),
    (["scan", "m.json", "--rows", DIGITS], f"error: --rows {SHOWN}: expected a whole number from 1 to 2000"),
    (
        ["analyze", "m.json", "s.csv", "--pass", DIGITS],
        f"error: --pass {SHOWN}: expected a whole number from 1 to 100",
    ),
    (
        ["analyze", "m.json", "s.csv", "--excellent", DIGITS],
        f"error: --excellent {SHOWN}: expected a whole number from 1 to 100",
    ),
    (
        ["analyze", "m.json", "s.csv", "--low", DIGITS],
        f"error: --low {SHOWN}: expected a whole number from 1 to 100",
    ),
    (
        ["practice", "m.json", "s.csv", "--count", DIGITS],
        f"error: --count {SHOWN}: expected a whole number from 1 to 40",
    ),
    (["preview", "--port", DIGITS], f"error: --port {SHOWN}: expected a whole number from 0 to 65535"),
]


@pytest.mark.parametrize(
    ("args", "line"), NUMBER_CASES, ids=[f"{args[0]} {line.split()[1]}" for args, line in NUMBER_CASES]
)
def test_a_5000_digit_number_is_one_usage_line(
    args: list[str], line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fails(args, line, tmp_path)


def test_a_paper_holds_at_most_200_questions_and_1000_points(tmp_path: Path) -> None:
    options = parse_exam_flags(ExamFlags(modules="2", count="300"))
    with pytest.raises(UsageError) as caught:
        check_against_bank(options, {2: 500})  # a pool larger than a paper
    assert (
        str(caught.value) == "--count 300: expected a whole number from 1 to 200 (a paper holds at most 200 questions)"
    )
    blueprint = tmp_path / "bp.yaml"
    blueprint.write_text("parts:\n- kind: choice\n  count: 150\n  points: 2\n- kind: short\n  count: 60\n  points: 1\n")
    with pytest.raises(UsageError) as caught:
        parse_exam_flags(ExamFlags(modules="2", blueprint=blueprint))
    assert str(caught.value) == f"--blueprint {blueprint}: 210 questions in all; a paper holds at most 200"


def test_preview_query_numbers_have_ranges_too() -> None:
    reported: list[str] = []
    preview = Preview(SOURCE, geometry_for("A4"), reported.append)
    page = preview.respond(f"/exam?modules=2&seed={DIGITS}")
    assert page.status == 200
    assert reported == [f"error: --seed {SHOWN}: expected a whole number from 0 to 999999999999999999"]
    preview.changed()
    preview.respond("/exam?modules=2&title=" + "x" * 101)
    assert reported[-1] == f"error: --title is 101 characters long; at most {MAX_TITLE} fit on a paper"


# ---- row 12: a manifest is checked against one schema before anything reads it -------------------------------


@pytest.fixture(scope="module")
def manifest_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A typed exam's manifest with two variants, a roster, option orders per student and answer sheets."""
    root = tmp_path_factory.mktemp("exam")
    (root / "r.csv").write_text("姓名,学号,座号\n张三,001,1\n李四,002,2\n", encoding="utf-8")
    flags = ExamFlags(
        modules="2,3",
        seed="7",
        parts="choice:3x2,short:2x10",
        variants="2",
        roster=root / "r.csv",
        shuffle_options="student",
        answer_sheet=True,
        seal_line=True,
        seal_fields="考场号",
    )
    plan = plan_exam(parse_exam_flags(flags), SOURCE, root)
    return json.loads(manifest_json(plan.manifest, source_from(root, SOURCE)))


Edit = Callable[[dict[str, Any]], str | None]  # changes the data in place, or returns the JSON text to write


def _drop_name(data: dict[str, Any]) -> None:
    del data["students"][0]["name"]


def _one_more(data: dict[str, Any]) -> None:
    paper = data["papers"]["B"]
    paper["questions"].append(next(q for q in data["papers"]["A"]["questions"] if q not in paper["questions"]))
    paper["points"].append(10)


def _one_less(data: dict[str, Any]) -> None:
    data["papers"]["B"]["questions"].pop()
    data["papers"]["B"]["points"].pop()


def _zero_points(data: dict[str, Any]) -> None:
    data["papers"]["A"]["points"][3] = 0


def _student(field: str, value: object) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        data["students"][1][field] = value

    return edit


def _text(old: str, new: str) -> Edit:
    def edit(data: dict[str, Any]) -> str:
        text = json.dumps(data, ensure_ascii=False)
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


DEEP = "[" * 200_000 + "]" * 200_000
BRIEF_CASES: list[tuple[str, Edit, str]] = [
    ("a student without a name", _drop_name, "students[0].name: missing"),
    ("a variant with a question more", _one_more, "papers.B.questions: expected 5 questions (count), got 6"),
    ("a variant with a question less", _one_less, "papers.B.questions: expected 5 questions (count), got 4"),
    ("an item with 0 points", _zero_points, "papers.A.points[3]: expected a whole number from 1 to 1000, got 0"),
    (
        "JSON nested 200,000 deep",
        _text('"course": ""', f'"course": {DEEP}'),
        "not a readable JSON manifest (lists or objects nested hundreds deep; a manifest is a few levels deep)",
    ),
    (
        "a 5,000-digit seed",
        _text('"seed": 7', f'"seed": {DIGITS}'),
        "seed: expected a whole number from 0 to 999999999999999999, got a 5000-digit number",
    ),
    (
        "Infinity as the seed",
        _text('"seed": 7', '"seed": Infinity'),
        "seed: expected a whole number from 0 to 999999999999999999, got Infinity",
    ),
    (
        "NaN as points",
        _text('"points": [2', '"points": [NaN'),
        "papers.A.points[0]: expected a whole number from 1 to 1000, got NaN",
    ),
]
COMMANDS: list[tuple[str, Callable[[Path, Path], list[str]]]] = [
    ("MANIFEST", lambda m, out: ["scoresheet", str(m), "--out", str(out)]),
    ("MANIFEST", lambda m, out: ["analyze", str(m), str(m.parent / "scores.csv"), "--out", str(out)]),
    ("--from-manifest", lambda m, out: ["exam", "--from-manifest", str(m), "--source", str(SOURCE), "--out", str(out)]),
    (
        "--exclude",
        lambda m, out: ["exam", "--modules", "2,3", "--exclude", str(m), "--source", str(SOURCE), "--out", str(out)],
    ),
]


def _write(data: dict[str, Any], edit: Edit, path: Path) -> Path:
    copy = json.loads(json.dumps(data))
    text = edit(copy)
    path.write_text(text if text is not None else json.dumps(copy, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "edit", "message"), BRIEF_CASES, ids=[case[0] for case in BRIEF_CASES])
def test_a_hand_edited_manifest_is_one_line_from_every_command(
    manifest_data: dict[str, Any], name: str, edit: Edit, message: str, tmp_path: Path
) -> None:
    path = _write(manifest_data, edit, tmp_path / "m.json")
    for flag, command in COMMANDS:
        result = runner.invoke(app, command(path, tmp_path / "out"))
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert (result.exit_code, result.stderr) == (2, f"error: {flag} {path}: {message}\n"), (name, flag)
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_text('"count": 5', '"count": true'), "count: expected a whole number from 1 to 200, got true"),
        (_text('"count": 5', '"count": "5"'), "count: expected a whole number from 1 to 200, got '5'"),
        (
            _text('"total_points": 26', '"total_points": 1e999'),
            "total_points: expected a whole number from 1 to 1000, got 1e999",
        ),
        (
            _text('"total_points": 26', '"total_points": 26.0'),
            "total_points: expected a whole number from 1 to 1000, got 26.0",
        ),
        (_text('"total_points": 26', '"total_points": 27'), "parts: add up to a 满分 of 26, but total_points is 27"),
        (
            _text('"seed": 7', '"seed": -Infinity'),
            "seed: expected a whole number from 0 to 999999999999999999, got -Infinity",
        ),
        (_text('"seal_line": true', '"seal_line": 1'), "seal_line: expected true or false, got 1"),
        (_text('"paper": "A4"', '"paper": "A0"'), "paper: expected one of A4, B5, Letter, A3, B4, 8K, got 'A0'"),
        (
            _text('"date": ""', '"date": "2026-02-30"'),
            "date: expected '' or a real date like 2026-06-20, got '2026-02-30'",
        ),
        (
            _text('"duration": 120', '"duration": 100000'),
            "duration: expected a whole number from 0 to 1440, got 100000",
        ),
        (_text('"course": ""', '"course": "' + "课" * 51 + '"'), "course: expected at most 50 characters, got 51"),
        (_text('"modules": [', '"modules": "2,3", "x": ['), "modules: expected a list, got '2,3'"),
        (_text('"papers": {', '"papers": [], "x": {'), "papers: expected an object, got a list"),
        (_student("student_id", "001"), "students[1].student_id: '001' is students[0]'s too"),
        (_student("student_id", 2), "students[1].student_id: expected text, got 2"),
        (_student("name", ""), "students[1].name: expected at least 1 character, got none"),
        (
            _student("name", "李" * 41),
            "students[1].name: expected at most 40 characters, got 41",
        ),
        (_student("variant", ["B"]), "students[1].variant: expected text, got a list"),
        (_text('"x": 18.0', '"x": NaN'), "answer_sheet.layouts.A.areas[0].x: expected a number from 0 to 210, got NaN"),
        (
            _text('"pages": 1', '"pages": 0'),
            "answer_sheet.layouts.A.pages: expected a whole number from 1 to 100, got 0",
        ),
        (
            _text('"parts": [', '"parts": [{"kind": "essay", "count": 1, "points": 1}, '),
            "parts[0].kind: expected one of choice, multi, truefalse, fill, short, group, got 'essay'",
        ),
        (
            _text('"shuffle_options": "student"', '"shuffle_options": "class"'),
            "shuffle_options: expected one of variant, student, got 'class'",
        ),
        (
            _text('"seal_fields": [', '"seal_fields": ["一二三四五六七", '),
            "seal_fields[0]: expected at most 6 characters, got 7",
        ),
    ],
)
def test_every_field_has_a_type_and_a_range(
    manifest_data: dict[str, Any], edit: Edit, message: str, tmp_path: Path
) -> None:
    path = _write(manifest_data, edit, tmp_path / "m.json")
    with pytest.raises(UsageError) as caught:
        read_manifest(path, "MANIFEST")
    assert str(caught.value) == f"MANIFEST {path}: {message}"


def test_option_orders_must_be_orders(manifest_data: dict[str, Any], tmp_path: Path) -> None:
    student = manifest_data["students"][0]
    question = next(iter(student["options"]))
    cases = [
        ("ABCZ", f"students[0].options.{question}: expected the letters A–H in some order, got 'ABCZ'"),
        ("ABCA", f"students[0].options.{question}: expected the letters A–H in some order, got 'ABCA'"),
    ]
    for order, message in cases:
        data = json.loads(json.dumps(manifest_data))
        data["students"][0]["options"][question] = order
        path = _write(data, lambda _: None, tmp_path / "m.json")
        with pytest.raises(UsageError) as caught:
            read_manifest(path, "MANIFEST")
        assert str(caught.value) == f"MANIFEST {path}: {message}"
    data = json.loads(json.dumps(manifest_data))
    data["students"][0]["options"]["9.9.x1"] = "BA"
    path = _write(data, lambda _: None, tmp_path / "m.json")
    with pytest.raises(UsageError) as caught:
        read_manifest(path, "MANIFEST")
    assert str(caught.value) == (
        f"MANIFEST {path}: students[0].options.9.9.x1: not a question of paper {student['variant']}"
    )


def test_a_manifest_paperkit_wrote_passes_the_schema(manifest_data: dict[str, Any], tmp_path: Path) -> None:
    path = _write(manifest_data, lambda _: None, tmp_path / "manifest.json")
    manifest = read_manifest(path)
    assert manifest.options.parts and manifest.answer_sheet and len(manifest.students) == 2
    result = runner.invoke(app, ["scoresheet", str(path), "--source", str(SOURCE)])
    assert result.exit_code == 0, result.stderr
