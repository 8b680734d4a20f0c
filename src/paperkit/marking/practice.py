"""错题重练: for each student, a short paper from the two sections they lost most on, of items they were not
given, with the answers at the end; a file per student and one print file for the class.

Which sections: each section's 得分率 on the student's own paper (lowest first; ties: more points lost, then
handbook order). Which items: exercises of those sections that practice may use (not held back for exams), not
on the student's paper, never two that give each other away (the same clash rule as the exam), ranked by a
hash of the exam's seed, the student and the item (the same class gives the same papers), taken from the two
sections in turn. Items that follow another (`follows`) are left out: they need the one before; so are a
组合题's sub-questions (they need their group's stem).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from paperkit.errors import UsageError
from paperkit.exam import paper as ex
from paperkit.exam.options import ExamOptions, PartSpec
from paperkit.exam.plan import clash_of, in_pool
from paperkit.exam.select import Clash
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.marking.grading import counted_slots
from paperkit.marking.jobs import Marked, open_exam
from paperkit.marking.options import PER_STUDENT
from paperkit.marking.scoresheet import SheetRow, read_sheet
from paperkit.output import staged_folder, write_atomic
from paperkit.questions import bank as qb
from paperkit.questions.registry import KINDS

WEAK_SECTIONS = 2

DEFAULT_POINTS = 5  # a kind the exam did not ask gets this many points on a practice paper


@dataclass(frozen=True)
class Practice:
    """One student's 错题重练: their weakest sections (with 得分率) and the items drawn from them."""

    student_id: str
    name: str
    class_name: str
    sections: tuple[tuple[str, str, float], ...]  # (id, title, 得分率 on the exam)
    items: tuple[str, ...]
    short_by: int = 0  # how many fewer items than asked the two sections could give


def weakest_sections(row: SheetRow, count: int = WEAK_SECTIONS) -> list[tuple[str, str, float]]:
    """The sections a student scored least of, as (id, title, 得分率), lowest first."""
    totals: dict[str, list[float]] = {}
    titles: dict[str, str] = {}
    order: dict[str, int] = {}
    marks = row.marks or ()
    counts = counted_slots(row.sitter.slots, [m.points for m in marks])
    for slot, mark, counted in zip(row.sitter.slots, marks, counts, strict=True):
        if not counted:  # a 选做 item the student left for the other, a 附加题: no gap to practise
            continue
        pair = totals.setdefault(slot.section_id, [0.0, 0.0])
        pair[0] += mark.points
        pair[1] += slot.points
        titles[slot.section_id] = slot.section_title
        order.setdefault(slot.section_id, len(order))
    ranked = sorted(
        (ident for ident, (_got, worth) in totals.items() if worth),
        key=lambda ident: (
            totals[ident][0] / totals[ident][1],
            -(totals[ident][1] - totals[ident][0]),
            _section_order(ident),
        ),
    )
    return [(ident, titles[ident], totals[ident][0] / totals[ident][1]) for ident in ranked[:count]]


def _section_order(ident: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in ident.split("."))


def practice_rank(seed: int, student_id: str, item_id: str) -> str:
    """The order practice items are drawn in: a hash, never Python's hash() or a global random generator."""
    return hashlib.sha256(f"{seed}:practice:{student_id}:{item_id}".encode()).hexdigest()


def draw(
    candidates: Mapping[str, Sequence[qb.Question]], seed: int, student_id: str, count: int, clash: Clash
) -> list[str]:
    """Up to `count` items, taken from each section's ranked candidates in turn, none clashing with another."""
    queues = {
        section: sorted(questions, key=lambda q: practice_rank(seed, student_id, q.id))
        for section, questions in candidates.items()
    }
    chosen: list[str] = []
    while len(chosen) < count and any(queues.values()):
        for section in candidates:
            queue = queues[section]
            while queue:
                question = queue.pop(0)
                if not any(clash(question.id, other) for other in chosen):
                    chosen.append(question.id)
                    break
            if len(chosen) == count:
                break
    return chosen


def plan_practice(
    rows: Sequence[SheetRow], bank: Mapping[int, Sequence[qb.Question]], seed: int, count: int = PER_STUDENT
) -> list[Practice]:
    """Each student's 错题重练 (students without marks are left out)."""
    usable = {
        module: tuple(
            q
            for q in questions
            if in_pool(q, "practice") and not q.item.follows and q.item.group is None and q.kind in KINDS
        )
        for module, questions in bank.items()
    }
    exercises = {q.id: q for questions in usable.values() for q in questions}
    clash = clash_of(usable)
    result = []
    for row in rows:
        if row.marks is None:
            continue
        weak = weakest_sections(row)
        seen = {slot.item_id for slot in row.sitter.slots}
        candidates = {
            ident: [q for q in exercises.values() if q.section_id == ident and q.id not in seen]
            for ident, _title, _rate in weak
        }
        items = draw(candidates, seed, row.sitter.student_id, count, clash)
        result.append(
            Practice(
                row.sitter.student_id,
                row.sitter.name,
                row.sitter.class_name,
                tuple(weak),
                tuple(items),
                count - len(items),
            )
        )
    return result


