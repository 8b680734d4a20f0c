"""A marked class for demos and the benchmark: an exam's manifest for a roster of N (planned, not printed),
its score sheet, and that sheet filled with fake, reproducible answers.

    .venv/bin/python bench/fake_scores.py OUT_DIR STUDENTS [--source source]

writes OUT_DIR/manifest.json, OUT_DIR/scores.xlsx (filled) and OUT_DIR/scores.csv (blank), and prints the
manifest's path. The answers come from random.Random(STUDENTS): the same class every run.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from openpyxl import load_workbook

from paperkit.exam.job import source_from
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.marking.grading import Slot, sitters
from paperkit.marking.jobs import build_scoresheet, open_exam
from paperkit.marking.scoresheet import FIRST_ROW

PARTS = "choice:10x2,multi:2x4,truefalse:5x2,fill:5x2,short:3x10"


def plan_class(folder: Path, students: int, source: Path) -> Path:
    """Plan a blueprint exam of modules 2,3,8 for a roster of `students` and write its manifest.json."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = folder / "roster.csv"
    lines = ["姓名,学号,班级"] + [f"学生{n:03d},2026{n:04d},{1 + (n - 1) // 45}班" for n in range(1, students + 1)]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    flags = ExamFlags(modules="2,3,8", seed="7", parts=PARTS, variants="2", roster=roster, date="2026-12-09")
    plan = plan_exam(parse_exam_flags(flags), source, folder)
    path = folder / "manifest.json"
    path.write_text(manifest_json(plan.manifest, source_from(folder, source)), encoding="utf-8")
    return path


def _answer(slot: Slot, right: bool, rng: random.Random) -> object:
    if slot.kind in ("choice", "multi"):
        return slot.key if right else rng.choice([ch for ch in "ABCDEFGH"[: len(slot.order)] if ch not in slot.key])
    if slot.kind == "truefalse":
        return "√" if (slot.key == "true") == right else "×"
    return slot.points if right else rng.randint(0, slot.points // 2)


def fill(manifest: Path, source: Path) -> Path:
    """Write the exam's score sheet and fill scores.xlsx with a plausible class (one student absent)."""
    marked = open_exam(manifest, source)
    students = sitters(marked.manifest, marked.questions)
    xlsx = build_scoresheet(manifest, source)[0][0]
    book = load_workbook(xlsx)
    sheet = book["成绩"]
    rng = random.Random(len(students))
    for row, student in enumerate(students, start=FIRST_ROW):
        if row == len(students) + FIRST_ROW - 1:
            continue  # the last student was absent
        ability = rng.betavariate(4, 2)
        for offset, slot in enumerate(student.slots):
            hard = (offset % 7) / 10  # later-in-the-cycle items are harder
            right = rng.random() < ability - hard + 0.2
            sheet.cell(row=row, column=5 + offset, value=_answer(slot, right, rng))
    book.save(xlsx)
    return xlsx


def main() -> int:
    """Plan, write the sheet and fill it; print the manifest's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("students", type=int)
    parser.add_argument("--source", type=Path, default=Path("source"))
    args = parser.parse_args()
    manifest = plan_class(args.out, args.students, args.source)
    fill(manifest, args.source)
    print(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
