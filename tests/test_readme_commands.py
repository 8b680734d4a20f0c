"""The docs' own commands, run as a teacher would type them: every `paperkit …` line of the ```sh blocks of
README.md and of every page of the docs site (in the order of its navigation, the README first), in order, in a
copy of the project, each exiting 0.

What the docs leave to the reader is filled in as a reader would: `<id>` is the exam the commands before it
built last, the files a teacher brings (class.csv, midterm.yaml) are written here, and the steps their comments
describe (fill in scores.xlsx, scan the pile) are done here, once for each exam. `paperkit preview` serves until
Ctrl-C: it must answer its own URL, then stop on Ctrl-C. A command the docs show twice (the README's everyday
commands are on their pages too) runs once: the second is skipped, and an exam shown again is again the exam
`<id>` means. These lay out every PDF the docs promise: slow (about 90 s).
"""

from __future__ import annotations

import glob
import os
import random
import re
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, SOURCE
from test_docs import DOCS, README, nav_pages

PAGES = [README, *(DOCS / page for page in nav_pages())]
PAPERKIT = Path(sys.executable).with_name("paperkit")
PLACEHOLDER = re.compile(r"build/exams/<id>[^/\s]*")

ROSTER = "姓名,学号,班级\n张三,2026001,1班\n李四,2026002,1班\n王五,2026003,2班\n赵六,2026004,2班\n"
BLUEPRINT = """\
parts:
- {kind: choice, count: 10, points: 2}
- {kind: multi, count: 4, points: 4}
- {kind: truefalse, count: 5, points: 2}
- {kind: fill, count: 5, points: 2}
- {kind: short, count: 4, points: 10}
"""

# Commands of the docs that do not work as written, with why; each is reported, not hidden (strict: fixing the
# README makes this entry fail, so it is removed then).
KNOWN_WRONG: dict[str, str] = {}


@dataclass(frozen=True)
class Step:
    """A line of the docs: a command to run (`args`), or a comment saying what the teacher does by hand."""

    index: int  # its place among all the steps
    page: str  # README.md, docs/exams.md …
    line: str
    args: tuple[str, ...] = ()
    comment: str = ""


def shown_steps(pages: list[Path]) -> list[Step]:
    """Every `paperkit …` command of the pages' sh blocks (backslash continuations joined, comments dropped)
    and every comment-only line between them, in order."""
    steps: list[Step] = []
    for path in pages:
        page = path.relative_to(ROOT).as_posix()
        for block in re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                line = line.strip()
                if line.startswith("#"):
                    steps.append(Step(len(steps), page, line, comment=line))
                elif line.startswith("paperkit "):
                    steps.append(Step(len(steps), page, line, tuple(shlex.split(line, comments=True))))
    return steps


STEPS = shown_steps(PAGES)
COMMANDS = [s for s in STEPS if s.args]
# What the docs show of a command's output, checked loosely: its table and its last line's form (the docs show the
# whole bundled bank's 0 findings, which tests/bundled/test_bank_content.py checks; three modules' pools differ).
OUTPUT = {
    ("bank", "check"): re.compile(
        r"^rule +findings +what it checks$.*^source/: \d+ findings? in \d+ items — ", re.M | re.S
    )
}


def test_the_docs_show_the_commands_this_file_runs() -> None:
    names = {s.args[1] for s in COMMANDS}
    assert {"handbook", "checklist", "exam", "scoresheet", "analyze", "practice", "export", "scan", "preview"} <= names
    assert {"handbook", "checklist", "exam", "scoresheet", "analyze", "scan"} <= {
        s.args[1] for s in COMMANDS if s.page == "README.md"
    }
    assert any(s.comment and "fill in scores.xlsx" in s.comment for s in STEPS)
    assert any(s.comment and "scan the pile" in s.comment for s in STEPS)


@dataclass
class Ran:
    """A command that ran: where the docs showed it first, and the exam folders it built."""

    page: str
    exams: list[Path]


@dataclass
class Project:
    """The copy the commands run in, and the exam folders they built (the last is what `<id>` means)."""

    root: Path
    exams: list[Path] = field(default_factory=list)
    done: int = 0  # steps handled so far
    ran: dict[tuple[str, ...], Ran] = field(default_factory=dict)  # each command (as run) once
    by_hand: set[tuple[str, Path]] = field(default_factory=set)  # each hand step once per exam


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("readme")
    # The modules every exam of the docs draws from (2, 3 and 8), in the bundled handbook's own files: the exams come
    # out exactly as from the whole handbook, and each handbook command lays out 3 modules, not 14 (the whole
    # handbook's layout on every paper is test_handbook's; this test is about the commands as written).
    (root / "source" / "modules").mkdir(parents=True)
    shutil.copy(SOURCE / "handbook.yaml", root / "source")
    for module in sorted((SOURCE / "modules").glob("0[238]-*.yaml")):
        shutil.copy(module, root / "source" / "modules")
    shutil.copytree(SOURCE / "figures", root / "source" / "figures")  # module 2's figure comes with it
    assert len(list((root / "source" / "modules").iterdir())) == 3
    for roster in ("class.csv", "class-1.csv"):
        (root / roster).write_text(ROSTER, encoding="utf-8")
    (root / "midterm.yaml").write_text(BLUEPRINT, encoding="utf-8")
    return Project(root)


