"""The exam job: ExamOptions (or a manifest) into papers, keys and a manifest under build/exams/<exam-id>/.

plan (every check, nothing rendered) → render (worker processes, started only after the plan) → write.
The files a job writes are the entries of `OUTPUTS`: a new output format is one entry there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperkit.content.validate import check_printed
from paperkit.errors import ContentError, UsageError
from paperkit.exam import paper as ex
from paperkit.exam import select as sel
from paperkit.exam.manifest import Manifest, ManifestError, manifest_json, read_manifest
from paperkit.exam.options import ExamFlags, ExamOptions, check_against_bank, refuse_selection, reprint_options
from paperkit.exam.paper import LETTERS
from paperkit.exam.roster import Student, assign_variants, read_roster
from paperkit.labels import label
from paperkit.output import check_output, staged_folder, write_atomic
from paperkit.paths import DEFAULT_BUILD
from paperkit.questions import bank as qb
from paperkit.questions.registry import KINDS
from paperkit.render.page import PageGeometry, geometry_for
from paperkit.render.workers import WORKERS, start_engine
from paperkit.source import open_handbook
from paperkit.text.fonts import covered_characters

DEFAULT_OUT = DEFAULT_BUILD / "exams"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExamPlan:
    """A checked exam build: every variant's Exam, the students, and where the files go (nothing written yet)."""

    manifest: Manifest
    exams: dict[str, ex.Exam]
    lang: str
    students: tuple[Student, ...]
    out_dir: Path
    warnings: tuple[str, ...] = field(default=())
    student_exams: dict[str, ex.Exam] = field(default_factory=dict)  # --shuffle-options student: by student id
    inputs: tuple[Path, ...] = ()  # what the build reads (source folder, roster, manifest): never an output
    allow_overflow: bool = False  # --allow-overflow: text past the page edge is a warning, not an error

    @property
    def options(self) -> ExamOptions:
        """The options the exam is printed with."""
        return self.manifest.options

    @property
    def files(self) -> list[str]:
        """The file names this build writes, in writing order."""
        return output_files(self)


def plan_exam(options: ExamOptions, source: Path, out: Path = DEFAULT_OUT) -> ExamPlan:
    """Check the options against the content and select the questions; raises before anything is rendered."""
    students = read_roster(options.roster) if options.roster is not None else ()
    excluded = _excluded(options.exclude)
    handbook = open_handbook(source)
    _check_printed(options, students)
    bank = qb.question_bank(handbook, exercises=bool(options.parts))
    usable = {m: tuple(q for q in pool if q.id not in excluded) for m, pool in bank.items()}
    kind_pools = {kind: {m: sum(q.kind == kind for q in pool) for m, pool in usable.items()} for kind in KINDS}
    check_against_bank(options, {m: len(pool) for m, pool in usable.items()}, kind_pools)
    letters = ex.variant_letters(options.variants)
    exam_id = make_exam_id(options, sorted(excluded))
    exams = {v: _select(options, usable, exam_id, v) for v in letters}
    students = assign_variants(students, letters)
    _check_file_names(options, students)
    roster = options.roster.name if options.roster else ""
    personal = (
        {s.student_id: ex.personal(exams[s.variant], s.student_id) for s in students}
        if options.shuffle == "student"
        else {}
    )
    manifest = Manifest(
        exam_id=exam_id,
        options=options,
        title=ex.exam_title(options, handbook.title),
        bank_hash=qb.bank_hash(bank, options.modules),
        papers=_papers(exams),
        students=_student_records(students, personal),
        roster=roster,
    )
    folder = out / _folder(exam_id, roster)
    inputs = (source, *([options.roster] if options.roster else []), *options.exclude)
    return ExamPlan(manifest, exams, handbook.language, students, folder, student_exams=personal, inputs=inputs)


