"""`paperkit validate` on broken content: the exact one-line message, exit code 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import HANDBOOK_YAML, MODULE_YAML, write_handbook
from paperkit.cli import app

runner = CliRunner()
M = "source/modules/01-first.yaml"


def _module(old: str, new: str) -> dict[str, str]:
    assert old in MODULE_YAML, old
    return {"01-first.yaml": MODULE_YAML.replace(old, new, 1)}


# (case id, module files (None = the valid one), handbook.yaml text, the expected problem lines)
CASES = [
    (
        "yaml syntax",
        _module("  title: 第一节\n", "  title: [第一节\n"),
        HANDBOOK_YAML,
        [
            f"{M}:7:11: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence that starts on "
            "line 6)"
        ],
    ),
    (
        "tab indentation",
        _module("  - 要点一", "\t- 要点一"),
        HANDBOOK_YAML,
        [f"{M}:9:1: YAML syntax: tab character; indent with spaces, not tabs"],
    ),
    (
        "missing field",
        _module("  overview: 概述文字，含公式 $O(S^2)$。\n", ""),
        HANDBOOK_YAML,
        [f"{M}:5:3: sections[0].overview: missing (required field)"],
    ),
    (
        "unknown field (typo)",
        _module("  tips:", "  tip:"),
        HANDBOOK_YAML,
        [f"{M}:10:3: sections[0].tip: unknown field (did you mean 'tips'?)"],
    ),
    (
        "unknown field (another format's name)",
        _module(
            "    a: 答案一。\n",
            "    a: 答案一。\n  exercises:\n  - id: 1.1.t1\n    kind: truefalse\n    q: 一个陈述。\n"
            "    answer: true\n    explanation: 解释。\n",
        ),
        HANDBOOK_YAML,
        [f"{M}:23:5: sections[0].exercises[0].explanation: unknown field (did you mean 'why'?)"],
    ),
    (
        "a duplicated id does not hide the first item's problems",
        _module(
            "    a: 答案一。\n",
            "    a: 答案一。\n  exercises:\n  - id: 1.1.t1\n    kind: truefalse\n    q: 一个陈述。\n    answer: maybe\n"
            "  - id: 1.1.t1\n    kind: truefalse\n    q: 另一个陈述。\n    answer: true\n    why: 因为。\n",
        ),
        HANDBOOK_YAML,
        [
            f"{M}:22:13: sections[0].exercises[0].answer: expected true or false, got 'maybe'",
            f"{M}:23:9: sections[0].exercises[1].id: '1.1.t1' is used by {M}:19 too",
        ],
    ),
    (
        "wrong type: list for text",
        _module("title: 第一模块", "title: [a, b]"),
        HANDBOOK_YAML,
        [
            f"{M}:2:8: title: expected text, got a list "
            "(a text starting with { or [ is read as YAML data; "
            "put the whole text in single quotes ('…', with '' for a '))"
        ],
    ),
    (
        "wrong type: module id",
        _module("id: 1", "id: one"),
        HANDBOOK_YAML,
        [f"{M}:1:5: id: expected a whole number, got 'one'"],
    ),
    (
        "empty answer",
        _module("    a: 答案一。", "    a: ''"),
        HANDBOOK_YAML,
        [f"{M}:17:8: sections[0].examples[0].a: must not be empty"],
    ),
    (
        "empty must_know list",
        _module("  must_know:\n  - 要点一\n", "  must_know: []\n"),
        HANDBOOK_YAML,
        [f"{M}:8:14: sections[0].must_know: must list at least one item"],
    ),
    (
        "duplicate field",
        _module("objective: 学会基础。\n", "objective: 学会基础。\nobjective: 再来。\n"),
        HANDBOOK_YAML,
        [f"{M}:4:1: objective: duplicate field (first given on line 3)"],
    ),
    (
        "duplicate module id",
        {"01-first.yaml": MODULE_YAML, "02-second.yaml": MODULE_YAML.replace("第一模块", "第二模块")},
        HANDBOOK_YAML,
        [
            "source/modules/02-second.yaml:1:5: id: 1 is used by source/modules/01-first.yaml too",
            "source/modules/02-second.yaml:5:7: sections[0].id: '1.1' is used by source/modules/01-first.yaml:5 too",
            (
                "source/modules/02-second.yaml:15:9: sections[0].examples[0].id: '1.1.q1' "
                "is used by source/modules/01-first.yaml:15 too"
            ),
        ],
    ),
    (
        "section id not prefixed by module id",
        _module("- id: '1.1'", "- id: '2.1'"),
        HANDBOOK_YAML,
        [
            f"{M}:5:7: sections[0].id: expected '1.<number>' (the module id 1, a dot, a number), got '2.1'",
            f"{M}:15:9: sections[0].examples[0].id: expected '2.1.<name>' (e.g. '2.1.q1'), got '1.1.q1'",
        ],
    ),
    (
        "bad TeX: unbalanced brace",
        _module("$O(S^2)$", r"$\frac{a}{$"),
        HANDBOOK_YAML,
        [f"{M}:7:13: sections[0].overview: $\\frac{{a}}{{$: TeX does not render: a {{ without its }}"],
    ),
    (
        "bad TeX: empty script",
        _module("$O(S^2)$", r"$x^$"),
        HANDBOOK_YAML,
        [f"{M}:7:13: sections[0].overview: $x^$: TeX does not render: ^ or _ with nothing after it"],
    ),
    (
        "unknown TeX command",
        _module("$O(S^2)$", r"$\foo{x}$"),
        HANDBOOK_YAML,
        [f"{M}:7:13: sections[0].overview: $\\foo{{x}}$: unknown TeX command \\foo"],
    ),
    (
        "Chinese inside math",
        _module("$O(S^2)$", "$O(长度^2)$"),
        HANDBOOK_YAML,
        [
            (
                f"{M}:7:13: sections[0].overview: $O(长度^2)$: Chinese character 「长」 inside $…$; "
                "write it as \\text{长} (set in the Chinese font, as in F_{\\text{合}}) or move it outside the math"
            )
        ],
    ),
    (
        "unmatched dollar",
        _module("    q: 问题一？", "    q: 价格 $5 元？"),
        HANDBOOK_YAML,
        [
            f"{M}:16:8: sections[0].examples[0].q: unmatched $ (close the formula with $, or write \\$ for a dollar "
            "sign)"
        ],
    ),
    (
        "uncovered character",
        _module("  - 误区一", "  - 误区 🦜"),
        HANDBOOK_YAML,
        [
            (
                f"{M}:13:5: sections[0].pitfalls[0]: character '🦜' (U+1F99C, parrot) is not in the shipped fonts; "
                "add it with scripts/build_fonts.py"
            )
        ],
    ),
    (
        "bad date",
        None,
        HANDBOOK_YAML.replace("'2026-01-18'", "18.1.2026"),
        ["source/handbook.yaml:2:7: date: expected a date like 2026-01-18, got '18.1.2026'"],
    ),
    (
        "module not a mapping",
        {"01-first.yaml": "- just\n- a list\n"},
        HANDBOOK_YAML,
        [f"{M}:1:1: (top level): expected a mapping of fields, got a list"],
    ),
    (
        "empty module file",
        {"01-first.yaml": "\n"},
        HANDBOOK_YAML,
        [f"{M}:1: file is empty; expected a mapping of fields"],
    ),
    ("no modules", {}, HANDBOOK_YAML, ["source/modules/: no module files (modules/*.yaml)"]),
    (
        "YAML alias bomb",
        {"01-first.yaml": "a: &a [x, x]\nb: &b [*a, *a]\n"},
        HANDBOOK_YAML,
        [
            f"{M}:1:1: a: unknown field (expected one of: id, title, short_title, objective, sections)",
            f"{M}:1:1: id: missing (required field)",
            f"{M}:1:1: objective: missing (required field)",
            f"{M}:1:1: sections: missing (required field)",
            f"{M}:1:1: title: missing (required field)",
            f"{M}:2:1: b: unknown field (expected one of: id, title, short_title, objective, sections)",
        ],
    ),
]


@pytest.mark.parametrize("modules, handbook, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_content_is_reported_line_by_line(in_tmp: Path, modules, handbook, expected) -> None:
    write_handbook(in_tmp, modules, handbook)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    noun = "error" if len(expected) == 1 else "errors"
    assert result.stderr.splitlines() == [*expected, f"{len(expected)} {noun} in source/; nothing was built."]
    assert "Traceback" not in result.output


def test_non_utf8_file(in_tmp: Path) -> None:
    source = write_handbook(in_tmp)
    (source / "modules" / "01-first.yaml").write_bytes(MODULE_YAML.replace("第一节", "第二节").encode("gbk"))
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{M}:2: not UTF-8 text (byte 0xb5); save the file as UTF-8"


def test_huge_file(in_tmp: Path) -> None:
    source = write_handbook(in_tmp)
    (source / "modules" / "01-first.yaml").write_text(MODULE_YAML + "#" * 3_000_000, encoding="utf-8")
    result = runner.invoke(app, ["validate"])
    assert result.stderr.splitlines()[0] == f"{M}: file is 3.0 MB; a content file may be at most 2 MB"


def test_missing_source_directory(in_tmp: Path) -> None:
    result = runner.invoke(app, ["validate", "--source", "nowhere"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["nowhere/: no such directory", "1 error in nowhere/; nothing was built."]


def test_every_problem_is_collected_not_just_the_first(in_tmp: Path) -> None:
    broken = MODULE_YAML.replace("    a: 答案一。", "    a: ''").replace("title: 第一模块", "title: ''")
    write_handbook(in_tmp, {"01-first.yaml": broken, "02-second.yaml": "id: [\n"})
    result = runner.invoke(app, ["validate"])
    assert len(result.stderr.splitlines()) == 4
    assert result.stderr.splitlines()[-1] == "3 errors in source/; nothing was built."


ONE_PASS = {
    # a field problem beside a kind problem in the same file
    "01-first.yaml": MODULE_YAML.replace("    a: 答案一。", "    a: 答案一。\n    explanation: 多余")
    + """  exercises:
  - id: 1.1.e1
    kind: choice
    q: 哪个？
    options: [甲, 乙]
    answer: C
