"""The exam job: options (or a manifest) into papers, keys and a manifest under build/exams/<exam-id>/."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from . import exam as ex
from .build import check_output, write_atomic
from .errors import UsageError
from .manifest import Manifest, ManifestError, manifest_json, read_manifest
from .page import geometry_for
from .paths import DEFAULT_BUILD, DEFAULT_SOURCE
from .roster import Student, assign_variants, read_roster
from .validate import open_handbook

log = logging.getLogger(__name__)

DEFAULT_OUT = DEFAULT_BUILD / "exams"
WORKERS = 2
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExamPlan:
    """A checked exam build: every variant's Exam, the students, and where the files go (nothing written yet)."""

    manifest: Manifest
    exams: dict[str, ex.Exam]
    settings: ex.PaperSettings
    students: tuple[Student, ...]
    out_dir: Path
    warnings: tuple[str, ...] = field(default=())

    @property
    def files(self) -> list[str]:
        """The file names this build writes, in writing order."""
        if self.students:
            return [student_file(s) for s in self.students] + ["papers-all.pdf", "keys.pdf", "manifest.json"]
        if len(self.exams) == 1:
            return ["paper.pdf", "key.pdf", "manifest.json"]
        return [f"{kind}-{v}.pdf" for v in self.exams for kind in ("paper", "key")] + ["manifest.json"]


def plan_exam(
    *,
    modules: str | None,
    seed: str,
    count: str = str(ex.DEFAULT_COUNT),
    total_points: str = str(ex.DEFAULT_TOTAL_POINTS),
    variants: str = "1",
    title: str | None = None,
    course: str = "",
    date: str = "",
    duration: str = "120",
    paper: str = "A4",
    seal_line: bool = False,
    roster: Path | None = None,
    source: Path = DEFAULT_SOURCE,
    out: Path = DEFAULT_OUT,
) -> ExamPlan:
    """Check every option (options first, then content), select the questions; raises before any write."""
    if modules is None:
        raise UsageError("--modules is required, e.g. --modules 2,3,8 (see `paperkit list` for the modules)")
    seed_value = ex.parse_whole("--seed", seed, 0)
    variant_count = ex.parse_whole("--variants", variants, 1, ex.MAX_VARIANTS, " (one paper per letter A–Z)")
    points_value = ex.parse_whole("--total-points", total_points, 1)
    duration_value = ex.parse_whole("--duration", duration, 1, 1440, " minutes")
    geometry_for(paper)
    if date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date {date}: expected a date like 2026-06-20")
    students = read_roster(roster) if roster is not None else ()
    handbook = open_handbook(source)
    bank = ex.question_bank(handbook)
    module_ids = ex.parse_modules(modules, bank)
    count_value = ex.parse_count(count, module_ids, bank)
    if points_value < count_value:
        raise UsageError(
            f"--total-points {total_points}: less than one point per question; give at least {count_value} for {count_value} questions"
        )
    letters = ex.variant_letters(variant_count)
    exam_id = ex.make_exam_id(module_ids, seed_value, count_value, variant_count)
    pools = {m: [q.id for q in bank[m]] for m in module_ids}
    exams = {
        v: ex.make_exam(
            bank,
            module_ids,
            ex.select_questions(pools, count_value, seed_value, v),
            exam_id=exam_id,
            variant=v,
            seed=seed_value,
            total_points=points_value,
        )
        for v in letters
    }
    settings = ex.PaperSettings(
        title or f"{handbook.title} 测试卷", course, date, duration_value, seal_line, handbook.language
    )
    students = assign_variants(students, letters)
    folder = exam_id if roster is None else f"{exam_id}_{_slug(roster.stem)}"
    manifest = _manifest(
        exam_id, exams, settings, paper, bank, module_ids, count_value, students, roster.name if roster else ""
    )
    return ExamPlan(manifest, exams, settings, students, out / folder)