def make_exam_id(options: ExamOptions, excluded: Sequence[str] = ()) -> str:
    """The folder name of an exam: its selection, plus short hashes of its parts (`_p…`) and of the items a
    make-up leaves out (`_x…`, from the item ids, not the manifests' paths), so no two builds share a folder."""
    name = ex.make_exam_id(options.modules, options.seed, options.count, options.variants)
    if options.parts:
        spec = ",".join(p.text for p in options.parts) + (":same" if options.same_questions else "")
        spec += ":per-student" if options.shuffle == "student" else ""
        name += f"_p{_short_hash(spec)}"
    if excluded:
        name += f"_x{_short_hash(','.join(sorted(excluded)))}"
    printed = _printed_choices(options)
    if printed:
        name += f"_h{_short_hash(printed)}"
    return name


def _printed_choices(options: ExamOptions) -> str:
    """The header options that differ from their defaults, as stable text ('' when all are defaults): a build
    with another title, date, paper or seal line goes to a folder of its own, never over a paper of another."""
    defaults = ExamOptions(modules=options.modules)
    names = ("title", "course", "date_text", "duration", "total_points", "seal_line", "seal_pages", "seal_fields")
    chosen = {name: getattr(options, name) for name in names if getattr(options, name) != getattr(defaults, name)}
    if options.page.paper != defaults.page.paper:
        chosen["paper"] = options.page.paper
    return json.dumps(chosen, ensure_ascii=False, sort_keys=True) if chosen else ""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _excluded(manifests: Sequence[Path]) -> set[str]:
    """Every item id printed on the papers of the given manifests (make-ups must not reuse them)."""
    return {
        qid
        for path in manifests
        for paper in read_manifest(path, "--exclude").papers.values()
        for qid in paper["questions"]
    }


def _select(options: ExamOptions, bank: dict[int, tuple[qb.Question, ...]], exam_id: str, variant: str) -> ex.Exam:
    """One variant's exam: today's short-answer paper, or a blueprint's typed parts with shuffled options."""
    if not options.parts:
        pools = {m: [q.id for q in bank[m]] for m in options.modules}
        ids = sel.select_questions(pools, options.count, options.seed, variant)
        return ex.make_exam(
            bank,
            options.modules,
            ids,
            exam_id=exam_id,
            variant=variant,
            seed=options.seed,
            total_points=options.total_points,
        )
    kinds = {p.kind for p in options.parts}
    by_kind = {k: {m: sel.units([q for q in bank[m] if q.kind == k]) for m in options.modules} for k in kinds}
    by_id = {q.id: q for pool in bank.values() for q in pool}
    if options.same_questions:
        ids = sel.reorder(sel.select_parts(by_kind, options.parts, options.seed, "A"), by_id, options.seed, variant)
    else:
        ids = sel.select_parts(by_kind, options.parts, options.seed, variant)
    orders = {
        qid: sel.shuffle_options(by_id[qid].item, options.seed, variant) for qid in ids if by_id[qid].item.options
    }
    return ex.make_typed_exam(
        bank, options.modules, options.parts, ids, orders, exam_id=exam_id, variant=variant, seed=options.seed
    )


