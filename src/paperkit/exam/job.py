"""The exam job: an ExamPlan into papers, keys and a manifest under build/exams/<exam-id>/.

render (worker processes, started only after the plan) → write through a staged folder swapped in at the end.
The files a job writes are `output_files`: a new output is one more name there and one more pair in
`_other_outputs`. With --docx each variant's paper and key are also Word documents, made by the `WordWriter` the
caller hands in (export/docx.py's, through the CLI: exam/ may not import export/).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperkit.content.validate import check_printed
from paperkit.errors import ContentError, OutputError
from paperkit.exam import paper as ex
from paperkit.exam.manifest import manifest_json
from paperkit.exam.plan import ExamPlan, student_file
from paperkit.exam.roster import Student
from paperkit.exam.sheet import SheetHolder, layout_from_data, sheet_context
from paperkit.i18n import _, ngettext
from paperkit.labels import LABELS, label
from paperkit.output import carry_record, changed_since_written, check_output, staged_folder, write_atomic, write_kept
from paperkit.render.page import PageGeometry, geometry_for
from paperkit.render.workers import WORKERS, start_engine
from paperkit.text.fonts import covered_characters

if TYPE_CHECKING:
    from paperkit.render.document import LaidOut

Progress = Callable[[int, int], None]
# Documents as Word files: each ("paper" or "key", its template context's doc) into .docx bytes, in order.
WordWriter = Callable[[Sequence[tuple[str, Mapping[str, Any]]]], list[bytes]]


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One PDF to render: a variant's key, or a variant's paper (for one student, if given)."""

    document: str  # "paper", "key", "sheet" (a 答题卡), "students" (the per-student answer table) or "padding"
    variant: str
    student: Student | None = None


def _stylesheets(plan: ExamPlan, job: Job) -> list[str]:
    if job.document == "padding":
        return ["padding.css.j2"]
    if job.document == "sheet":
        return ["answer-sheet.css.j2"]
    seal = ["exam-seal.css.j2"] if plan.options.seal_line and job.document == "paper" else []
    return ["exam.css.j2", "kinds.css.j2", *seal]


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
    if job.document == "sheet":
        return "answer-sheet.html.j2", {"doc": _sheet_context(plan, job)}
    if job.student and job.student.student_id in plan.student_exams:
        exam = plan.student_exams[job.student.student_id]
    who = (job.student.name, job.student.student_id, job.student.class_name) if job.student else None
    return "exam.html.j2", ex.paper_context(exam, plan.options, title, plan.lang, who)


def _sheet_context(plan: ExamPlan, job: Job) -> dict[str, Any]:
    """A student's 答题卡 (or a variant's blank one): its recorded layout and its sheet id."""
    record = plan.manifest.answer_sheet
    layout = layout_from_data(record["layouts"][job.variant])
    holder = job.student.student_id if job.student else ""
    sheet = next(
        sid for sid, who in record["sheets"].items() if who["variant"] == job.variant and who["student_id"] == holder
    )
    who = SheetHolder(sheet, job.variant)
    if job.student is not None:
        who = SheetHolder(sheet, job.variant, job.student.name, job.student.student_id, job.student.class_name)
    label = ex.doc_label(plan.exams[job.variant], holder, plan.options.date_text)
    names = {q.number: q.label for q in plan.exams[job.variant].questions}
    return sheet_context(layout, who, plan.manifest.title, label, plan.lang, dict(LABELS), names)


def document_of(plan: ExamPlan, job: Job) -> tuple[str, list[str], dict[str, object], PageGeometry]:
    """A job's template, stylesheets, context and page (each page of a two-up sheet is laid out on its own)."""
    template, context = job_context(plan, job)
    page = plan.options.page
    if job.document in ("key", "sheet") and page.sheet is not None:
        page = geometry_for("A4")  # the teacher's key stays one column on A4, and a 答题卡 is always A4
    return template, _stylesheets(plan, job), context, page


def render_job(plan: ExamPlan, job: Job) -> tuple[bytes, str]:
    """One job's PDF bytes and its overflow warning ('' if none; see ExamPlan.allow_overflow). The HTML is made
    where it is rendered: its formulas are allowed in this process."""
    from paperkit.render.document import lay_out_document

    template, css, context, page = document_of(plan, job)
    laid = lay_out_document(template, css, context, page, allow_overflow=plan.allow_overflow)
    if job.document == "paper" and job.student is None:
        laid = _to_whole_sheets(plan, job, laid, page.sheet is not None)
    pdf = laid.pdf()
    if job.document in ("paper", "padding") and page.sheet is not None:
        from paperkit.render.pdf import impose_two_up

        pdf = impose_two_up(pdf, page.sheet)
    return pdf, laid.overflow