def plan_from_manifest(
    path: Path, source: Path = DEFAULT_SOURCE, out: Path = DEFAULT_OUT, selection_options: Sequence[str] = ()
) -> ExamPlan:
    """Rebuild the plan a manifest records (the same questions and points, not a new selection).

    `selection_options` are the selection flags the user also gave: a manifest fixes those, so any is an error.
    """
    if selection_options:
        raise UsageError(f"--from-manifest rebuilds the recorded exam; leave out {', '.join(selection_options)}")
    recorded = read_manifest(path)
    geometry_for(recorded.paper)
    handbook = open_handbook(source)
    bank = ex.question_bank(handbook)
    wanted = [qid for paper in recorded.papers.values() for qid in paper["questions"]]
    gone = ex.missing_questions(bank, wanted)
    if gone:
        raise ManifestError(
            f"{path}: the question bank under {handbook.source} no longer has {', '.join(dict.fromkeys(gone))}; cannot rebuild this exam"
        )
    warnings: list[str] = []
    current = ex.bank_hash(bank, recorded.modules)
    if current != recorded.bank_hash:
        warnings.append(
            f"the question bank of modules {','.join(map(str, recorded.modules))} has changed since {path} was written "
            f"(hash {recorded.bank_hash[:12]} → {current[:12]}); edited questions will print as they are now"
        )
    exams = {
        v: ex.make_exam(
            bank,
            recorded.modules,
            p["questions"],
            exam_id=recorded.exam_id,
            variant=v,
            seed=recorded.seed,
            total_points=recorded.total_points,
        )
        for v, p in recorded.papers.items()
    }
    settings = ex.PaperSettings(
        recorded.title, recorded.course, recorded.date, recorded.duration, recorded.seal_line, handbook.language
    )
    students = tuple(Student(s["name"], s["student_id"], s.get("class", ""), s["variant"]) for s in recorded.students)
    folder = recorded.exam_id if not recorded.roster else f"{recorded.exam_id}_{_slug(Path(recorded.roster).stem)}"
    return ExamPlan(recorded, exams, settings, students, out / folder, tuple(warnings))


def _manifest(exam_id, exams, settings, paper, bank, modules, count, students, roster) -> Manifest:
    return Manifest(
        exam_id=exam_id,
        seed=next(iter(exams.values())).seed,
        modules=tuple(modules),
        count=count,
        total_points=next(iter(exams.values())).total_points,
        paper=geometry_for(paper).paper,
        title=settings.title,
        course=settings.course,
        date=settings.date,
        duration=settings.duration,
        seal_line=settings.seal_line,
        bank_hash=ex.bank_hash(bank, modules),
        papers={
            v: {"questions": [q.question.id for q in e.questions], "points": [q.points for q in e.questions]}
            for v, e in exams.items()
        },
        students=tuple(
            {"name": s.name, "student_id": s.student_id, "class": s.class_name, "variant": s.variant} for s in students
        ),
        roster=roster,
    )


def student_file(student: Student) -> str:
    """Where a student's own paper goes: `students/<学号>-<姓名>.pdf`."""
    return f"students/{_slug(student.student_id)}-{_slug(student.name)}.pdf"


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or "roster"


# -- rendering ---------------------------------------------------------------------------------


def _stylesheets(plan: ExamPlan) -> list[str]:
    from .render import render_stylesheets

    names = ["exam.css.j2"] + (["exam-seal.css.j2"] if plan.settings.seal_line else [])
    return render_stylesheets(names, geometry_for(plan.manifest.paper))


def paper_html(plan: ExamPlan, variant: str, student: Student | None = None) -> str:
    """The HTML of one variant's paper, personalised for a student if given."""
    from .render import render_template

    page = geometry_for(plan.manifest.paper)
    who = (student.name, student.student_id, student.class_name) if student else None
    return render_template(
        "exam.html.j2", ex.paper_context(plan.exams[variant], plan.settings, page.chars_per_line, who)
    )


def key_html(plan: ExamPlan, variant: str) -> str:
    """The HTML of one variant's answer key."""
    from .render import render_template

    return render_template("key.html.j2", ex.key_context(plan.exams[variant], plan.settings))


Job = tuple[str, str, "Student | None"]  # ("key" | "paper", variant, student)