def practice_exam(
    practice: Practice, by_id: Mapping[str, qb.Question], points: Mapping[str, int], exam_id: str, options: ExamOptions
) -> ex.Exam:
    """A student's practice items as a paper: one part per kind, numbered through, each kind at its exam points."""
    ordered = [qid for kind in KINDS for qid in practice.items if by_id[qid].kind == kind]
    parts = [
        PartSpec(kind, sum(1 for qid in ordered if by_id[qid].kind == kind), points.get(kind, DEFAULT_POINTS))
        for kind in KINDS
        if any(by_id[qid].kind == kind for qid in ordered)
    ]
    bank = {0: tuple(by_id[qid] for qid in ordered)}
    return ex.make_typed_exam(
        bank,
        options.modules,
        parts,
        ordered,
        {},
        exam_id=f"{exam_id}_practice",
        variant="",
        seed=options.seed,
        rules=options.rules,
    )


def _kind_points(marked: Marked) -> dict[str, int]:
    """The points each kind had on the exam (its first question of that kind)."""
    points: dict[str, int] = {}
    for paper in marked.manifest.papers.values():
        for qid, value in zip(paper["questions"], paper["points"], strict=True):
            points.setdefault(marked.questions[qid].kind, int(value))
    return points


def _documents(practice: Practice, exam: ex.Exam, options: ExamOptions, title: str, lang: str) -> tuple[bytes, bytes]:
    """A student's practice paper (their name filled in, the sections it targets said) and its key."""
    from paperkit.render.document import render_document

    context = ex.paper_context(exam, options, title, lang, (practice.name, practice.student_id, practice.class_name))
    targets = label("list_separator").join(
        f"{ident} {name}（{rate * 100:.0f}%）" for ident, name, rate in practice.sections
    )
    # Practice, not an exam: no time limit, and the footer names the exam it follows and the student.
    code = f"{exam.exam_id} · {practice.student_id}"
    context["doc"].update(
        instructions=[label("practice_notice", sections=targets), label("practice_answers")],
        duration_label="",
        label=code,
    )
    key_context = ex.key_context(exam, options, title, lang)
    key_context["doc"].update(duration_label="", label=code)
    css = ["exam.css.j2", "kinds.css.j2"]
    paper = render_document("exam.html.j2", css, context, options.page)
    key = render_document("key.html.j2", css, key_context, options.page)
    return paper, key


def build_practice(
    manifest_path: Path, scores: Path, source: Path | None, out: Path | None = None, count: int = PER_STUDENT
) -> tuple[Path, list[str]]:
    """Write <学号>-<姓名>.pdf for each student who sat, and practice-all.pdf to print them all, into `out`
    (default: practice/ beside the manifest); returns the folder and what to tell the teacher."""
    from paperkit.exam.plan import student_file
    from paperkit.exam.roster import Student
    from paperkit.render.pdf import merge_for_duplex
    from paperkit.render.workers import start_engine

    marked = open_exam(manifest_path, source, exercises=True)
    rows = read_sheet(scores, marked.manifest, marked.questions).rows
    if not any(r.marks is not None for r in rows):
        raise UsageError(_("{scores}: no student has any marks yet; fill in the sheet first").format(scores=scores))
    bank = marked.bank
    plans = plan_practice(rows, bank, marked.manifest.options.seed, count)
    by_id = {q.id: q for questions in bank.values() for q in questions}
    options = replace(marked.manifest.options, seal_line=False, answer_grid=False, answer_sheet=False, variants=1)
    title = label("practice_title", title=marked.manifest.title)
    points = _kind_points(marked)
    notes = []
    papers: list[tuple[Practice, ex.Exam]] = []
    for practice in plans:
        who = f"{practice.name}（{practice.student_id}）"
        if not practice.items:
            sections = ", ".join(s[0] for s in practice.sections)
            notes.append(
                _("{who}: the sections {sections} have no unseen items; no paper").format(who=who, sections=sections)
            )
            continue
        if practice.short_by:
            notes.append(
                _("{who}: {have} items, not {count} (their two weakest sections have no more)").format(
                    who=who, have=len(practice.items), count=count
                )
            )
        papers.append((practice, practice_exam(practice, by_id, points, marked.manifest.exam_id, options)))
    files: dict[str, bytes] = {}
    titles = []
    # Each student's paper and key are laid out on the render workers (WeasyPrint and the fonts loaded once each).
    with start_engine() as engine:
        jobs = [engine.submit(_documents, p, e, options, title, marked.lang) for p, e in papers]
        for (practice, _exam), job in zip(papers, jobs, strict=True):
            paper, key = job.result()
            who = f"{practice.name}（{practice.student_id}）"
            name = Path(student_file(Student(practice.name, practice.student_id, practice.class_name, ""))).name
            files[name] = merge_for_duplex([paper, key], [who, label("key_title")])
            titles.append(who)
    if not files:
        raise UsageError(
            _("{scores}: no student has items left to practise in their weakest sections").format(scores=scores)
        )
    folder = out if out is not None else manifest_path.parent / "practice"
    merged = merge_for_duplex(list(files.values()), titles)
    with staged_folder(folder) as staging:
        for name, data in files.items():
            write_atomic(staging / name, data)
        write_atomic(staging / "practice-all.pdf", merged)
    return folder, notes