def _to_whole_sheets(plan: ExamPlan, job: Job, laid: LaidOut, two_up: bool) -> LaidOut:
    """A paper padded with 「本页无试题」 pages to whole duplex sheets (4 columns a sheet when two-up)."""
    # A teacher prints paper.pdf 40 copies at a time, both sides: with an odd page count every second copy
    # would start on the back of the one before. The class print file pads each student's paper the same way.
    from paperkit.render.document import lay_out_document

    per_sheet = 4 if two_up else 2
    missing = -laid.pages % per_sheet
    if not missing:
        return laid
    template, css, context, page = document_of(plan, Job("padding", job.variant))
    padding = lay_out_document(template, css, context, page).document.pages
    pages = [*laid.document.pages, *(padding * missing)]
    return dataclasses.replace(laid, document=laid.document.copy(pages))


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


def sheet_files(plan: ExamPlan) -> list[str]:
    """Where each 答题卡 goes: sheets/<学号>-<姓名>.pdf per student with a roster, else sheet.pdf or sheet-A.pdf,
    sheet-B.pdf, … (a blank one per variant); none without --answer-sheet."""
    if not plan.options.answer_sheet:
        return []
    if plan.students:
        return [student_file(s).replace("students/", "sheets/", 1) for s in plan.students]
    return ["sheet.pdf"] if len(plan.exams) == 1 else [f"sheet-{v}.pdf" for v in plan.exams]


def _key_files(plan: ExamPlan) -> list[str]:
    return ["key.pdf"] if len(plan.exams) == 1 else [f"key-{v}.pdf" for v in plan.exams]


def word_files(plan: ExamPlan) -> list[str]:
    """With --docx, each variant's paper and key as Word documents, named as the variant's PDFs are (paper.docx,
    key.docx, or paper-A.docx, key-A.docx, …); with a roster too, one per variant (not per student)."""
    if not plan.options.docx:
        return []
    one = len(plan.exams) == 1
    return [f"{doc}{'' if one else f'-{v}'}.docx" for v in plan.exams for doc in ("paper", "key")]


def word_documents(plan: ExamPlan) -> list[tuple[str, dict[str, Any]]]:
    """The documents the Word files hold, in `word_files` order: each variant's paper (no student's) and key."""
    title = plan.manifest.title
    return [
        (doc, context["doc"])
        for exam in plan.exams.values()
        for doc, context in (
            ("paper", ex.paper_context(exam, plan.options, title, plan.lang)),
            ("key", ex.key_context(exam, plan.options, title, plan.lang)),
        )
    ]


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
    if plan.options.answer_sheet:
        papers += [Job("sheet", s.variant, s) for s in plan.students] or [Job("sheet", v) for v in letters]
    # Keys first: the workers start on the few long documents while the many short ones follow.
    tables = [Job("students", letters[0])] if plan.student_exams else []
    padding = [Job("padding", letters[0])] if plan.students else []
    jobs = [Job("key", v) for v in letters] + tables + padding + papers
    first = len(jobs) - len(papers)
    names = [folder / name for name in (*paper_files(plan), *sheet_files(plan))]
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


def _sheet_titles(plan: ExamPlan) -> list[str]:
    """The print file's bookmark per student's 答题卡."""
    return [label("bookmark_sheet", id=s.student_id, name=s.name) for s in plan.students]


def _key_titles(plan: ExamPlan) -> list[str]:
    tables = [label("student_key_title")] if plan.student_exams else []
    return [label("bookmark_key", variant=v) for v in plan.exams] + tables


def output_files(plan: ExamPlan) -> list[str]:
    """The file names a plan's build writes: with a roster each student's paper, one print file of all papers
    and one of all keys; else paper.pdf and key.pdf, or paper-A.pdf, key-A.pdf, paper-B.pdf, …; a manifest."""
    papers = paper_files(plan)
    sheets = sheet_files(plan)
    words = word_files(plan)
    if plan.students:
        return [*papers, *sheets, "papers-all.pdf", "keys.pdf", *words, "manifest.json"]
    pdfs = [name for pair in zip(papers, _key_files(plan), strict=True) for name in pair]
    return [*pdfs, *sheets, *words, "manifest.json"]