def _warm_up() -> None:
    from .pdf import _font_config

    importlib.import_module("weasyprint")
    _font_config()


def _render_job(plan: ExamPlan, job: Job, stylesheets: list[str]) -> bytes:
    # The HTML is made where it is rendered: the math images it embeds are registered in this process.
    from .pdf import html_to_pdf

    kind, variant, student = job
    html = key_html(plan, variant) if kind == "key" else paper_html(plan, variant, student)
    return html_to_pdf(html, stylesheets)


@contextmanager
def start_engine(workers: int = WORKERS) -> Iterator[ProcessPoolExecutor]:
    """Fork the render workers first thing, so they load WeasyPrint and fonts while the content is checked."""
    engine = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=_warm_up)
    for _ in range(workers):
        engine.submit(int)  # workers start on the first submit; start them all now
    try:
        yield engine
    except BaseException:
        # A bad option should not wait for the warm-up: stop the workers (the executor keeps no public handle).
        for process in list(getattr(engine, "_processes", {}).values()):
            process.terminate()
        engine.shutdown(wait=False, cancel_futures=True)
        raise
    engine.shutdown()


def render_all(
    plan: ExamPlan, jobs: Sequence[Job], progress: Progress | None = None, engine: Executor | None = None
) -> list[bytes]:
    """Render the jobs' PDFs, in paper order; on the engine's processes if given, else here."""
    css = _stylesheets(plan)
    results: list[bytes | None] = [None] * len(jobs)
    if engine is None:
        for index, job in enumerate(jobs):
            results[index] = _render_job(plan, job, css)
            if progress:
                progress(index + 1, len(jobs))
        return results  # type: ignore[return-value]
    futures = {engine.submit(_render_job, plan, job, css): index for index, job in enumerate(jobs)}
    for done, future in enumerate(as_completed(futures), start=1):
        results[futures[future]] = future.result()
        if progress:
            progress(done, len(jobs))
    return results  # type: ignore[return-value]


def build_exam(plan: ExamPlan, progress: Progress | None = None, engine: Executor | None = None) -> list[Path]:
    """Render every PDF of the plan in memory (on `engine` if given), then write them all; returns the paths."""
    from .pdf import merge_for_duplex

    check_output(plan.out_dir, directory=True)
    for name in plan.files:
        check_output(plan.out_dir / name)
    letters = list(plan.exams)
    papers: list[Job] = [("paper", s.variant, s) for s in plan.students] or [("paper", v, None) for v in letters]
    # Keys first: the workers start on the few long documents while the many short ones follow.
    jobs = [("key", v, None) for v in letters] + papers
    if engine is None and len(jobs) > 2:
        with start_engine() as own:
            rendered = render_all(plan, jobs, progress, own)
    else:
        rendered = render_all(plan, jobs, progress, engine)
    keys, papers = rendered[: len(letters)], rendered[len(letters) :]
    outputs: dict[str, bytes] = {}
    if plan.students:
        outputs.update((student_file(s), pdf) for s, pdf in zip(plan.students, papers))
        outputs["papers-all.pdf"] = merge_for_duplex(papers)
        outputs["keys.pdf"] = merge_for_duplex(keys)
    elif len(letters) == 1:
        outputs["paper.pdf"] = papers[0]
        outputs["key.pdf"] = keys[0]
    else:
        for v, paper, key in zip(letters, papers, keys):
            outputs[f"paper-{v}.pdf"] = paper
            outputs[f"key-{v}.pdf"] = key
    outputs["manifest.json"] = manifest_json(plan.manifest).encode()
    new = [plan.out_dir / name for name in plan.files if not (plan.out_dir / name).exists()]
    new_dirs = [d for d in (plan.out_dir / "students", plan.out_dir) if not d.exists()]
    written = []
    try:
        for name in plan.files:
            path = plan.out_dir / name
            write_atomic(path, outputs[name])
            written.append(path)
    except BaseException:
        # Interrupted (Ctrl-C) or failed half-way: take back the files this run added, so no partial set is left.
        for path in new:
            path.unlink(missing_ok=True)
        for folder in new_dirs:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return written
