"""The bad-input matrix: every way a teacher's input can be wrong, through the CLI, one row each.

Each row gives the command line, a setup that breaks something, the exact stderr lines and the exit
code. Every row also checks that no traceback escaped and that not a single file under the working
directory (the source, the output folder and its earlier outputs) was added, changed or removed.
Content reaching the PDF as raw HTML is the one kind of "bad" input that must build: it is shown
literally, and nothing outside paperkit's own files is opened.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import MODULE_YAML, SOURCE, write_handbook
from paperkit import i18n
from paperkit.cli import app
from paperkit.paths import FONTS
from paperkit.render import document as render
from paperkit.text import fonts

runner = CliRunner()

M = "source/modules/01-first.yaml"
H = "source/handbook.yaml"
HB = ["handbook", "--out", "out/handbook.pdf"]
CL = ["checklist", "--out", "out/checklist.pdf"]
EX = ["exam", "--source", str(SOURCE), "--out", "out/exams"]
ROSTER_HEADER = "expected a header row with 姓名 and 学号 (or 考号/准考证号/座号; English: name, id), optional 班级"


def built(count: int = 1) -> str:
    return f"{count} {'error' if count == 1 else 'errors'} in source/; nothing was built."


# -- setups: each breaks one thing in a working directory holding source/ and out/ --------------

Setup = Callable[[Path, pytest.MonkeyPatch], None]


def module(old: str, new: str) -> Setup:
    """Replace text in the tiny handbook's module file."""
    assert old in MODULE_YAML, old

    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        (root / M).write_text(MODULE_YAML.replace(old, new, 1), encoding="utf-8")

    return setup


def module_text(text: str | bytes, name: str = "01-first.yaml") -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        path = root / "source" / "modules" / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return setup


def front_matter(text: str) -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        (root / H).write_text(text, encoding="utf-8")

    return setup


def empty_source(root: Path, _: pytest.MonkeyPatch) -> None:
    shutil.rmtree(root / "source")
    (root / "source").mkdir()


def roster(data: bytes, name: str = "r.csv") -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        (root / name).write_bytes(data)

    return setup