""",
    # a YAML syntax error skips only its own file
    "02-second.yaml": "id: 2\ntitle: 第二模块\nobjective: [学会\n",
    # a glyph the fonts lack and an id that another file uses, in a file that reads cleanly
    "03-third.yaml": MODULE_YAML.replace("id: 1\n", "id: 3\n", 1)
    .replace("title: 第一模块", "title: 第三模块 \U00020000")
    .replace("'1.1'", "'3.1'"),
}


def test_one_run_shows_the_yaml_field_kind_glyph_and_id_problems_of_every_file(in_tmp: Path) -> None:
    """Issue 29 point 6: no second round. Each file that reads is checked to the end even when another does not,
    and a record with a field problem is checked for the rest when it can still be built."""
    write_handbook(in_tmp, ONE_PASS)
    result = runner.invoke(app, ["validate"])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    expected = [
        # file:line:column, the column where the field's value (or the bad text) starts
        "source/modules/01-first.yaml:18:5: sections[0].examples[0].explanation: unknown field",
        "source/modules/01-first.yaml:24:13: sections[0].exercises[0].answer: expected one letter of the options",
        "source/modules/02-second.yaml:4:1: YAML syntax:",
        "source/modules/03-third.yaml:2:8: title: character '\U00020000' (U+20000",
        "source/modules/03-third.yaml:15:9: sections[0].examples[0].id: '1.1.q1' is used by "
        "source/modules/01-first.yaml:15",
        "source/modules/03-third.yaml:15:9: sections[0].examples[0].id: expected '3.1.<name>'",
    ]
    assert len(lines) == len(expected) + 1, lines
    for line, start in zip(lines, expected, strict=False):
        assert line.startswith(start), (lines, start)
    assert lines[-1] == "6 errors in source/; nothing was built."
    assert not (in_tmp / "build").exists()


def test_a_record_that_cannot_be_built_is_left_out_and_its_siblings_are_checked(in_tmp: Path) -> None:
    broken = ONE_PASS["01-first.yaml"].replace("    q: 问题一？\n", "", 1)  # the example lacks its question
    write_handbook(in_tmp, {"01-first.yaml": broken})
    lines = runner.invoke(app, ["validate"]).stderr.splitlines()
    assert any(line.endswith("sections[0].examples[0].q: missing (required field)") for line in lines), lines
    assert any("exercises[0].answer: expected one letter" in line for line in lines), lines


def test_valid_content_prints_the_counts(in_tmp: Path) -> None:
    write_handbook(in_tmp)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "source/: 1 module, 1 section, 1 question — OK\n"


def test_text_fields_keep_what_was_typed(in_tmp: Path) -> None:
    # 2.10 would be the float 2.1 to a YAML library; paperkit keeps the text as written.
    from paperkit.content.load import load_handbook

    modules = {
        "01-first.yaml": MODULE_YAML.replace("- id: '1.1'", "- id: 1.10")
        .replace("1.1.q1", "1.10.q1")
        .replace("a: 答案一。", "a: yes")
    }
    handbook = load_handbook(write_handbook(in_tmp, modules))
    assert handbook.sections[0].id == "1.10"
    assert handbook.examples[0].a == "yes"


def test_a_missing_glyph_says_whether_rebuilding_the_fonts_can_help(in_tmp: Path) -> None:
    write_handbook(in_tmp, _module("  overview: 概述文字，含公式 $O(S^2)$。", "  overview: 时间 0∼2 s，人名 㐂。"))
    result = runner.invoke(app, ["validate"])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            f"{M}:7:13: sections[0].overview: character '∼' (U+223C, tilde operator) is not in the shipped fonts, "
            "nor in Noto CJK SC (rebuilding the fonts cannot add it); write it as math, $\\sim$",
            f"{M}:7:13: sections[0].overview: character '㐂' (U+3402, cjk unified ideograph-3402) is not in the "
            "shipped fonts; add it with scripts/build_fonts.py",
            "2 errors in source/; nothing was built.",
        ],
    )