def plan_from_manifest(path: Path, source: Path, out: Path = DEFAULT_OUT, flags: ExamFlags | None = None) -> ExamPlan:
    """Rebuild the exam a manifest records (its questions and points, not a new selection).

    Header flags (title, course, date, duration, paper, seal line) are applied; a reprint that changes any of
    them is recorded as such in its manifest and goes to a folder of its own, so the original stays as it was.
    """
    flags = flags or ExamFlags()
    refuse_selection(flags)
    recorded = read_manifest(path)
    options, changed = reprint_options(recorded.options, flags)
    handbook = open_handbook(source)
    bank = qb.question_bank(handbook, exercises=bool(options.parts))
    wanted = [qid for paper in recorded.papers.values() for qid in paper["questions"]]
    gone = ex.missing_questions(bank, wanted)
    if gone:
        raise ManifestError(
            f"{path}: the question bank under {handbook.source} no longer has {', '.join(dict.fromkeys(gone))}; "
            "cannot rebuild this exam"
        )
    warnings: list[str] = []
    current = qb.bank_hash(bank, options.modules)
    if current != recorded.bank_hash:
        warnings.append(
            f"the question bank of modules {','.join(map(str, options.modules))} has changed since {path} was written "
            f"(hash {recorded.bank_hash[:12]} → {current[:12]}); edited questions will print as they are now"
        )
    exams = {v: _recorded_exam(bank, options, recorded.exam_id, v, p) for v, p in recorded.papers.items()}
    students = tuple(
        Student(s["name"], s["student_id"], s.get("class", ""), s["variant"], tuple(s.get("extra", {}).items()))
        for s in recorded.students
    )
    manifest = Manifest(
        exam_id=recorded.exam_id,
        options=options,
        title=recorded.title if options.title is None else options.title,
        bank_hash=current,
        papers=recorded.papers,
        students=recorded.students,
        roster=recorded.roster,
        reprint=_reprint_record(recorded, options, changed),
    )
    folder = _folder(recorded.exam_id, recorded.roster)
    if manifest.reprint:
        folder += "_r" + hashlib.sha256(manifest_json(manifest).encode()).hexdigest()[:6]
    personal = {
        s.student_id: ex.personal(exams[s.variant], s.student_id, _orders(record.get("options", {})))
        for s, record in zip(students, recorded.students, strict=True)
        if options.shuffle == "student"
    }
    return ExamPlan(
        manifest, exams, handbook.language, students, out / folder, tuple(warnings), personal, (source, path)
    )


def _check_file_names(options: ExamOptions, students: Sequence[Student]) -> None:
    """Two students whose 学号 and name differ only in characters a file name cannot hold would share a file."""
    seen: dict[str, Student] = {}
    for student in students:
        name = student_file(student)
        if name in seen:
            other = seen[name]
            raise UsageError(
                f"{options.roster}:{student.row}: {student.student_id} {student.name} and row {other.row} "
                f"({other.student_id} {other.name}) would both be written to {name}; make their 学号 differ"
            )
        seen[name] = student


def _check_printed(options: ExamOptions, students: Sequence[Student]) -> None:
    """Every character the papers print as given (names, classes, --title, --course) must be in the fonts."""
    roster = str(options.roster)
    texts = [("--title", 0, "", options.title or ""), ("--course", 0, "", options.course)]
    for s in students:
        texts += [(roster, s.row, f"姓名 {s.name}", s.name), (roster, s.row, f"班级 of {s.name}", s.class_name)]
        texts.append((roster, s.row, f"学号 of {s.name}", s.student_id))
    problems = check_printed(texts, covered_characters())
    if problems:
        raise ContentError(problems, roster if students else "the exam options")


def _recorded_exam(
    bank: dict[int, tuple[qb.Question, ...]], options: ExamOptions, exam_id: str, variant: str, paper: dict
) -> ex.Exam:
    """A variant as its manifest records it: the same items, points and option orders (no selection)."""
    if not options.parts:
        return ex.make_exam(
            bank,
            options.modules,
            paper["questions"],
            exam_id=exam_id,
            variant=variant,
            seed=options.seed,
            total_points=options.total_points,
        )
    orders = _orders(paper.get("options", {}))
    return ex.make_typed_exam(
        bank,
        options.modules,
        options.parts,
        paper["questions"],
        orders,
        exam_id=exam_id,
        variant=variant,
        seed=options.seed,
    )


def _orders(recorded: dict[str, str]) -> dict[str, tuple[int, ...]]:
    """Option orders as a manifest records them ({"2.1.c1": "CADB"}) back into original indices."""
    return {qid: tuple(LETTERS.index(ch) for ch in order) for qid, order in recorded.items()}


def _letters(exam: ex.Exam) -> dict[str, str]:
    return {q.question.id: "".join(LETTERS[i] for i in q.order) for q in exam.questions if q.order}


