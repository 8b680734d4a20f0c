"""错题重练 (issue 28): a paper per student of items they were not given, all from the two sections they lost most
on, with the answers at the end; a file each and one print file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.marking.grading import sitters
from paperkit.marking.jobs import open_exam
from paperkit.marking.practice import plan_practice, weakest_sections
from paperkit.marking.scoresheet import read_scores
from paperkit.questions.overlap import clash
from paperkit.text.markup import plain_text
from test_marking import answer, exam_manifest, write_csv

runner = CliRunner()
PARTS = "choice:6x2,multi:2x4,truefalse:3x2,fill:3x2,short:2x10"


def hanzi(text: str) -> str:
    """Only the Chinese characters of a text: what survives text extraction from formulas and spacing alike."""
    return "".join(c for c in text if "\u4e00" <= c <= "\u9fff")


def filled(folder: Path, students: int, seed: int) -> tuple[Path, Path]:
    """A marked class: the manifest and a scores.csv filled with right and wrong answers, one student absent."""
    manifest = exam_manifest(folder, students, PARTS)
    marked = open_exam(manifest, SOURCE)
    rng = random.Random(seed)
    rows = []
    students = sitters(marked.manifest, marked.questions)
    for student in students:
        ability = rng.random()
        cells = [answer(slot, rng.random() < 0.2 + 0.7 * ability, in_csv=True) for slot in student.slots]
        if student is students[-1]:
            cells = [""] * len(cells)  # absent: no paper
        rows.append([student.student_id, student.name, student.class_name, student.variant, *cells])
    header = ["学号", "姓名", "班级", "卷型", *[f"{n}（{s.points}分）" for n, s in enumerate(student.slots, 1)]]
    scores = folder / "scores.csv"
    write_csv(scores, header, rows)
    return manifest, scores


@pytest.fixture(scope="module")
def class45(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return filled(tmp_path_factory.mktemp("practice45"), 45, 7)


def test_every_item_is_unseen_and_from_the_students_two_weakest_sections(class45: tuple[Path, Path]) -> None:
    manifest, scores = class45
    marked = open_exam(manifest, SOURCE, exercises=True)
    rows = read_scores(scores, marked.manifest, marked.questions)
    plans = plan_practice(rows, marked.bank, marked.manifest.options.seed, 6)
    assert len(plans) == 44  # the absent student gets none
    by_id = {q.id: q for questions in marked.bank.values() for q in questions}
    for row, plan in zip([r for r in rows if r.marks is not None], plans, strict=True):
        # The two weakest sections, worked out again here: lowest 得分率 first.
        rates: dict[str, list[float]] = {}
        for slot, mark in zip(row.sitter.slots, row.marks or (), strict=True):
            pair = rates.setdefault(slot.section_id, [0, 0])
            pair[0] += mark.points
            pair[1] += slot.points
        lowest = sorted(earned / worth for earned, worth in rates.values())[:2]
        assert [rate for _, _, rate in plan.sections] == pytest.approx(lowest)
        weak = {ident for ident, _, _ in plan.sections}
        seen = {slot.item_id for slot in row.sitter.slots}
        assert plan.items and len(plan.items) + plan.short_by == 6
        for item_id in plan.items:
            question = by_id[item_id]
            assert item_id not in seen and question.section_id in weak, (plan.student_id, item_id)
            assert question.item.use != "exam"  # items held back for exams stay back
        assert not any(clash(by_id[a], by_id[b]) for a in plan.items for b in plan.items if a < b)
    # The same class gives the same papers; the two weakest of one student are their lowest two.
    assert plan_practice(rows, marked.bank, marked.manifest.options.seed, 6) == plans
    assert weakest_sections(rows[0]) == list(plans[0].sections)


def test_a_paper_per_student_and_one_print_file(tmp_path: Path) -> None:
    manifest, scores = filled(tmp_path / "class", 4, 3)
    out = tmp_path / "practice"
    result = runner.invoke(app, ["practice", str(manifest), str(scores), "--out", str(out), "--count", "4"])
    assert result.exit_code == 0, result.output
    marked = open_exam(manifest, SOURCE, exercises=True)
    rows = read_scores(scores, marked.manifest, marked.questions)
    plans = plan_practice(rows, marked.bank, marked.manifest.options.seed, 4)
    by_id = {q.id: q for questions in marked.bank.values() for q in questions}
    files = sorted(p.name for p in out.glob("*.pdf"))
    assert files == sorted([f"{p.student_id}-{p.name}.pdf" for p in plans] + ["practice-all.pdf"])
    pages = 0
    for plan in plans:
        reader = PdfReader(out / f"{plan.student_id}-{plan.name}.pdf")
        texts = [page.extract_text() for page in reader.pages]
        whole = hanzi("".join(texts))
        assert plan.name in texts[0] and "错题重练" in texts[0] and plan.sections[0][0] in texts[0]
        for item_id in plan.items:  # every question is on the paper, and its answer at the end
            assert hanzi(plain_text(by_id[item_id].item.q))[:8] in whole, item_id
        key_start = next(i for i, text in enumerate(texts) if "答案与评分参考" in text)
        assert key_start % 2 == 0 and key_start > 0  # the key starts on a sheet of its own, after the paper
        pages += len(reader.pages) + len(reader.pages) % 2
    assert len(PdfReader(out / "practice-all.pdf").pages) == pages
