"""Benchmark paperkit the way a user runs it: fresh processes, one warm-up, then timed runs.

Run with `make bench`. Prints one table (min / median / max wall time, peak RSS, pages, size),
marks each figure against its budget, and writes build/bench.json. It never fails: timings on
shared machines are noisy, so the budget marks inform, they do not gate.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
WORK = ROOT / "build" / "bench"
CACHE = WORK / "cache"  # paperkit's cache for the benchmark alone (main sets PAPERKIT_CACHE_DIR)
# What a handbook laid out afresh does not have: the built PDF, the joined parts, each part and the page numbers
# (formulas and the page-number hint stay warm). EMPTY: everything, formulas and font coverage too.
LAID_OUT = ("handbook-built", "handbook-joined", "handbook-part", "page-numbers")
EMPTY = ("*",)


@dataclass
class Case:
    """One benchmarked command, its budgets and where its main output lands."""

    name: str
    argv: list[str]
    budget_s: float | None = None
    output: Path | None = None
    budget_kb: float | None = None
    budget_rss_mb: float | None = None  # for the whole process tree (main process and workers)
    setup: list[str] = field(default_factory=list)
    runs: int | None = None  # None: one warm-up and --runs timed runs; a number: that many, no warm-up
    forget: tuple[str, ...] = ()  # what of paperkit's cache is removed before each run (LAID_OUT, EMPTY)


@dataclass
class Result:
    """The measured figures of one case."""

    name: str
    runs: int
    min_s: float
    median_s: float
    max_s: float
    peak_rss_mb: float  # the largest single process
    peak_tree_mb: float  # the main process and its workers together
    pages: int | None
    size_kb: float | None
    budget_s: float | None
    budget_kb: float | None
    budget_rss_mb: float | None


def _tree_rss_mb(root: int) -> float:
    """The resident memory (MB) of a process and all its descendants now, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21])  # pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def forget(kinds: tuple[str, ...]) -> None:
    """Remove these kinds of entries from the benchmark's cache (all of it for EMPTY)."""
    for kind in kinds:
        shutil.rmtree(CACHE if kind == "*" else CACHE / kind, ignore_errors=True)


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """Run a command once; return its wall time (s), the peak RSS of its largest process (MB) and the peak of
    its whole process tree (MB: the main process and its workers together, sampled every 0.1 s)."""
    # GNU time forks from a small C process, so the figure is the command's own (a fork of this
    # Python process would carry its memory until exec); it includes waited-for worker processes.
    timer = shutil.which("time", path="/usr/bin")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        wrapped = [timer, "-f", "%M", "-o", rss_file.name, *argv] if timer else argv
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        tree = 0.0
        while process.poll() is None:
            tree = max(tree, _tree_rss_mb(process.pid))
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        stderr = process.stderr.read() if process.stderr else b""
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{stderr.decode(errors='replace')}")
        text = rss_file.read().strip().splitlines()
    peak_kb = float(text[-1]) if text and text[-1].isdigit() else 0.0
    return elapsed, peak_kb / 1024, tree