def _reprint_record(recorded: Manifest, options: ExamOptions, changed: Sequence[str]) -> dict[str, object]:
    """What a reprint changed against the recorded exam ({} when nothing did: then it is the same exam)."""
    if not changed:
        return dict(recorded.reprint)
    return {"of": recorded.exam_id, "changed": list(changed)}


def _papers(exams: dict[str, ex.Exam]) -> dict[str, dict[str, Any]]:
    papers: dict[str, dict[str, Any]] = {}
    for v, e in exams.items():
        papers[v] = {"questions": [q.question.id for q in e.questions], "points": [q.points for q in e.questions]}
        orders = _letters(e)
        if orders:  # the printed option order of each shuffled item, as original letters (CADB: A shows C…)
            papers[v]["options"] = orders
    return papers


def _student_records(students: Sequence[Student], personal: dict[str, ex.Exam]) -> tuple[dict[str, Any], ...]:
    records: list[dict[str, Any]] = []
    for s in students:
        record: dict[str, Any] = {
            "name": s.name,
            "student_id": s.student_id,
            "class": s.class_name,
            "variant": s.variant,
        }
        if s.student_id in personal:
            record["options"] = _letters(personal[s.student_id])
        if s.extra:  # only rosters with more columns carry this, so other manifests stay byte for byte the same
            record["extra"] = dict(s.extra)
        records.append(record)
    return tuple(records)


def _folder(exam_id: str, roster: str) -> str:
    return exam_id if not roster else f"{exam_id}_{_slug(Path(roster).stem)}"


def student_file(student: Student) -> str:
    """Where a student's own paper goes: `students/<学号>-<姓名>.pdf`."""
    return f"students/{_slug(student.student_id)}-{_slug(student.name)}.pdf"


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or "roster"


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One PDF to render: a variant's key, or a variant's paper (for one student, if given)."""

    document: str  # "paper", "key", or "students" (the per-student answer table)
    variant: str
    student: Student | None = None


def _stylesheets(plan: ExamPlan, job: Job) -> list[str]:
    kinds = ["kinds.css.j2"] if plan.options.parts or plan.options.variants > 1 else []
    if job.document == "padding":
        return ["padding.css.j2"]
    seal = ["exam-seal.css.j2"] if plan.options.seal_line and job.document == "paper" else []
    return ["exam.css.j2", *kinds, *seal]


def job_context(plan: ExamPlan, job: Job) -> tuple[str, dict[str, object]]:
    """The template and context of one job's document."""
    exam, title = plan.exams[job.variant], plan.manifest.title
    if job.document == "key":
        return "key.html.j2", ex.key_context(exam, plan.options, title, plan.lang)
    if job.document == "padding":
        return "padding.html.j2", {"lang": plan.lang, "title": title}
    if job.document == "students":
        rows = [(s.student_id, s.name, plan.student_exams[s.student_id]) for s in plan.students]
        return "key-students.html.j2", ex.student_key_context(
            rows, plan.options, title, plan.lang, plan.manifest.exam_id
        )
    if job.student and job.student.student_id in plan.student_exams:
        exam = plan.student_exams[job.student.student_id]
    who = (job.student.name, job.student.student_id, job.student.class_name) if job.student else None
    return "exam.html.j2", ex.paper_context(exam, plan.options, title, plan.lang, who)


def document_of(plan: ExamPlan, job: Job) -> tuple[str, list[str], dict[str, object], PageGeometry]:
    """A job's template, stylesheets, context and page (each page of a two-up sheet is laid out on its own)."""
    template, context = job_context(plan, job)
    page = plan.options.page
    if job.document == "key" and page.sheet is not None:
        page = geometry_for("A4")  # the teacher's key stays one column on A4
    return template, _stylesheets(plan, job), context, page


def render_job(plan: ExamPlan, job: Job) -> tuple[bytes, str]:
    """One job's PDF bytes and its overflow warning ('' if none; see ExamPlan.allow_overflow). The HTML is made
    where it is rendered: its formulas are allowed in this process."""
    from paperkit.render.document import lay_out_document

    template, css, context, page = document_of(plan, job)
    laid = lay_out_document(template, css, context, page, allow_overflow=plan.allow_overflow)
    pdf = laid.pdf()
    if job.document in ("paper", "padding") and page.sheet is not None:
        from paperkit.render.pdf import impose_two_up

        pdf = impose_two_up(pdf, page.sheet)
    return pdf, laid.overflow