def _substituted(project: Project, args: tuple[str, ...]) -> list[str]:
    """The command as the reader runs it: `<id>` folders are the last exam built, globs expanded in the project."""
    out: list[str] = []
    for arg in args:
        if PLACEHOLDER.search(arg):
            assert project.exams, f"{arg}: no exam built before it"
            arg = PLACEHOLDER.sub(project.exams[-1].relative_to(project.root).as_posix(), arg)
        assert "<" not in arg and "…" not in arg, arg
        if any(ch in arg for ch in "*?["):
            out += sorted(os.path.relpath(p, project.root) for p in glob.glob(str(project.root / arg))) or [arg]
        else:
            out.append(arg)
    return out


def _fill_scores(project: Project) -> None:
    """「mark the papers, fill in scores.xlsx」: every student answers; every third question earns nothing."""
    from openpyxl import load_workbook

    from paperkit.marking.grading import sitters
    from paperkit.marking.jobs import open_exam
    from paperkit.marking.scoresheet import FIRST_ROW

    manifest = project.exams[-1] / "manifest.json"
    marked = open_exam(manifest)
    book = load_workbook(manifest.parent / "scores.xlsx")
    sheet = book["成绩"]
    for row, student in enumerate(sitters(marked.manifest, marked.questions), start=FIRST_ROW):
        for offset, slot in enumerate(student.slots):
            sheet.cell(row=row, column=5 + offset, value=slot.points if (row + offset) % 3 else 0)
    book.save(manifest.parent / "scores.xlsx")


def _scan_the_pile(project: Project) -> None:
    """「mark … the sheets, scan the pile or photograph it」: each sheet filled in, the last student's pages as
    photos (photos/*.jpg), the others as one scanned PDF (scans.pdf)."""
    import json

    import scan_sim as sim

    from paperkit.exam.sheet import layout_from_data

    folder = project.exams[-1]
    record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["answer_sheet"]
    rng = random.Random(31)
    pages = []
    for number, holder in enumerate(sorted(record["sheets"].values(), key=lambda h: h["student_id"])):
        layout = layout_from_data(record["layouts"][holder["variant"]])
        strips = {a.number for a in layout.areas}
        marks = {}
        for question, boxes in layout.questions().items():
            values = [b.value for b in boxes]
            marks[(question, values[0] if question in strips else rng.choice(values))] = "full"
        pdf = next((folder / "sheets").glob(f"{holder['student_id']}-*.pdf")).read_bytes()
        pages.append(sim.filled_pages(pdf, layout, marks, 200, number))
    (project.root / "scans.pdf").write_bytes(sim.as_pdf([p for student in pages[:-1] for p in student], 200))
    (project.root / "photos").mkdir()
    for number, page in enumerate(pages[-1], start=1):
        (project.root / "photos" / f"page-{number}.jpg").write_bytes(sim.as_jpeg(page))


BY_HAND = {"fill in scores.xlsx": _fill_scores, "scan the pile": _scan_the_pile}


def _preview(project: Project, args: list[str]) -> None:
    """A server: it must answer the URL it prints, then stop on Ctrl-C, its way to end (exit 0)."""
    if "--port" not in args:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", 8000)) == 0:
                pytest.skip("port 8000, the preview's default, is taken on this machine")
    process = subprocess.Popen(
        [str(PAPERKIT), *args[1:]],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C must reach it even when the tests run in the background (where SIGINT is ignored and inherited).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=60), "the preview printed no address within 60 s"
        url = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        assert url, "the preview printed no address"
        with urllib.request.urlopen(url.group(0), timeout=60) as response:
            assert response.status == 200 and b"<html" in response.read(2000).lower()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, process.stderr.read()


def _run(project: Project, step: Step) -> None:
    # The comment lines before this command are the teacher's own work: done here, once for each exam.
    for before in STEPS[project.done : step.index]:
        for words, action in BY_HAND.items():
            if words in before.comment and (words, project.exams[-1]) not in project.by_hand:
                project.by_hand.add((words, project.exams[-1]))
                action(project)
    project.done = step.index + 1
    args = _substituted(project, step.args)
    shown = project.ran.get(tuple(args))
    if shown:  # the same command on another page (or the README): it ran; its exam is again the one `<id>` means
        project.exams += shown.exams
        pytest.skip(f"ran already, as {shown.page} shows it")
    if args[1] == "preview":
        _preview(project, args)
        project.ran[tuple(args)] = Ran(step.page, [])
        return
    result = subprocess.run(
        [str(PAPERKIT), *args[1:]], cwd=project.root, capture_output=True, text=True, timeout=600, check=False
    )
    built = [
        project.root / Path(line).parent
        for line in result.stdout.splitlines()
        if line.startswith("build/exams/") and line.endswith("/manifest.json")
    ]
    project.exams += built
    known = next((why for flag, why in KNOWN_WRONG.items() if flag in args), None)
    if known:
        assert result.returncode != 0, f"now works: remove it from KNOWN_WRONG ({known})"
        pytest.xfail(f"{known}: {result.stderr.strip()}")
    assert result.returncode == 0, f"{step.page}: {step.line}\n{result.stdout}{result.stderr}"
    project.ran[tuple(args)] = Ran(step.page, built)
    output = OUTPUT.get(tuple(args[1:3]))
    assert output is None or output.search(result.stdout), f"{step.page}: {step.line}\n{result.stdout}"


@pytest.mark.slow
@pytest.mark.parametrize("step", COMMANDS, ids=[f"{s.page}: {' '.join(s.args[1:])}" for s in COMMANDS])
def test_each_command_of_the_docs_works_as_written(project: Project, step: Step) -> None:
    _run(project, step)