def _other_outputs(plan: ExamPlan, rendered: Rendered, word: WordWriter | None = None) -> Iterator[tuple[str, bytes]]:
    """Every output but the papers (already written), with its bytes."""
    from paperkit.render.pdf import merge_for_duplex

    if plan.students:
        # Read back one paper at a time: the print file of a class of 1000 never holds 1000 PDFs in memory.
        # With answer sheets, each student's 答题卡 follows their paper, on sheets of its own.
        count = len(plan.students)
        if plan.options.answer_sheet:
            pairs = zip(rendered.papers[:count], rendered.papers[count:], strict=True)
            documents: Iterator[bytes] = (path.read_bytes() for pair in pairs for path in pair)
            titles = [
                t for title, sheet in zip(_paper_titles(plan), _sheet_titles(plan), strict=True) for t in (title, sheet)
            ]
        else:
            documents = (path.read_bytes() for path in rendered.papers)
            titles = _paper_titles(plan)
        yield "papers-all.pdf", merge_for_duplex(documents, titles, rendered.padding)
        yield "keys.pdf", merge_for_duplex([*rendered.keys.values(), *rendered.tables], _key_titles(plan))
    else:
        yield from zip(_key_files(plan), rendered.keys.values(), strict=True)
    if word is not None and plan.options.docx:
        yield from zip(word_files(plan), word(word_documents(plan)), strict=True)
    yield "manifest.json", manifest_json(plan.manifest, source_from(plan.out_dir, plan.inputs[0])).encode()


def source_from(folder: Path, source: Path) -> str:
    """The handbook folder as seen from the exam folder (`../../source`), so later commands find it anywhere."""
    return Path(os.path.relpath(source.resolve(), folder.resolve())).as_posix()


def check_printed_options(plan: ExamPlan) -> None:
    """Every text a paper prints as it was given (the title, --course, --date, --seal-fields, the students' names,
    classes and numbers) must be in the shipped fonts, or it would print as a box: a ContentError lists each
    missing character, before any worker starts. Manifests are input too, so a reprint is checked the same."""
    options = plan.options
    texts = [
        ("--title", 0, "", plan.manifest.title),
        ("--course", 0, "", options.course),
        ("--date", 0, "", options.date_text),
        *(("--seal-fields", 0, "", name) for name in options.seal_fields),
    ]
    # A roster build reads its students from the roster, a reprint from its manifest (the last input).
    roster = str(options.roster or (plan.inputs[-1] if plan.inputs else _("the roster")))
    for s in plan.students:
        texts += [(roster, s.row, f"姓名 {s.name}", s.name), (roster, s.row, f"班级 of {s.name}", s.class_name)]
        texts.append((roster, s.row, f"学号 of {s.name}", s.student_id))
    problems = check_printed(texts, covered_characters())
    if problems:
        raise ContentError(problems, roster if plan.students else _("the exam options"))


def _guarded_inputs(plan: ExamPlan) -> tuple[Path, ...]:
    """The inputs no output may touch. A reprint into the folder its manifest came from may replace that
    manifest: it was read whole when the plan was made, and the staged folder replaces the old one only once
    the new one is complete (a failed build leaves it as it was)."""
    own = os.path.realpath(plan.out_dir / "manifest.json")
    return tuple(path for path in plan.inputs if os.path.realpath(path) != own)


def build_exam(
    plan: ExamPlan,
    progress: Progress | None = None,
    engine: Executor | None = None,
    parallel: bool = False,
    on_overflow: Callable[[str], None] | None = None,
    word: WordWriter | None = None,
) -> list[Path]:
    """Render every PDF of the plan into a new folder beside the target, then put it in place (the old folder,
    if any, is intact until then); returns the paths written. With plan.allow_overflow, each document's
    overflow is passed to `on_overflow`. With --docx, `word` makes the Word files (required then)."""
    if plan.options.docx and word is None:
        raise ValueError("build_exam: the plan asks for .docx files; pass word= (the CLI passes export.docx's)")
    check_printed_options(plan)
    inputs = _guarded_inputs(plan)
    check_output(plan.out_dir, directory=True, inputs=inputs)
    for name in output_files(plan):
        check_output(plan.out_dir / name, inputs=inputs)
    # The Word files are the teacher's to edit (「我再改改」): one changed since paperkit wrote it is never replaced.
    editable = {plan.out_dir / name for name in output_files(plan) if name.endswith(".docx")}
    edited = changed_since_written(dict.fromkeys(editable, b""))
    if edited:
        names = ", ".join(str(path) for path in edited)
        raise OutputError(
            ngettext(
                "{names} changed since paperkit wrote it (the teacher's edits are kept); "
                "write the exam elsewhere with --out DIR, or move the edited file away first",
                "{names} changed since paperkit wrote them (the teacher's edits are kept); "
                "write the exam elsewhere with --out DIR, or move the edited file away first",
                len(edited),
            ).format(names=names)
        )
    with staged_folder(plan.out_dir) as staging:
        rendered = render_plan(plan, staging, progress, engine, parallel)
        for warning in rendered.overflows:
            if on_overflow is not None:
                on_overflow(warning)
        kept: dict[Path, bytes] = {}
        for name, data in _other_outputs(plan, rendered, word):
            if plan.out_dir / name in editable:
                kept[staging / name] = data
            else:
                write_atomic(staging / name, data)
        if kept:  # written with their digests, beside what the folder's record already holds (a score sheet's)
            carry_record(plan.out_dir, staging)
            write_kept(kept)
    return [plan.out_dir / name for name in output_files(plan)]