def _for_job(plan: ExamPlan, job: Job) -> ExamPlan:
    """The plan as one job needs it: a student's paper carries no other student (sent to a worker per job,
    the whole class would make the bytes through the pipes grow with the square of the class size)."""
    if job.document == "students" or not plan.students:
        return plan
    personal = job.student.student_id if job.student is not None else None
    return dataclasses.replace(
        plan,
        manifest=dataclasses.replace(plan.manifest, students=()),
        students=(),
        student_exams={k: v for k, v in plan.student_exams.items() if k == personal},
    )


def render_each(
    plan: ExamPlan, jobs: Sequence[Job], progress: Progress | None = None, engine: Executor | None = None
) -> Iterator[tuple[int, bytes, str]]:
    """Render the jobs, yielding (index, PDF bytes, overflow warning) as each is done; on the engine's
    processes if given (in the order they finish), else here, in order."""
    if engine is None:
        for index, job in enumerate(jobs):
            pdf, warning = render_job(plan, job)
            yield index, pdf, warning
            if progress:
                progress(index + 1, len(jobs))
        return
    futures = {engine.submit(render_job, _for_job(plan, job), job): index for index, job in enumerate(jobs)}
    for count, future in enumerate(as_completed(futures), start=1):
        pdf, warning = future.result()
        yield futures.pop(future), pdf, warning  # popped: the future and its bytes are let go once written
        if progress:
            progress(count, len(jobs))


@dataclass(frozen=True)
class Rendered:
    """Every rendered PDF of a plan: keys by variant in memory, papers as files in the folder being built."""

    keys: dict[str, bytes]
    papers: list[Path]  # in paper order (per student with a roster)
    tables: list[bytes] = field(default_factory=list)  # the per-student answer table (--shuffle-options student)
    padding: bytes | None = None  # with a roster: the 「本页无试题」 page that pads a paper to whole sheets
    overflows: tuple[str, ...] = ()  # with --allow-overflow: 'paper-A.pdf: text runs past …', one per document


def paper_files(plan: ExamPlan) -> list[str]:
    """Where each paper goes in the exam folder, in paper order: students/… per student with a roster, else
    paper.pdf (one variant) or paper-A.pdf, paper-B.pdf, …"""
    if plan.students:
        return [student_file(s) for s in plan.students]
    return ["paper.pdf"] if len(plan.exams) == 1 else [f"paper-{v}.pdf" for v in plan.exams]


def _key_files(plan: ExamPlan) -> list[str]:
    return ["key.pdf"] if len(plan.exams) == 1 else [f"key-{v}.pdf" for v in plan.exams]


def render_plan(
    plan: ExamPlan,
    folder: Path,
    progress: Progress | None = None,
    engine: Executor | None = None,
    parallel: bool = False,
) -> Rendered:
    """Render every key and paper of the plan, each paper written into `folder` as soon as it is done (so a
    class of 1000 is never held in memory): on `engine`; on workers of its own when there are more than two
    documents (or with `parallel`, which the CLI sets: a process that forks should hold no threads); else here."""
    letters = list(plan.exams)
    papers = [Job("paper", s.variant, s) for s in plan.students] or [Job("paper", v) for v in letters]
    # Keys first: the workers start on the few long documents while the many short ones follow.
    tables = [Job("students", letters[0])] if plan.student_exams else []
    padding = [Job("padding", letters[0])] if plan.students else []
    jobs = [Job("key", v) for v in letters] + tables + padding + papers
    first = len(jobs) - len(papers)
    names = [folder / name for name in paper_files(plan)]
    held: dict[int, bytes] = {}
    overflows: dict[int, str] = {}

    def collect(results: Iterator[tuple[int, bytes, str]]) -> None:
        for index, pdf, warning in results:
            if index >= first:
                names[index - first].parent.mkdir(parents=True, exist_ok=True)
                write_atomic(names[index - first], pdf)
            else:
                held[index] = pdf
            if warning:
                overflows[index] = f"{_job_name(plan, jobs[index])}: {warning}"

    if engine is None and (len(jobs) > 2 or (parallel and len(jobs) > 1)):
        with start_engine(min(WORKERS, len(jobs))) as own:
            collect(render_each(plan, jobs, progress, own))
    else:
        collect(render_each(plan, jobs, progress, engine))
    return Rendered(
        {letter: held[index] for index, letter in enumerate(letters)},
        names,
        [held[len(letters) + index] for index in range(len(tables))],
        held[first - 1] if padding else None,
        tuple(overflows[index] for index in sorted(overflows)),
    )