def templates(edit: Callable[[Path], None]) -> Setup:
    """A copy of templates/ in the working directory, edited, and made the one paperkit renders from."""

    def setup(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        copy = root / "templates"
        shutil.copytree(render.TEMPLATES, copy)
        edit(copy)
        monkeypatch.setattr(render, "TEMPLATES", Path("templates"))

    return setup


def edit_template(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, old
        (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def missing_font(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fourth face points at a file that is not there; the coverage cache must not remember the old faces.
    monkeypatch.setattr(fonts, "FACES", (*fonts.FACES[:3], fonts.Face("NotoSansSC-Missing.otf", "PK Sans", 700)))
    fonts.covered_characters.cache_clear()


def a_file(relative: str) -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        (root / relative).write_text("not a folder\n", encoding="utf-8")

    return setup


def a_folder(relative: str) -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        (root / relative).mkdir(parents=True)

    return setup


def both(*setups: Setup) -> Setup:
    def setup(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        for one in setups:
            one(root, monkeypatch)

    return setup


# -- the matrix ----------------------------------------------------------------------------------

Expected = list[str] | Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One bad input: the command, what the setup breaks, the exact stderr lines, the exit code."""

    id: str
    argv: list[str]
    setup: Setup | None
    stderr: Expected
    exit_code: int = 1


CASES = [
    # content YAML (exit 1, every problem with file:line: field, then the summary)
    Case(
        "yaml: syntax error",
        HB,
        module("  title: 第一节\n", "  title: [第一节\n"),
        [
            (
                f"{M}:7:11: YAML syntax: did not find expected ',' or ']' "
                "(while parsing a flow sequence that starts on line 6)"
            ),
            built(),
        ],
    ),
    Case(
        "yaml: tab indentation",
        CL,
        module("  - 要点一", "\t- 要点一"),
        [f"{M}:9:1: YAML syntax: tab character; indent with spaces, not tabs", built()],
    ),
    Case(
        "yaml: wrong type (list for text)",
        HB,
        module("title: 第一模块", "title: [a, b]"),
        [
            f"{M}:2:8: title: expected text, got a list "
            "(a text starting with { or [ is read as YAML data; "
            "put the whole text in single quotes ('…', with '' for a '))",
            built(),
        ],
    ),
    Case(
        "yaml: wrong type (module id)",
        ["validate"],
        module("id: 1", "id: one"),
        [f"{M}:1:5: id: expected a whole number, got 'one'", built()],
    ),
    Case(
        "yaml: missing field",
        HB,
        module("objective: 学会基础。\n", ""),
        [f"{M}:1:1: objective: missing (required field)", built()],
    ),
    Case(
        "yaml: unknown field",
        HB,
        module("  pitfalls:", "  pitfall:"),
        [f"{M}:12:3: sections[0].pitfall: unknown field (did you mean 'pitfalls'?)", built()],
    ),
    Case(
        "yaml: empty string",
        CL,
        module("    q: 问题一？", "    q: ''"),
        [f"{M}:16:8: sections[0].examples[0].q: must not be empty", built()],
    ),
    Case(
        "yaml: duplicate question ids",
        HB,
        module("    a: 答案一。\n", "    a: 答案一。\n  - id: 1.1.q1\n    q: 问题二？\n    a: 答案二。\n"),
        [f"{M}:18:9: sections[0].examples[1].id: '1.1.q1' is used by {M}:15 too", built()],
    ),
    Case(
        "yaml: module is not a mapping",
        HB,
        module_text("- 只是\n- 一个列表\n"),
        [f"{M}:1:1: (top level): expected a mapping of fields, got a list", built()],
    ),
    Case(
        "yaml: handbook.yaml is a plain text",
        HB,
        front_matter("小手册\n"),
        [f"{H}:1:1: (top level): expected a mapping of fields, got text '小手册'", built()],
    ),
    Case(
        "yaml: two documents in one file",
        HB,
        module_text(MODULE_YAML + "---\nid: 2\n"),
        [f"{M}:19: more than one YAML document (---); put one module per file", built()],
    ),
    Case(
        "yaml: empty source/",
        HB,
        empty_source,
        [
            f"{H}: missing: every handbook needs a handbook.yaml with its title and date",
            "source/modules/: no module files (modules/*.yaml)",
            built(2),
        ],
    ),
    Case(
        "yaml: no source directory",
        [*HB, "--source", "nowhere"],
        None,
        ["nowhere/: no such directory", "1 error in nowhere/; nothing was built."],
    ),
    Case(
        "yaml: non-UTF-8 file",
        HB,
        module_text(MODULE_YAML.replace("第一节", "第二节").encode("gbk")),
        [f"{M}:2: not UTF-8 text (byte 0xb5); save the file as UTF-8", built()],
    ),
    Case(
        "yaml: huge file",
        HB,
        module_text(MODULE_YAML + "#" * 3_000_000),
        [f"{M}: file is 3.0 MB; a content file may be at most 2 MB", built()],
    ),
    Case(
        "yaml: bad date",
        HB,
        front_matter("title: 小手册\ndate: 18.1.2026\n"),
        [f"{H}:2:7: date: expected a date like 2026-01-18, got '18.1.2026'", built()],
    ),
    # markup that cannot be rendered (raw HTML is rendered literally: see test_raw_html_is_shown_literally)
    Case(
        "markup: unclosed $",
        HB,
        module("    q: 问题一？", "    q: 价格 $5 元？"),
        [
            (
                f"{M}:16:8: sections[0].examples[0].q: unmatched $ "
                "(close the formula with $, or write \\$ for a dollar sign)"
            ),
            built(),
        ],
    ),
    Case(
        "markup: TeX that does not render",
        CL,
        module("$O(S^2)$", r"$\frac{a}{$"),
        [f"{M}:7:13: sections[0].overview: $\\frac{{a}}{{$: TeX does not render: a {{ without its }}", built()],
    ),
    Case(
        "markup: unknown TeX command",
        HB,
        module("$O(S^2)$", r"$\foo{x}$"),
        [f"{M}:7:13: sections[0].overview: $\\foo{{x}}$: unknown TeX command \\foo", built()],
    ),
    # exam options (exit 2; the cases of the exam issue)
    Case(
        "exam: unknown module",
        [*EX, "--modules", "14"],
        None,
        ["error: --modules 14: unknown module 14; modules are 0–13"],
        2,
    ),
    Case(
        "exam: malformed module list",
        [*EX, "--modules", "2,,x"],
        None,
        ["error: --modules 2,,x: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)"],
        2,
    ),
    Case(
        "exam: module listed twice",
        [*EX, "--modules", "2,3,2"],
        None,
        ["error: --modules 2,3,2: module 2 is listed twice; list each module once"],
        2,
    ),
    Case(
        "exam: --count 0",
        [*EX, "--modules", "2,3,8", "--count", "0"],
        None,
        ["error: --count 0: expected a whole number ≥ 1"],
        2,
    ),
    Case(
        "exam: --count above the pool",
        [*EX, "--modules", "2,3,8", "--count", "31"],
        None,
        [
            "error: --count 31: expected a whole number from 1 to 15 (--modules 2,3,8: modules 2,3,8 hold 15 "
            "short-answer items held back for exams)"
        ],
        2,
    ),
    Case(
        "exam: --count above one module's pool",
        [*EX, "--modules", "3"],
        None,
        [
            "error: --count 10: expected a whole number from 1 to 4 (--modules 3: module 3 holds 4 short-answer "
            "items held back for exams)"
        ],
        2,
    ),
    Case(
        "exam: negative seed",
        [*EX, "--modules", "2", "--seed", "-3"],
        None,
        ["error: --seed -3: expected a whole number from 0 to 999999999999999999"],
        2,
    ),
    Case(
        "exam: non-integer seed",
        [*EX, "--modules", "2", "--seed", "1.5"],
        None,
        ["error: --seed 1.5: expected a whole number from 0 to 999999999999999999"],
        2,
    ),
    Case(
        "exam: 27 variants",
        [*EX, "--modules", "2", "--variants", "27"],
        None,
        ["error: --variants 27: expected a whole number from 1 to 26 (one paper per letter A–Z)"],
        2,
    ),
    Case(
        "exam: unknown paper",
        [*EX, "--modules", "2", "--paper", "A5"],
        None,
        ["error: --paper A5: unknown paper size; choose one of A4, B5, Letter, A3, B4, 8K"],
        2,
    ),
    Case(
        "exam: fewer points than questions",
        [*EX, "--modules", "2", "--pool", "all", "--total-points", "5"],
        None,
        ["error: --total-points 5: less than one point per question; give at least 10 for 10 questions"],
        2,
    ),
    Case(
        "exam: bad date",
        [*EX, "--modules", "2", "--date", "20.6.2026"],
        None,
        ["error: --date 20.6.2026: expected a date like 2026-06-20"],
        2,
    ),
    Case(
        "exam: no --modules",
        [*EX, "--seed", "7"],
        None,
        ["error: --modules is required, e.g. --modules 2,3,8 (see `paperkit list` for the modules)"],
        2,
    ),
    Case(
        "exam: --from-manifest with selection options",
        [*EX, "--from-manifest", "m.json", "--seed", "7"],
        None,
        [
            "error: --from-manifest reprints the recorded questions; leave out --seed "
            "(only --title, --course, --date, --duration, --paper and the --seal-* options may change)"
        ],
        2,
    ),
    Case(
        "exam: --from-manifest that does not exist",
        [*EX, "--from-manifest", "m.json"],
        None,
        ["error: --from-manifest m.json: no such file; give the manifest.json of an earlier exam build"],
        2,
    ),
    # rosters (exit 2; UTF-8 with BOM and empty lines are accepted: test_a_bom_roster_with_empty_lines_builds)
    Case(
        "roster: missing file",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        None,
        ["error: --roster r.csv: no such file; give a CSV or .xlsx file with columns 姓名,学号 (optional 班级)"],
        2,
    ),
    Case(
        "roster: empty",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster(b"\n\n"),
        [f"error: r.csv: the roster is empty; {ROSTER_HEADER}, then one row per student"],
        2,
    ),
    Case(
        "roster: GBK, a name the fonts lack",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster("姓名,学号\r\n张三,1\r\n王㐂,2\r\n".encode("gb18030")),
        [
            "r.csv:3: 姓名 王㐂: character '㐂' (U+3402, cjk unified ideograph-3402) is not in the shipped fonts; "
            "add it with scripts/build_fonts.py --extra-chars '㐂' (then run paperkit again)",
            "1 error in r.csv; nothing was built.",
        ],
        1,
    ),
    Case(
        "roster: no name column",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster("名字,学号\n张三,1\n".encode()),
        [f"error: r.csv:1: no roster header in the first 10 rows; {ROSTER_HEADER} (the first row has 名字, 学号)"],
        2,
    ),
    Case(
        "roster: no student number column",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster("\ufeff姓名,班级\n张三,一班\n".encode()),
        [f"error: r.csv:1: no roster header in the first 10 rows; {ROSTER_HEADER} (the first row has 姓名, 班级)"],
        2,
    ),
    Case(
        "roster: duplicate student numbers",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster("姓名,学号\n张三,1\n\n李四,2\n王五,1\n".encode()),
        ["error: r.csv:5: 学号 1 is also on row 2; it must be unique"],
        2,
    ),
    # templates (exit 1; the template's file and line)
    Case(
        "template: missing",
        HB,
        templates(lambda folder: (folder / "handbook.html.j2").unlink()),
        ["error: template not found: templates/handbook.html.j2"],
    ),
    Case(
        "template: syntax error",
        HB,
        templates(edit_template("handbook.html.j2", "</head>", "{% if %}</head>")),
        [
            (
                "error: templates/handbook.html.j2:16: template syntax error: "
                "Expected an expression, got 'end of statement block'"
            )
        ],
    ),
    Case(
        "template: undefined variable",
        CL,
        templates(edit_template("checklist.html.j2", "<body", "{{ no_such_value }}<body")),
        ["error: templates/checklist.html.j2:13: template error: 'no_such_value' is undefined"],
    ),
    Case(
        "template: undefined variable in a CSS template",
        HB,
        templates(edit_template("base.css.j2", "\n", "\n{{ page.no_such_size }}\n")),
        [
            (
                "error: templates/base.css.j2:2: template error: "
                "'paperkit.render.page.PageGeometry object' has no attribute 'no_such_size'"
            )
        ],
    ),
    # fonts
    Case(
        "font: a font file is missing",
        HB,
        missing_font,
        [
            (
                f"error: font file missing: {FONTS / 'NotoSansSC-Missing.otf'} "
                "(restore fonts/ from git, or run scripts/build_fonts.py)"
            )
        ],
    ),
    Case(
        "font: a character the fonts lack",
        HB,
        module("  - 误区一", "  - 误区 🦜"),
        [
            (
                f"{M}:13:5: sections[0].pitfalls[0]: character '🦜' (U+1F99C, parrot) is not in the shipped fonts; "
                "add it with scripts/build_fonts.py"
            ),
            built(),
        ],
    ),
    # output (tests run as root, so permissions stop nothing: a file stands where a folder must be)
    Case(
        "output: --out inside a file",
        ["handbook", "--out", "out/notes.txt/handbook.pdf"],
        a_file("out/notes.txt"),
        ["error: cannot write out/notes.txt/handbook.pdf: out/notes.txt is a file, not a directory"],
    ),
    Case(
        "output: --out is a directory",
        ["handbook", "--out", "out"],
        None,
        ["error: out is a directory; give a file name for the output"],
    ),
    Case(
        "output: --html beside the PDF is a directory",
        [*HB, "--html"],
        a_folder("out/handbook.html"),
        ["error: out/handbook.html is a directory; give a file name for the output"],
    ),
    Case(
        "output: checklist --out is a directory",
        ["checklist", "--out", "out/exams"],
        None,
        ["error: out/exams is a directory; give a file name for the output"],
    ),
    Case(
        "output: exam --out is a file",
        ["exam", "--source", str(SOURCE), "--out", "out/handbook.pdf", "--modules", "3", "--count", "2"],
        None,
        ["error: cannot write out/handbook.pdf/m3_s0_n2: out/handbook.pdf is a file, not a directory"],
    ),
    Case(
        "output: an exam file's place is taken by a folder",
        [*EX, "--modules", "3", "--count", "2"],
        a_folder("out/exams/m3_s0_n2/paper.pdf"),
        ["error: out/exams/m3_s0_n2/paper.pdf is a directory; give a file name for the output"],
    ),
    # other options
    Case(
        "option: handbook --paper",
        [*HB, "--paper", "A3"],
        None,
        ["error: --paper A3: unknown paper size; choose one of A4, B5, Letter"],
        2,
    ),
    Case(
        "option: handbook --answers",
        [*HB, "--answers", "later"],
        None,
        ["error: --answers later: unknown answer mode; choose one of inline, end, none"],
        2,
    ),
    Case(
        "option: handbook --jobs 0",
        [*HB, "--jobs", "0"],
        None,
        ["error: --jobs 0: expected a whole number from 1 to 64"],
        2,
    ),
    Case(
        "option: handbook --jobs not a number",
        [*HB, "--jobs", "two"],
        None,
        ["error: --jobs two: expected a whole number from 1 to 64"],
        2,
    ),
    # hardening round 2 (issue 19): each of these was an exit-70 internal error
    Case(
        "yaml: a superscript digit as id",
        HB,
        module("id: 1\n", "id: ²\n"),
        [f"{M}:1:5: id: expected a whole number, got '²'", built()],
    ),
    Case(
        "yaml: a 5000-digit id",
        HB,
        module("id: 1\n", "id: " + "7" * 5000 + "\n"),
        [f"{M}:1:5: id: expected a whole number from 0 to 9999, got 777777777777…", built()],
    ),
    Case(
        "yaml: a raw control character",
        HB,
        module("  title: 第一节\n", "  title: 第一\x07节\n"),
        [
            f"{M}:6: the control character U+0007 cannot be in a YAML file; delete it "
            "(it is invisible in most editors: retype the line)",
            built(),
        ],
    ),
    Case(
        "options: a 240-digit seed",
        [*EX, "--modules", "2", "--seed", "9" * 240],
        None,
        [f"error: --seed {'9' * 240}: expected a whole number from 0 to 999999999999999999"],
        2,
    ),
    Case(
        "roster: a 100-character name",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster(("姓名,学号\n" + "张" * 100 + ",1\n").encode()),
        ["error: r.csv:2: 姓名 is 100 characters long; at most 40 fit on a paper"],
        2,
    ),
    Case(
        "roster: a 128 KB field",
        [*EX, "--modules", "2", "--roster", "r.csv"],
        roster(("姓名,学号\n张三," + "1" * 131072 + "\n").encode()),
        ["error: r.csv:2: 学号 is 131072 characters long; at most 32 fit on a paper"],
        2,
    ),
    Case(
        "output: the handbook over its own source",
        ["handbook", "--out", "source/handbook.yaml"],
        None,
        ["error: source/handbook.yaml would overwrite an input (source); write the output somewhere else"],
    ),
    Case(
        "output: --html over the PDF",
        ["handbook", "--out", "out/x.html", "--html"],
        None,
        ["error: --out out/x.html with --html: the HTML would overwrite the PDF; give the PDF a .pdf name"],
    ),
    Case(
        "output: an exam inside the source folder",
        ["exam", "--modules", "1", "--count", "1", "--out", "source/exams"],
        None,
        [
            "warning: modules 1 hold no items held back for exams (use: exam); this paper draws from the "
            "handbook's own items, which students have seen with their answers",
            "error: source/exams/m1_s0_n1 would overwrite an input (source); write the output somewhere else",
        ],
    ),
    Case(
        "output: an exam --out that is a file",
        ["exam", "--source", str(SOURCE), "--modules", "2", "--count", "5", "--out", "out/handbook.pdf"],
        None,
        ["error: cannot write out/handbook.pdf/m2_s0_n5: out/handbook.pdf is a file, not a directory"],
    ),
    Case(
        "output: a FIFO as --out",
        ["checklist", "--out", "out/pipe.pdf"],
        lambda root, _: os.mkfifo(root / "out" / "pipe.pdf"),
        ["error: out/pipe.pdf is a named pipe (FIFO); paperkit writes only regular files, give a file name"],
    ),
    Case(
        "yaml: an anchor and an alias",
        HB,
        module("  - 要点一\n", "  - &point 要点一\n  - *point\n"),
        [
            f"{M}:9: '&point' starts a YAML anchor and is dropped from the text; "
            "put the whole text in single quotes ('…', with '' for a ')",
            built(),
        ],
    ),
    Case(
        "yaml: a merge key",
        HB,
        module("  tips:\n", "  <<: {tips: [提示]}\n  tips:\n"),
        [
            f"{M}:10:3: sections[0].<<: unknown field "
            "(expected one of: id, title, overview, must_know, tips, pitfalls, examples, exercises)",
            built(),
        ],
    ),
    Case(
        "yaml: a module that is a directory",
        HB,
        a_folder("source/modules/02-second.yaml"),
        ["source/modules/02-second.yaml: is a directory, not a file; give a YAML file", built()],
    ),
    Case(
        "yaml: a module over 2 MB",
        HB,
        module_text("id: 1\n# " + "x" * (2 * 1024 * 1024) + "\n"),
        [f"{M}: file is 2.1 MB; a content file may be at most 2 MB", built()],
    ),
    Case(
        "options: --count with 30 digits",
        [*EX, "--modules", "2", "--count", "9" * 30],
        None,
        [
            "error: --count 999999999999999999999999999999: expected a whole number from 1 to 6 "
            "(--modules 2: module 2 holds 6 short-answer items held back for exams)"
        ],
        2,
    ),
    Case(
        "options: --duration negative",
        [*EX, "--modules", "2", "--duration", "-5"],
        None,
        ["error: --duration -5: expected a whole number from 1 to 1440 minutes"],
        2,
    ),
    Case(
        "roster: a directory as roster",
        [*EX, "--modules", "2", "--roster", "out"],
        None,
        ["error: --roster out: is a directory, not a file; give a CSV or .xlsx file"],
        2,
    ),
]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under root."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory: the tiny handbook in source/, earlier outputs in out/."""
    monkeypatch.chdir(tmp_path)
    write_handbook(tmp_path)
    (tmp_path / "out" / "exams" / "m2_s1_n3").mkdir(parents=True)
    (tmp_path / "out" / "handbook.pdf").write_bytes(b"%PDF- the last good handbook")
    (tmp_path / "out" / "exams" / "m2_s1_n3" / "paper.pdf").write_bytes(b"%PDF- an earlier exam")
    yield tmp_path
    fonts.covered_characters.cache_clear()  # a setup may have changed the faces


def test_the_matrix_is_large_and_covers_every_category() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
    categories = {case.id.split(":")[0] for case in CASES}
    assert {"yaml", "markup", "exam", "roster", "template", "font", "output"} <= categories


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.setup is not None:
        case.setup(workdir, monkeypatch)
    before = snapshot(workdir)
    result = runner.invoke(app, case.argv)
    expected = case.stderr(workdir) if callable(case.stderr) else case.stderr
    assert result.stderr.splitlines() == expected
    assert result.exit_code == case.exit_code
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit), result.exception  # no exception escaped the CLI
    assert "Traceback" not in result.output
    assert snapshot(workdir) == before


# file[:line]: and a field path (sections[0].q; a lone word may be the message's own "missing:")
LOCATED = re.compile(r"^[^\s:]+(?::\d+)?: (?:[\w-]*[.\[][\w.\[\]-]*: )?")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_in_chinese(case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same matrix with messages in Chinese: the same lines, exit code and untouched files; every line
    translated, and a located line keeps its machine-readable file:line: field: prefix."""
    if case.setup is not None:
        case.setup(workdir, monkeypatch)
    before = snapshot(workdir)
    i18n.set_language("zh")
    try:
        result = runner.invoke(app, case.argv)
    finally:
        i18n.set_language(None)
    english = case.stderr(workdir) if callable(case.stderr) else case.stderr
    chinese = result.stderr.splitlines()
    assert len(chinese) == len(english), chinese
    for zh, en in zip(chinese, english, strict=True):
        assert zh != en, f"not translated: {en}"
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
        for english_head, chinese_head in (("error: ", "错误："), ("warning: ", "警告：")):
            if en.startswith(english_head):
                assert zh.startswith(chinese_head), (zh, en)
                en, zh = en.removeprefix(english_head), zh.removeprefix(chinese_head)
        prefix = LOCATED.match(en)
        if prefix and ("/" in prefix.group() or ".yaml" in prefix.group() or ".csv" in prefix.group()):
            assert zh.startswith(prefix.group()), (zh, en)
    assert result.exit_code == case.exit_code
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert snapshot(workdir) == before


# -- raw HTML in content is text, not markup -----------------------------------------------------

RAW = {
    "overview": "<b>不加粗</b> &amp; <i>x</i>",
    "must_know": "<script>alert('x')</script>",
    "tips": "<img src=/etc/passwd>",
    "pitfalls": '<img src="http://example.com/x.png">',
    "q": "<a href='file:///etc/passwd'>链接</a>？",
    "a": '<iframe src="/etc/passwd"></iframe><link rel=stylesheet href=http://example.com/x.css>',
}


def _raw_module() -> str:
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    return (
        MODULE_YAML.replace("概述文字，含公式 $O(S^2)$。", quoted(RAW["overview"]))
        .replace("  - 要点一", "  - " + quoted(RAW["must_know"]))
        .replace("  - 提示一", "  - " + quoted(RAW["tips"]))
        .replace("  - 误区一", "  - " + quoted(RAW["pitfalls"]))
        .replace("问题一？", quoted(RAW["q"]))
        .replace("答案一。", quoted(RAW["a"]))
    )


class Watch:
    """Files opened and sockets connected while it is on (a permanent audit hook, switched per test)."""

    on = False
    opened: ClassVar[list[str]] = []
    connected: ClassVar[list[object]] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if not cls.on:
            return
        if event == "open" and isinstance(args[0], (str, bytes, Path)):
            cls.opened.append(str(args[0]))
        elif event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            cls.connected.append((event, args))


sys.addaudithook(Watch.hook)


@pytest.fixture(scope="module")
def raw_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    root = tmp_path_factory.mktemp("raw")
    write_handbook(root, {"01-first.yaml": _raw_module()})
    out = root / "out" / "handbook.pdf"
    Watch.opened.clear()
    Watch.connected.clear()
    Watch.on = True
    try:
        result = runner.invoke(app, ["handbook", "--source", str(root / "source"), "--out", str(out)])
    finally:
        Watch.on = False
    text = (
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(out.read_bytes())).pages) if out.exists() else ""
    )
    return result, re.sub(r"\s+", "", text)


def test_raw_html_builds_without_opening_anything_else(raw_build) -> None:
    result, _ = raw_build
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert any(path.endswith("handbook.yaml") for path in Watch.opened)  # the watch saw the build's own reads
    assert [path for path in Watch.opened if "passwd" in path] == []
    assert Watch.connected == []


@pytest.mark.parametrize("field_name", list(RAW))
def test_raw_html_is_shown_literally(field_name: str, raw_build) -> None:
    _, text = raw_build
    assert re.sub(r"\s+", "", RAW[field_name]) in text


def test_a_bom_roster_with_empty_lines_builds(workdir: Path) -> None:
    (workdir / "class.csv").write_bytes(
        "\ufeff姓名,学号,班级\r\n\r\n张三,2024001,一班\r\n\r\n李四,2024002,一班\r\n\r\n".encode()
    )
    result = runner.invoke(app, [*EX, "--modules", "3", "--count", "2", "--roster", "class.csv"])
    assert result.exit_code == 0, result.output
    folder = Path("out/exams/m3_s0_n2_class")
    assert result.stdout.splitlines() == [
        str(folder / name) for name in ("papers-all.pdf", "keys.pdf", "manifest.json")
    ]
    manifest = json.loads((workdir / folder / "manifest.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["student_id"], s["class"]) for s in manifest["students"]] == [
        ("张三", "2024001", "一班"),
        ("李四", "2024002", "一班"),
    ]
    assert sorted(p.name for p in (workdir / folder / "students").iterdir()) == ["2024001-张三.pdf", "2024002-李四.pdf"]


# ---- outputs never destroy what they should not (issue 19, part) --------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_only_regular_files_are_ever_replaced(tmp_path: Path) -> None:
    """As root the atomic rename could replace anything: a device node, a named pipe, a directory."""
    import stat

    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    for target, kind in ((device, "a device"), (fifo, "a named pipe (FIFO)"), (folder, "a directory")):
        result = runner.invoke(app, ["checklist", "--source", str(SOURCE), "--out", str(target)])
        assert result.exit_code == 1, target
        expected = (
            "a directory; give a file name for the output"
            if kind == "a directory"
            else (f"{kind}; paperkit writes only regular files, give a file name")
        )
        assert result.stderr == f"error: {target} is {expected}\n"
    assert stat.S_ISCHR(device.stat().st_mode) and stat.S_ISFIFO(fifo.stat().st_mode) and folder.is_dir()


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "latest.pdf"
    link.symlink_to("checklist-v2.pdf")
    result = runner.invoke(app, ["checklist", "--source", str(SOURCE), "--out", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and (tmp_path / "checklist-v2.pdf").read_bytes().startswith(b"%PDF")


def test_an_input_is_never_an_output(tiny_source: Path, tmp_path: Path) -> None:
    before = (tiny_source / "handbook.yaml").read_bytes()
    result = runner.invoke(app, ["handbook", "--source", str(tiny_source), "--out", str(tiny_source / "handbook.yaml")])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {tiny_source / 'handbook.yaml'} would overwrite an input ({tiny_source}); "
        "write the output somewhere else\n",
    )
    assert (tiny_source / "handbook.yaml").read_bytes() == before
    result = runner.invoke(app, ["handbook", "--source", str(tiny_source), "--out", str(tmp_path / "x.html"), "--html"])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: --out {tmp_path / 'x.html'} with --html: the HTML would overwrite the PDF; give the PDF a .pdf name\n",
    )
    assert not (tmp_path / "x.html").exists()


def test_two_students_who_would_share_a_file_are_refused(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("姓名,学号\n张三,A/1\n张三,A-1\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["exam", "--source", str(SOURCE), "--modules", "2", "--count", "5", "--roster", str(roster), "--out", str(out)],
    )
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {roster}:3: A-1 张三 and row 2 (A/1 张三) would both be written to students/A-1-张三.pdf; "
        "make their 学号 differ\n",
    )
    assert not out.exists()


def test_a_usage_error_from_the_command_line_parser_is_one_line() -> None:
    import subprocess

    paperkit = Path(sys.executable).parent / "paperkit"
    for args, message in (
        (
            ["checklist", "--bogus"],
            "error: No such option: --bogus (Possible options: --out) (see `paperkit checklist --help`)",
        ),
        (["analyze"], "error: Missing argument 'MANIFEST'. (see `paperkit analyze --help`)"),
    ):
        done = subprocess.run([str(paperkit), *args], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stderr) == (2, message + "\n"), args


# ---- a manifest is input: a hand-edited one cannot write outside --out or crash (issue 19, part) ------------


@pytest.fixture(scope="module")
def manifest_data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from paperkit.exam.manifest import manifest_json
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam

    root = tmp_path_factory.mktemp("manifest")
    (root / "r.csv").write_text("姓名,学号\n张三,1\n李四,2\n", encoding="utf-8")
    flags = ExamFlags(modules="2,3", seed="7", variants="2", roster=root / "r.csv")
    return json.loads(manifest_json(plan_exam(parse_exam_flags(flags), SOURCE, root).manifest))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"exam_id": "../../../x"}, "exam_id '../../../x' is not a paperkit exam id (letters, digits, _ - . only)"),
        ({"exam_id": "/tmp/evil"}, "exam_id '/tmp/evil' is not a paperkit exam id (letters, digits, _ - . only)"),
        ({"duration": -5}, "duration -5 is out of range (at least 0)"),
        ({"total_points": 0}, "total_points 0 is out of range (at least 1)"),
        ({"title": "测\u0000试"}, "a field holds a NUL character"),
        ({"papers": {}}, "no papers"),
    ],
)
def test_a_hand_edited_manifest_is_one_line_and_writes_nothing(
    manifest_data: dict, edit: dict, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({**manifest_data, **edit}, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(
        app, ["exam", "--from-manifest", str(path), "--source", str(SOURCE), "--out", str(tmp_path / "o")]
    )
    assert (result.exit_code, result.stderr) == (2, f"error: --from-manifest {path}: {message}\n")
    assert not (tmp_path / "o").exists()


def test_a_manifest_with_inconsistent_papers_is_refused(manifest_data: dict, tmp_path: Path) -> None:
    paper = manifest_data["papers"]["A"]
    cases = [
        ({"A": {**paper, "questions": []}}, "paper A has no questions"),
        (
            {"A": {**paper, "questions": [paper["questions"][0]] * 2, "points": paper["points"][:2]}},
            "paper A lists a question twice",
        ),
        ({"A": {**paper, "points": [-1] * len(paper["points"])}}, "paper A: its points do not match its questions"),
        (
            {"A": {**paper, "questions": ["9.1.q1", *paper["questions"][1:]]}},
            "paper A: 9.1.q1 is not in the modules [2, 3]",
        ),
    ]
    for papers, message in cases:
        path = tmp_path / "m.json"
        path.write_text(
            json.dumps({**manifest_data, "papers": {**manifest_data["papers"], **papers}}), encoding="utf-8"
        )
        result = runner.invoke(
            app, ["exam", "--from-manifest", str(path), "--source", str(SOURCE), "--out", str(tmp_path / "o")]
        )
        assert (result.exit_code, result.stderr) == (2, f"error: --from-manifest {path}: {message}\n"), message
    students = [{**manifest_data["students"][0], "variant": "Z"}]
    path.write_text(json.dumps({**manifest_data, "students": students}), encoding="utf-8")
    result = runner.invoke(
        app, ["exam", "--from-manifest", str(path), "--source", str(SOURCE), "--out", str(tmp_path / "o")]
    )
    assert result.stderr == f"error: --from-manifest {path}: student 1 sat paper Z, which is not recorded\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_module_that_is_not_a_regular_file_is_refused_without_reading_it(workdir: Path, kind: str) -> None:
    """A module linked to /dev/zero was read until memory ran out; a named pipe waited for ever."""
    module_file = workdir / M
    module_file.unlink()
    if kind == "device":
        module_file.symlink_to("/dev/zero")
    else:
        os.mkfifo(module_file)
    result = runner.invoke(app, ["validate"])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [f"{M}: is {'a device' if kind == 'device' else 'a named pipe (FIFO)'}, not a file; give a YAML file", built()],
    )


# ---- nothing leaves the page (issue 19, part) ---------------------------------------------------------------


def _overflow_module(extra: str) -> str:
    return MODULE_YAML.replace("  - 要点一\n", f"  - 要点一\n  - {extra}\n")


def test_long_words_long_formulas_and_wide_formulas_stay_on_the_page(tmp_path: Path) -> None:
    from paperkit.handbook.job import render_handbook
    from paperkit.handbook.options import HandbookOptions
    from paperkit.render.page import geometry_for
    from paperkit.render.pdf import overflows
    from paperkit.source import open_handbook

    long_sum = " + ".join(f"x_{{{i}}}^{{2}}" for i in range(60))
    wide = "\\frac{" + " + ".join(f"a_{{{i}}}" for i in range(40)) + "}{b}"
    source = write_handbook(
        tmp_path, {"01-first.yaml": _overflow_module(f"长词 {'a' * 200}，长公式 ${long_sum}$，宽公式 ${wide}$")}
    )
    for paper in ("A4", "B5"):
        result = render_handbook(open_handbook(source), HandbookOptions(geometry_for(paper)))
        assert overflows(result.document) == [], paper


def _unbreakable_long_formulas(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Content can no longer run off the page (long formulas break, long words wrap); a stylesheet that keeps
    # long formulas on one line stands for any layout mistake the gate must still catch.
    nowrap = edit_template("base.css.j2", ".math.long { white-space: normal; }", ".math.long { white-space: nowrap; }")
    templates(nowrap)(workdir, monkeypatch)


def test_what_cannot_be_broken_is_an_error_naming_the_page(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unbreakable_long_formulas(workdir, monkeypatch)
    (workdir / M).write_text(_overflow_module("变量 $" + "x" * 150 + "$"), encoding="utf-8")
    result = runner.invoke(app, ["handbook", "--out", "out/hb.pdf"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: text runs past the edge of the page (page 5: 「{'x' * 30}」)")
    assert result.stderr.endswith(
        "shorten it, or break a long formula into several $…$ (--allow-overflow prints it anyway, as a warning)\n"
    )
    assert not (workdir / "out" / "hb.pdf").exists()


def test_allow_overflow_prints_it_anyway_with_a_warning_naming_the_page(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unbreakable_long_formulas(workdir, monkeypatch)
    long = "变量 $" + "x" * 150 + "$"
    (workdir / M).write_text(_overflow_module(long).replace("问题一？", f"问题一：{long}？"), encoding="utf-8")
    result = runner.invoke(app, ["handbook", "--out", "out/hb.pdf", "--allow-overflow"])
    assert (result.exit_code, result.stdout) == (0, "out/hb.pdf\n")
    assert result.stderr.startswith(f"warning: out/hb.pdf: text runs past the edge of the page (page 5: 「{'x' * 30}」")
    assert len(result.stderr.splitlines()) == 1
    assert "x" * 100 in PdfReader(workdir / "out" / "hb.pdf").pages[4].extract_text()
    exam = ["exam", "--modules", "1", "--count", "1", "--pool", "practice", "--out", "out/exams"]
    refused = runner.invoke(app, exam)
    assert refused.exit_code == 1 and refused.stderr.startswith("error: text runs past the edge of the page (page 1")
    allowed = runner.invoke(app, [*exam, "--allow-overflow"])
    assert allowed.exit_code == 0
    where = f"text runs past the edge of the page (page 1: 「{'x' * 30}」; page 1: 「？」)"
    assert allowed.stderr.splitlines() == [f"warning: key.pdf: {where}", f"warning: paper.pdf: {where}"]
    paper = next((workdir / "out" / "exams").glob("m1_s0_n1*")) / "paper.pdf"
    assert "x" * 100 in PdfReader(paper).pages[0].extract_text()


@pytest.mark.slow
def test_a_handbook_in_parts_names_the_same_pages_as_one_process(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text past the edge in a part's page is named by its page in the handbook, not in the part."""
    from paperkit.handbook import job as build

    _unbreakable_long_formulas(workdir, monkeypatch)
    second = _overflow_module("变量 $" + "x" * 150 + "$")
    for old, new in (("id: 1\n", "id: 2\n"), ("'1.1'", "'2.1'"), ("1.1.q1", "2.1.q1"), ("第一", "第二")):
        second = second.replace(old, new)
    (workdir / "source" / "modules" / "02-second.yaml").write_text(second, encoding="utf-8")
    for extra, code in ([], 1), (["--allow-overflow"], 0):
        said = []
        for runs in (1, 2):  # two small modules are one document; in two runs all the same
            monkeypatch.setattr(build, "part_count", lambda handbook, page, runs=runs: runs)
            # A cache of its own each: a knob set here is not in a kept build's key (it would serve the other's).
            monkeypatch.setenv("PAPERKIT_CACHE_DIR", str(workdir / f"cache-{runs}-{len(extra)}"))
            said.append(runner.invoke(app, [*HB, "--jobs", "2", *extra]))
        one, two = said
        assert one.exit_code == two.exit_code == code
        assert one.stderr == two.stderr and "(page 6: 「" + "x" * 30 in two.stderr, two.stderr


def test_lists_and_texts_have_limits_that_say_what_they_are(workdir: Path) -> None:
    bullets = "".join("  - 点\n" for _ in range(501))
    long_text = "长" * 20_001
    (workdir / M).write_text(
        MODULE_YAML.replace("  must_know:\n  - 要点一\n", "  must_know:\n" + bullets).replace(
            "  overview: 概述文字，含公式 $O(S^2)$。", f"  overview: {long_text}"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate"])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            f"{M}:7:13: sections[0].overview: 20001 characters; a text may be at most 20000 long",
            f"{M}:9:3: sections[0].must_know: 501 items; a list may hold at most 500",
            built(2),
        ],
    )