def measure(case: Case, runs: int) -> Result:
    """One warm-up, then `runs` timed runs of a case."""
    for command in case.setup:
        subprocess.run(command, shell=True, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    if case.runs is None:
        forget(case.forget)
        run_once(case.argv)  # a warm-up (a case run once is long enough to need none)
    times, rss, trees = [], [], []
    for _ in range(case.runs or runs):
        forget(case.forget)
        elapsed, peak, tree = run_once(case.argv)
        times.append(elapsed)
        rss.append(peak)
        trees.append(tree)
    pages = size = None
    if case.output is not None and case.output.is_file():
        size = case.output.stat().st_size / 1024
        pages = len(PdfReader(case.output).pages) if case.output.suffix == ".pdf" else None
    return Result(
        case.name,
        len(times),
        min(times),
        statistics.median(times),
        max(times),
        max(rss),
        max(trees),
        pages,
        size,
        case.budget_s,
        case.budget_kb,
        case.budget_rss_mb,
    )


def write_roster(path: Path, students: int) -> Path:
    """A generated class list with `students` rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "学号", "班级"])
        for n in range(1, students + 1):
            writer.writerow([f"学生{n:03d}", f"2026{n:04d}", f"{(n - 1) // 40 + 1}班"])
    return path


def write_scaled_source(source: Path, target: Path, factor: int) -> Path:
    """A handbook with `factor` times the modules of `source` (ids shifted, content repeated)."""
    if target.exists():
        shutil.rmtree(target)
    (target / "modules").mkdir(parents=True)
    shutil.copy(source / "handbook.yaml", target / "handbook.yaml")
    files = sorted((source / "modules").glob("*.yaml"))
    count = len(files)
    for copy in range(factor):
        for path in files:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            old, new = data["id"], data["id"] + copy * count
            data["id"] = new
            for section in data["sections"]:
                section["id"] = re.sub(rf"^{old}\.", f"{new}.", section["id"])
                for item in [*section.get("examples", []), *section.get("exercises", [])]:
                    for key in ("id", "follows"):
                        if key in item:
                            item[key] = re.sub(rf"^{old}\.", f"{new}.", item[key])
            out = target / "modules" / f"{new:03d}-{path.stem.split('-', 1)[1]}.yaml"
            out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")
    return target


FORMULAS = (
    r"F = ma",
    r"E_k = \frac{1}{2} m v^2",
    r"v = v_0 + a t",
    r"x = v_0 t + \frac{1}{2} a t^2",
    r"\varepsilon = B L v \sin\theta",
    r"\oint \vec{E} \cdot d\vec{A} = \frac{Q}{\varepsilon_0}",
    r"\int_0^1 x^2 \, dx = \frac{1}{3}",
    r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}",
    r"\lim_{x \to 0} \frac{\sin x}{x} = 1",
    r"e^{i\pi} + 1 = 0",
    r"\nabla \cdot \vec{B} = 0",
    r"p = \frac{h}{\lambda}",
)


def write_formula_source(target: Path, sections: int) -> Path:
    """A physics/maths-style handbook: `sections` sections (5 a module), each with 12 formulas and one worked
    answer of about 1,500 characters: what formula-heavy content costs per page."""
    if target.exists():
        shutil.rmtree(target)
    (target / "modules").mkdir(parents=True)
    (target / "handbook.yaml").write_text(
        "title: 物理公式手册\ndate: '2026-11-29'\nlanguage: zh-CN\n", encoding="utf-8"
    )
    step = "由题意，" + "，".join(f"${tex}$" for tex in FORMULAS[:4]) + "，代入数据逐步计算，注意单位换算与有效数字。"
    answer = "\n".join([step] * max(1, 1500 // len(step)))
    for module in range(1, sections // 5 + 1):
        items = []
        for number in range(1, 6):
            sid = f"{module}.{number}"
            items.append(
                {
                    "id": sid,
                    "title": f"公式与推导 {sid}",
                    "overview": "本节的公式：" + "；".join(f"${tex}$" for tex in FORMULAS[:6]) + "。",
                    "must_know": [f"${tex}$ 的物理意义与适用条件。" for tex in FORMULAS[6:]],
                    "examples": [{"id": f"{sid}.q1", "q": f"推导 ${FORMULAS[3]}$ 并说明每一步的依据。", "a": answer}],
                }
            )
        data = {
            "id": module,
            "title": f"第 {module} 章 力学与电磁学",
            "objective": "掌握公式与推导。",
            "sections": items,
        }
        (target / "modules" / f"{module:02d}-formulas.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000),
            encoding="utf-8",
        )
    return target


def class_case(
    name: str,
    roster: Path,
    out: Path,
    budget_s: float | None,
    budget_kb: float | None = None,
    budget_rss_mb: float | None = None,
    runs: int | None = None,
) -> Case:
    """A class's A/B exam with a seal line, as a teacher prints it (its print file's size is measured in main)."""
    argv = [str(BIN / "paperkit"), "exam", "--modules", "2,3,8", "--seed", "7", "--variants", "2", "--seal-line"]
    argv += ["--roster", str(roster), "--out", str(out)]
    return Case(name, argv, budget_s, None, budget_kb, budget_rss_mb, runs=runs)


def cases(include_scaling: bool) -> list[Case]:
    """The benchmarked commands, with the budgets of the performance issue."""
    pk = str(BIN / "paperkit")
    roster40 = write_roster(WORK / "roster-40.csv", 40)
    roster45 = write_roster(WORK / "roster-45.csv", 45)
    roster135 = write_roster(WORK / "roster-135.csv", 135)
    roster1000 = write_roster(WORK / "roster-1000.csv", 1000)
    exam_dir = WORK / "exam"
    roster_dir = WORK / "roster-40"
    # Three classes of 45, marked with fake answers (bench/fake_scores.py), for the analysis; made afresh (a sheet
    # filled by the last run is a teacher's work to paperkit, never replaced).
    shutil.rmtree(WORK / "class-135", ignore_errors=True)
    made = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "fake_scores.py"), str(WORK / "class-135"), "135"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    class135 = Path(made.stdout.strip())
    handbook = [pk, "handbook", "--out", str(WORK / "handbook.pdf")]
    formulas = write_formula_source(WORK / "formulas", 40)
    out = [
        # Laid out afresh each run (formulas warm): what an author waits for after a change throughout.
        Case("handbook", handbook, 1.9, WORK / "handbook.pdf", 600, 340, forget=LAID_OUT),
        Case(
            "handbook, --jobs 1",
            [pk, "handbook", "--jobs", "1", "--out", str(WORK / "handbook-1.pdf")],
            1.9,
            WORK / "handbook-1.pdf",
            600,
            340,
            forget=LAID_OUT,
        ),
        Case("handbook, no change", handbook, None, WORK / "handbook.pdf"),  # the built PDF from the cache
        Case("checklist", [pk, "checklist", "--out", str(WORK / "checklist.pdf")], 1.0, WORK / "checklist.pdf"),
        Case(
            "exam paper + key",
            [pk, "exam", "--modules", "2,3,8", "--seed", "7", "--out", str(exam_dir)],
            1.0,
            None,
            250,
        ),
        Case(
            "40-student roster",
            [pk, "exam", "--modules", "2,3,8", "--seed", "7", "--roster", str(roster40), "--out", str(roster_dir)],
            10.0,
        ),
        class_case("roster 45, A/B, seal line", roster45, WORK / "roster-45", 8.0, 1536),
        class_case("roster 135, A/B, seal line", roster135, WORK / "roster-135", 24.0),
        # A whole year group, timed once: its memory must not grow with the class (≤ 400 MB, workers included).
        class_case("roster 1000, A/B, seal line", roster1000, WORK / "roster-1000", None, None, 400, runs=1),
        Case(
            "make, nothing changed",
            ["make", "--no-print-directory"],
            0.2,
            setup=["make --no-print-directory >/dev/null"],
        ),
        Case("paperkit --help", [pk, "--help"], 0.3),
        Case(
            "analyze, 135 students",
            [pk, "analyze", str(class135), str(class135.parent / "scores.xlsx"), "--out", str(WORK / "analysis")],
            None,
            WORK / "analysis" / "analysis.pdf",
        ),
        Case(
            "formula handbook, 40 sec",
            [pk, "handbook", "--source", str(formulas), "--out", str(WORK / "f.pdf")],
            None,
            WORK / "f.pdf",
            forget=LAID_OUT,
        ),
        # Its first build: an empty cache, every formula drawn (issue 32); and the bundled handbook's, to compare.
        Case(
            "formula handbook, 40 sec, empty cache",
            [pk, "handbook", "--source", str(formulas), "--out", str(WORK / "f.pdf")],
            None,
            WORK / "f.pdf",
            forget=EMPTY,
        ),
        Case("handbook, empty cache", handbook, None, WORK / "handbook.pdf", forget=EMPTY),
    ]
    if include_scaling:
        scaled = write_scaled_source(ROOT / "source", WORK / "source-4x", 4)
        roster160 = write_roster(WORK / "roster-160.csv", 160)
        formulas4 = write_formula_source(WORK / "formulas-4x", 160)
        out += [
            # Four times the formula-heavy handbook, timed once (about a minute): its time per page must stay.
            Case(
                "formula handbook, 160 sec",
                [pk, "handbook", "--source", str(formulas4), "--out", str(WORK / "f4.pdf")],
                None,
                WORK / "f4.pdf",
                runs=1,
                forget=LAID_OUT,
            ),
            Case(
                "handbook, 4x sections",
                [pk, "handbook", "--source", str(scaled), "--out", str(WORK / "handbook-4x.pdf")],
                None,
                WORK / "handbook-4x.pdf",
                forget=LAID_OUT,
            ),
            Case(
                "160-student roster",
                [
                    pk,
                    "exam",
                    "--modules",
                    "2,3,8",
                    "--seed",
                    "7",
                    "--roster",
                    str(roster160),
                    "--out",
                    str(WORK / "roster-160"),
                ],
            ),
        ]
    return out


def exam_paper(directory: Path) -> Path | None:
    """The first paper.pdf under an exam output directory (its id is chosen by paperkit)."""
    found = sorted(directory.rglob("paper*.pdf"))
    return found[0] if found else None


def mark(value: float | None, budget: float | None) -> str:
    """ok / OVER against a budget, or blank when there is none."""
    if value is None or budget is None:
        return ""
    return "ok" if value <= budget else f"OVER ({value / budget:.2f}x)"


def table(results: list[Result]) -> str:
    """The results as an aligned text table with budget marks."""
    head = (
        f"{'case':<28} {'min s':>7} {'median s':>9} {'max s':>7} {'budget':>7} {'':<12} "
        f"{'RSS MB':>7} {'tree MB':>8} {'pages':>6} {'KB':>8} {'budget':>7} {'':<6}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<28} {r.min_s:>7.3f} {r.median_s:>9.3f} {r.max_s:>7.3f} "
            f"{(f'{r.budget_s:.1f}' if r.budget_s else ''):>7} {mark(r.median_s, r.budget_s):<12} "
            f"{r.peak_rss_mb:>7.0f} {r.peak_tree_mb:>8.0f} {(r.pages if r.pages is not None else ''):>6} "
            f"{(f'{r.size_kb:.0f}' if r.size_kb is not None else ''):>8} "
            f"{(f'{r.budget_kb:.0f}' if r.budget_kb else ''):>7} {mark(r.size_kb, r.budget_kb):<6}"
        )
        if r.budget_rss_mb:
            lines.append(
                f"{'':<28} peak RSS of the process tree {r.peak_tree_mb:.0f} MB, budget {r.budget_rss_mb:.0f} MB: "
                f"{mark(r.peak_tree_mb, r.budget_rss_mb)}"
            )
    return "\n".join(lines)


def main() -> int:
    """Run every case and report; always exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (after one warm-up)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 4x handbook and 160-student roster")
    parser.add_argument("--only", default="", help="run only the cases whose names contain this text")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["PAPERKIT_CACHE_DIR"] = str(CACHE)
    results: list[Result] = []
    for case in cases(not args.no_scaling):
        if args.only not in case.name:
            continue
        print(f"running {case.name} ...", file=sys.stderr, flush=True)
        try:
            result = measure(case, args.runs)
        except RuntimeError as error:
            print(f"  skipped: {error}", file=sys.stderr)
            continue
        if case.name == "exam paper + key":
            paper = exam_paper(WORK / "exam")
            if paper is not None:
                result.size_kb = paper.stat().st_size / 1024
                result.pages = len(PdfReader(paper).pages)
        if case.name.startswith("roster "):  # the class print file: its size is a goal of its own (≤ 1.5 MB for 45)
            folder = WORK / ("roster-" + case.name.split()[1].rstrip(","))
            merged = sorted(folder.rglob("papers-all.pdf"))
            if merged:
                result.size_kb = merged[0].stat().st_size / 1024
                result.pages = len(PdfReader(merged[0]).pages)
        results.append(result)
    print(table(results))
    by_name = {r.name: r for r in results}
    ratios = {}
    for big, small, factor in (
        ("handbook, 4x sections", "handbook", 4),
        ("160-student roster", "40-student roster", 4),
        ("formula handbook, 160 sec", "formula handbook, 40 sec", 4),
    ):
        if big in by_name and small in by_name:
            ratios[big] = by_name[big].median_s / by_name[small].median_s
            print(f"{big}: {ratios[big]:.2f}x the 1x median for {factor}x the work (linear: ≤ {factor})")
    for suffix in ("", ", empty cache"):
        formula, bundled = by_name.get("formula handbook, 40 sec" + suffix), by_name.get("handbook" + suffix)
        if formula and bundled and formula.pages and bundled.pages:
            per_page = (formula.median_s / formula.pages) / (bundled.median_s / bundled.pages)
            ratios["formula handbook per page" + suffix] = per_page
            print(f"formula handbook{suffix}: {per_page:.2f}x the bundled handbook's time per page (goal: ≤ 1.5)")
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": [asdict(r) for r in results],
        "scaling_ratios": ratios,
    }
    (ROOT / "build" / "bench.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print("wrote build/bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
