"""How well `paperkit scan` reads answer sheets: simulated students fill real sheets, a simulated scanner or
phone degrades them, and the reader's every decision is scored against what was marked.

Run with `make bench-scan` (the test seeds) or `python bench/scan_bench.py --seeds tune` (seeds 1000–1099, the
ones the thresholds in marking/sheetread.py were tuned on). Prints one table, a row per condition:

  right        questions read as marked, with no review
  review       questions sent to a person (review.csv), never guessed
  wrong        questions read silently as something not marked: the figure that must stay 0
  refused      pages the quality gate refused (their questions are not counted above)
  identity     pages given to the wrong student or page: must stay 0

and writes build/bench/scan.json. The sheets are those `paperkit exam --answer-sheet` prints: a class of 40 with a
sheet each and blank sheets whose 考号 grid is filled in, 80 questions on two pages.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import scan_sim as sim

from paperkit.exam.sheet import layout_from_data

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "scan"
PARTS = "choice:40x1,multi:12x2,truefalse:20x1,fill:6x2,short:2x5"
MODULES = ",".join(str(m) for m in range(14))
STUDENTS = 40

# name, the scanner or camera, how the students mark, sheets per seed set
CONDITIONS: tuple[tuple[sim.Condition, str, int], ...] = (
    (sim.Condition("scanner 300 dpi", 300, rotation=180, jitter=1.0), "careful", 60),
    (sim.Condition("scanner 200 dpi, JPEG 85", 200, rotation=180, jitter=1.5, jpeg=85), "careful", 60),
    (sim.Condition("scanner 150 dpi", 150, jitter=1.0, jpeg=90), "careful", 50),
    (sim.Condition("scanner 600 dpi", 600, jitter=0.5), "careful", 20),
    (
        sim.Condition("phone ±15°, keystone, JPEG 70", 220, rotation=90, jitter=15, keystone=0.06, jpeg=70),
        "careful",
        60,
    ),
    (
        sim.Condition(
            "phone, shadow and blur", 220, rotation=270, jitter=15, keystone=0.05, shadow=0.45, blur=1.2, jpeg=70
        ),
        "careful",
        40,
    ),
    (
        sim.Condition("phone via chat app (1280 px), JPEG 30", 220, jitter=10, keystone=0.05, downscale=1280, jpeg=30),
        "careful",
        40,
    ),
    (sim.Condition("phone, bowed page (2 mm)", 220, jitter=8, keystone=0.04, curl=2.0, jpeg=75), "careful", 40),
    (sim.Condition("scanner 300 dpi, a covered marker", 300, jitter=1.0, cover_marker=True), "careful", 30),
    (sim.Condition("scanner 300 dpi, messy marks", 300, jitter=1.0), "messy", 40),
)
SEEDS = {"tune": 1000, "test": 2000}


@dataclass
class Tally:
    """One condition's counts."""

    sheets: int = 0
    pages: int = 0
    questions: int = 0
    right: int = 0
    review: int = 0
    wrong: int = 0
    refused: int = 0
    identity: int = 0
    seconds: float = 0.0
    wrong_examples: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why pages were refused
    why: list[str] = field(default_factory=list)  # why questions went to review

    def add(self, other: Tally) -> None:
        for name in ("sheets", "pages", "questions", "right", "review", "wrong", "refused", "identity", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wrong_examples += other.wrong_examples[: 5 - len(self.wrong_examples)]
        self.reasons += other.reasons
        self.why += other.why


# ---- the exams ----------------------------------------------------------------------------------------------------


def build_exams() -> dict[str, Path]:
    """The class (a sheet per student) and the blank sheets, printed by paperkit itself (kept between runs)."""
    WORK.mkdir(parents=True, exist_ok=True)
    roster = WORK / "roster.csv"
    roster.write_text("姓名,学号\n" + "".join(f"学生{n:02d},2026{n:04d}\n" for n in range(1, STUDENTS + 1)), "utf-8")
    exams = {}
    for name, extra in (("class", ["--roster", str(roster)]), ("blank", [])):
        out = WORK / name
        if not any(out.glob("*/manifest.json")):
            shutil.rmtree(out, ignore_errors=True)
            command = [str(ROOT / ".venv" / "bin" / "paperkit"), "exam", "--modules", MODULES, "--seed", "1"]
            command += ["--pool", "all", "--parts", PARTS, "--variants", "2", "--answer-sheet", "--out", str(out)]
            subprocess.run([*command, *extra], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        exams[name] = next(out.glob("*/manifest.json"))
    return exams


_EXAMS: dict[str, object] = {}


def _open(manifest: Path) -> object:
    from paperkit.marking.scanpage import open_scan_exam

    if str(manifest) not in _EXAMS:
        _EXAMS[str(manifest)] = open_scan_exam(manifest, ROOT / "source")
    return _EXAMS[str(manifest)]


@lru_cache(maxsize=8)
def _clean(pdf: Path, page: int, dpi: int) -> np.ndarray:
    return sim.render_page(pdf.read_bytes(), page, dpi)


# ---- a simulated student --------------------------------------------------------------------------------------------


def fill_styles(profile: str, rng: random.Random) -> str:
    """How one box is filled by a careful or a messy student (a messy one makes the 填涂示例's 错误 marks)."""
    if profile == "messy" and rng.random() < 0.08:
        return rng.choice(sim.WRONG_STYLES)
    return rng.choices(sim.FILLED_STYLES, weights=(45, 35, 10, 10))[0]


def student(layout: object, profile: str, rng: random.Random) -> tuple[dict, dict[int, str | None]]:
    """A student's marks on a sheet and what each question must read as (None: only a person can say)."""
    marks: dict[tuple[int, str], str] = {}
    truth: dict[int, str | None] = {}
    strips = {a.number: a.points for a in layout.areas}
    for number, boxes in sorted(layout.questions().items()):
        values = [b.value for b in boxes]
        if number in strips:  # the teacher's points, in pen
            points = rng.choice([*range(strips[number] + 1), strips[number] - 0.5])
            whole = int(points)
            for value in [str(whole)] + (["0.5"] if points != whole else []):
                marks[(number, value)] = "full"
            truth[number] = f"{points:g}"
            continue
        if rng.random() < 0.04:
            truth[number] = ""  # left blank
            continue
        chosen = [rng.choice(values)] if number in layout.singles else sorted(rng.sample(values, rng.randint(1, 3)))
        styles = [fill_styles(profile, rng) for _ in chosen]
        for value, style in zip(chosen, styles, strict=True):
            marks[(number, value)] = style
        truth[number] = None if any(s in sim.WRONG_STYLES for s in styles) else "".join(chosen)
        others = [v for v in values if v not in chosen]
        if others and rng.random() < 0.03:  # changed their mind: an erased fill beside the answer
            marks[(number, rng.choice(others))] = "erased"
        if profile == "messy" and others and rng.random() < 0.05:
            marks[(number, rng.choice(others))] = "stray"
    return marks, truth


# ---- one sheet ----------------------------------------------------------------------------------------------


def run_sheet(task: tuple[int, int, dict[str, str]]) -> tuple[int, Tally]:
    """Fill, degrade and read one sheet; score every decision."""
    from paperkit.marking.scanpage import read_page

    index, seed, exams = task
    condition, profile, _ = CONDITIONS[index]
    rng = random.Random(seed * 100 + index)
    kind = "class" if rng.random() < 0.5 else "blank"
    manifest = Path(exams[kind])
    exam = _open(manifest)
    sheets = sorted(exam.sheets.items())
    sheet, holder = rng.choice(sheets)
    layout = layout_from_data(exam.manifest.answer_sheet["layouts"][holder["variant"]])
    student_id = holder["student_id"] or f"2027{rng.randint(0, 9999):04d}"
    marks, truth = student(layout, profile, rng)
    if not holder["student_id"]:
        marks |= sim.id_marks(student_id)
    if holder["student_id"]:
        pdf = next((manifest.parent / "sheets").glob(f"{holder['student_id']}-*.pdf"))
    else:
        pdf = manifest.parent / f"sheet-{holder['variant']}.pdf"
    tally = Tally(sheets=1)
    for page in range(1, layout.pages + 1):
        image = _clean(pdf, page - 1, condition.dpi).copy()
        px_per_mm = condition.dpi / 25.4
        for box in layout.boxes:
            key = (box.number, box.value) if box.field == "q" else (-1 - box.number, box.value)
            if box.page == page and box.field != "absent" and marks.get(key):
                sim.mark(image, box, marks[key], px_per_mm, rng)
        scanned = sim.degrade(image, condition, rng)
        start = time.perf_counter()
        record, _ = read_page(exam, f"{seed}#{page}", scanned)
        tally.seconds += time.perf_counter() - start
        tally.pages += 1
        numbers = sorted({b.number for b in layout.boxes if b.field == "q" and b.page == page})
        if record.problem or record.waiting:
            tally.refused += 1
            tally.reasons.append(record.problem or record.waiting)
            continue
        if (record.sheet, record.page) != (sheet, page) or (record.student_id and record.student_id != student_id):
            tally.identity += 1
            continue
        if record.identity:  # the 考号 went to review: its questions wait for a person
            tally.review += len(numbers)
            tally.questions += len(numbers)
            continue
        for answer in record.answers:
            expected = truth[answer["number"]]
            tally.questions += 1
            if answer["status"] == "review":
                tally.review += 1
                tally.why.append(answer["reason"].split(" ")[-1])
            elif expected is not None and answer["value"] == expected:
                tally.right += 1
            else:
                tally.wrong += 1
                shown = "(a 错误 mark)" if expected is None else repr(expected)
                tally.wrong_examples.append(
                    f"seed {seed} page {page} q{answer['number']}: read {answer['value']!r}, marked {shown}"
                )
    return index, tally


def time_class(students: int = 45, dpi: int = 300) -> None:
    """A class scanned as one PDF and read by `paperkit scan` itself, timed end to end (a fresh process)."""
    folder = WORK / "class45"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    roster = folder / "roster.csv"
    roster.write_text("姓名,学号\n" + "".join(f"学生{n:02d},2026{n:04d}\n" for n in range(1, students + 1)), "utf-8")
    paperkit = str(ROOT / ".venv" / "bin" / "paperkit")
    parts = "choice:10x2,multi:4x4,truefalse:5x2,fill:5x2,short:2x10"  # a 26-question paper on a two-page sheet
    command = [paperkit, "exam", "--modules", "2,3,8", "--seed", "7", "--roster", str(roster), "--answer-sheet"]
    subprocess.run(
        [*command, "--parts", parts, "--out", str(folder / "exam")],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    manifest = next((folder / "exam").glob("*/manifest.json"))
    exam = _open(manifest)
    rng = random.Random(45)
    pages = []
    condition = sim.Condition("feeder", dpi, jitter=1.0, jpeg=90)
    for _, holder in sorted(exam.sheets.items()):
        layout = layout_from_data(exam.manifest.answer_sheet["layouts"][holder["variant"]])
        marks, _ = student(layout, "careful", rng)
        pdf = next((manifest.parent / "sheets").glob(f"{holder['student_id']}-*.pdf"))
        pages += [sim.degrade(p, condition, rng) for p in sim.filled_pages(pdf.read_bytes(), layout, marks, dpi, 1)]
    batch = folder / "class.pdf"
    batch.write_bytes(sim.as_pdf(pages, dpi))
    start = time.perf_counter()
    subprocess.run([paperkit, "scan", str(manifest), str(batch)], check=True, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - start
    load = os.getloadavg()
    print(
        f"paperkit scan: {students} students, {len(pages)} pages at {dpi} dpi ({batch.stat().st_size // 1024} kB PDF) "
        f"in {wall:.1f} s ({wall / len(pages):.3f} s/page, whole command); load {load[0]:.2f} {load[1]:.2f}"
    )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", choices=sorted(SEEDS), default="test")
    parser.add_argument("--scale", type=float, default=1.0, help="sheets per condition × this (0.1 for a quick look)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--class-only", action="store_true", help="only time `paperkit scan` of a class of 45")
    args = parser.parse_args()
    if args.class_only:
        time_class()
        return
    exams = {k: str(v) for k, v in build_exams().items()}
    base = SEEDS[args.seeds]
    tasks = [
        (index, base + n, exams)
        for index, (_, _, sheets) in enumerate(CONDITIONS)
        for n in range(max(1, round(sheets * args.scale)))
    ]
    tallies = [Tally() for _ in CONDITIONS]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for index, tally in pool.imap_unordered(run_sheet, tasks, chunksize=2):
            tallies[index].add(tally)
    wall = time.perf_counter() - started
    load = os.getloadavg()
    total = Tally()
    header = (
        "| condition | sheets | pages | questions | right, no review | review | silently wrong | pages refused "
        "| identity errors | s/page |"
    )
    print(header)
    print("|---|" + "---:|" * 9)
    for (condition, profile, _), tally in zip(CONDITIONS, tallies, strict=True):
        total.add(tally)
        print(
            f"| {condition.name}{' (messy marks)' if profile == 'messy' and 'messy' not in condition.name else ''} "
            f"| {tally.sheets} | {tally.pages} | {tally.questions} | {_share(tally.right, tally.questions)} "
            f"| {_share(tally.review, tally.questions)} | {tally.wrong} | {tally.refused} | {tally.identity} "
            f"| {tally.seconds / max(1, tally.pages):.3f} |"
        )
    print(
        f"| **all** | {total.sheets} | {total.pages} | {total.questions} | {_share(total.right, total.questions)} "
        f"| {_share(total.review, total.questions)} | {total.wrong} | {total.refused} | {total.identity} "
        f"| {total.seconds / max(1, total.pages):.3f} |"
    )
    bound = 3 / total.questions if total.questions else 0
    print(
        f"\nseeds: {args.seeds} (from {base}); {total.questions} questions; with {total.wrong} silently wrong the "
        f"95 % upper bound on that rate is {bound:.1e}" + (" (rule of three)" if not total.wrong else "")
    )
    print(f"wall {wall:.0f} s on {args.jobs} processes; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for example in total.wrong_examples:
        print("wrong:", example, file=sys.stderr)
    for (condition, _, _), tally in zip(CONDITIONS, tallies, strict=True):
        for reason in sorted(set(tally.reasons)):
            print(f"refused ({condition.name}): {tally.reasons.count(reason)} × {reason}", file=sys.stderr)
        for reason in sorted(set(tally.why)):
            print(f"review ({condition.name}): {tally.why.count(reason)} × {reason}", file=sys.stderr)
    out = ROOT / "build" / "bench" / "scan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"condition": c.name, "profile": p}
        | {k: v for k, v in t.__dict__.items() if k not in ("wrong_examples", "reasons", "why")}
        for (c, p, _), t in zip(CONDITIONS, tallies, strict=True)
    ]
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows, "wall_s": wall, "load": load}, indent=1) + "\n")
    time_class()


if __name__ == "__main__":
    main()