def _job_name(plan: ExamPlan, job: Job) -> str:
    """The document a job renders, as a warning names it."""
    if job.student is not None:
        return student_file(job.student)
    if job.document in ("paper", "key"):
        return f"{job.document}.pdf" if len(plan.exams) == 1 else f"{job.document}-{job.variant}.pdf"
    return job.document


# -- outputs: the files an exam job writes ---------------------------------------------------------


def _paper_titles(plan: ExamPlan) -> list[str]:
    """The print file's bookmark per student: 学号 姓名 (A 卷)."""
    return [label("bookmark_student", id=s.student_id, name=s.name, variant=s.variant) for s in plan.students]


def _key_titles(plan: ExamPlan) -> list[str]:
    tables = [label("student_key_title")] if plan.student_exams else []
    return [label("bookmark_key", variant=v) for v in plan.exams] + tables


def output_files(plan: ExamPlan) -> list[str]:
    """The file names a plan's build writes: with a roster each student's paper, one print file of all papers
    and one of all keys; else paper.pdf and key.pdf, or paper-A.pdf, key-A.pdf, paper-B.pdf, …; a manifest."""
    papers = paper_files(plan)
    if plan.students:
        return [*papers, "papers-all.pdf", "keys.pdf", "manifest.json"]
    return [name for pair in zip(papers, _key_files(plan), strict=True) for name in pair] + ["manifest.json"]


def _other_outputs(plan: ExamPlan, rendered: Rendered) -> Iterator[tuple[str, bytes]]:
    """Every output but the papers (already written), with its bytes."""
    from paperkit.render.pdf import merge_for_duplex

    if plan.students:
        # Read back one paper at a time: the print file of a class of 1000 never holds 1000 PDFs in memory.
        papers = (path.read_bytes() for path in rendered.papers)
        yield "papers-all.pdf", merge_for_duplex(papers, _paper_titles(plan), rendered.padding)
        yield "keys.pdf", merge_for_duplex([*rendered.keys.values(), *rendered.tables], _key_titles(plan))
    else:
        yield from zip(_key_files(plan), rendered.keys.values(), strict=True)
    yield "manifest.json", manifest_json(plan.manifest).encode()


def build_exam(
    plan: ExamPlan,
    progress: Progress | None = None,
    engine: Executor | None = None,
    parallel: bool = False,
    on_overflow: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render every PDF of the plan into a new folder beside the target, then put it in place (the old folder,
    if any, is intact until then); returns the paths written. With plan.allow_overflow, each document's
    overflow is passed to `on_overflow`."""
    check_output(plan.out_dir, directory=True, inputs=plan.inputs)
    for name in plan.files:
        check_output(plan.out_dir / name, inputs=plan.inputs)
    with staged_folder(plan.out_dir) as staging:
        rendered = render_plan(plan, staging, progress, engine, parallel)
        for warning in rendered.overflows:
            if on_overflow is not None:
                on_overflow(warning)
        for name, data in _other_outputs(plan, rendered):
            write_atomic(staging / name, data)
    return [plan.out_dir / name for name in plan.files]
