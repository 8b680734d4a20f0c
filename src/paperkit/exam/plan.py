"""An exam's plan: options (or a manifest) checked against the content, the questions selected, every name
decided: everything a build needs, before anything is rendered or written. (About 430 lines: a plan from options
and a plan from a manifest share every step and are kept side by side.)"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from paperkit.exam.sheet import exam_layout, sheet_id
from paperkit.i18n import _
from paperkit.paths import DEFAULT_BUILD
from paperkit.questions import bank as qb
from paperkit.questions.overlap import clash
from paperkit.questions.registry import KINDS, WORKED, kind_of, part_kinds
from paperkit.source import open_handbook
from paperkit.text.fonts import covered_characters

DEFAULT_OUT = DEFAULT_BUILD / "exams"


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


USUAL_TOTALS = (100, 120, 150)  # the 满分 Chinese papers are set to


def plan_exam(options: ExamOptions, source: Path, out: Path = DEFAULT_OUT) -> ExamPlan:
    """Check the options against the content and select the questions; raises before anything is rendered."""
    students = read_roster(options.roster) if options.roster is not None else ()
    excluded = _excluded(options.exclude)
    handbook = open_handbook(source)
    _check_printed(options, students)
    bank = qb.question_bank(handbook, exercises=True)
    exam_id = make_exam_id(options, sorted(excluded))  # from what was asked, whatever pool serves it
    warnings: list[str] = list(handbook.notes)
    if options.pool == "exam" and not any(q.item.use == "exam" for m in options.modules for q in bank.get(m, ())):
        # A handbook without a held-back pool still makes papers: from its own items, and the teacher is told.
        options = replace(options, pool="practice")
        warnings.append(
            _(
                "modules {modules} hold no items held back for exams (use: exam); "
                "this paper draws from the handbook's own items, which students have seen with their answers"
            ).format(modules=",".join(map(str, options.modules)))
        )
    usable = drawable(bank, options, excluded)
    # How many questions of each part's kind each module could give (a 组合题 is one, however many its parts).
    kind_pools = {
        kind: {m: len({q.asked for q in pool if q.part_kind == kind}) for m, pool in usable.items()}
        for kind in part_kinds()
    }
    check_against_bank(options, {m: len(pool) for m, pool in usable.items()}, kind_pools)
    letters = ex.variant_letters(options.variants)
    clashes = clash_of(usable)
    exams = {v: _select(options, usable, clashes, exam_id, v) for v in letters}
    _check_same_shape(exams)
    total = exams[letters[0]].total_points
    if total not in USUAL_TOTALS:
        # 96 points is a typo in --parts more often than a choice; the paper prints it plainly either way.
        warnings.append(
            _(
                "this paper's 满分 is {total} points, not the usual {usual}; "
                "check --parts (or --total-points) if that is not what you meant"
            ).format(total=total, usual=", ".join(map(str, USUAL_TOTALS)))
        )
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
        answer_sheet=answer_sheet_record(exams, students, exam_id) if options.answer_sheet else {},
    )
    folder = out / _folder(exam_id, roster)
    inputs = (source, *([options.roster] if options.roster else []), *options.exclude)
    return ExamPlan(
        manifest,
        exams,
        handbook.language,
        students,
        folder,
        warnings=tuple(warnings),
        student_exams=personal,
        inputs=inputs,
    )


def answer_sheet_record(exams: Mapping[str, ex.Exam], students: Sequence[Student], exam_id: str) -> dict[str, Any]:
    """The answer sheets of an exam as its manifest records them: each variant's layout (every box in mm) and
    each sheet's opaque id with whom it is for (a student, or a variant's blank sheet)."""
    layouts = {
        variant: exam_layout(
            [
                (q.number, q.points, kind_of(q.question.kind).sheet_field(q.question.item, q.order, q.points))
                for q in exam.questions
            ],
            blank=not students,
        ).as_data()
        for variant, exam in exams.items()
    }
    if students:
        sheets = {sheet_id(exam_id, s.student_id): {"variant": s.variant, "student_id": s.student_id} for s in students}
    else:
        sheets = {sheet_id(exam_id, variant): {"variant": variant, "student_id": ""} for variant in exams}
    return {"layouts": layouts, "sheets": sheets}


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
    """The options that differ from their defaults, as stable text ('' when all are defaults): a build with
    another title, date, paper, seal line, pool or 多选 rule goes to a folder of its own, never over another's."""
    defaults = ExamOptions(modules=options.modules)
    names = (
        "title",
        "course",
        "date_text",
        "duration",
        "total_points",
        "seal_line",
        "seal_pages",
        "seal_fields",
        "pool",
        "multi_rule",
        "blanks",
    )
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


def in_pool(question: qb.Question, pool: str) -> bool:
    """Whether a paper drawing from `pool` may ask this item (a worked example is always practice)."""
    return pool == "all" or (question.item.use == "exam") == (pool == "exam")


def drawable(
    bank: Mapping[int, Sequence[qb.Question]], options: ExamOptions, excluded: set[str]
) -> dict[int, tuple[qb.Question, ...]]:
    """The items a paper of these options may draw, per module: its pool, less what --exclude names, and only
    the worked kind (short answers) for a paper without typed parts."""
    return {
        m: tuple(
            q
            for q in pool
            if q.id not in excluded and in_pool(q, options.pool) and (options.parts or q.part_kind == WORKED.name)
        )
        for m, pool in bank.items()
    }


def clash_of(bank: Mapping[int, Sequence[qb.Question]]) -> sel.Clash:
    """Whether two items may not share a paper (overlap.clash), remembered per pair."""
    by_id = {q.id: q for pool in bank.values() for q in pool}
    seen: dict[tuple[str, str], bool] = {}

    def clashes(a: str, b: str) -> bool:
        pair = (a, b) if a < b else (b, a)
        if pair not in seen:
            seen[pair] = clash(by_id[a], by_id[b]) is not None
        return seen[pair]

    return clashes


def _balance(by_id: Mapping[str, qb.Question]) -> dict[str, sel.Balance]:
    """Per kind that spreads its items over groups (判断: as many √ as ×), the group of an item."""

    def group(qid: str) -> str:
        item = by_id[qid].item
        spread = kind_of(item.kind).spread
        return spread(item) if spread is not None else ""

    return {name: group for name, kind in KINDS.items() if kind.spread is not None}


def _select(
    options: ExamOptions, bank: dict[int, tuple[qb.Question, ...]], clash: sel.Clash, exam_id: str, variant: str
) -> ex.Exam:
    """One variant's exam: a short-answer paper, or a blueprint's typed parts with shuffled options; no two of its
    items test one knowledge point or give each other's answers away."""
    paper = sel.Paper(clash)
    if not options.parts:
        pools = {m: [q.id for q in bank[m]] for m in options.modules}
        ids = sel.select_questions(pools, options.count, options.seed, variant, paper)
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
    by_kind = {k: {m: sel.units([q for q in bank[m] if q.part_kind == k]) for m in options.modules} for k in kinds}
    by_id = {q.id: q for pool in bank.values() for q in pool}
    spread = _balance(by_id)

    def size(unit: sel.Unit) -> int:  # numbered questions: a 组合题 is one
        return len({by_id[qid].asked for qid in unit})

    if options.same_questions:
        chosen = sel.select_parts(by_kind, options.parts, options.seed, "A", paper, spread, size)
        ids = sel.reorder(chosen, by_id, options.seed, variant, [p.count for p in options.parts])
    else:
        ids = sel.select_parts(by_kind, options.parts, options.seed, variant, paper, spread, size)
    orders = sel.balanced_orders([by_id[qid].item for qid in ids], options.seed, variant)
    return ex.make_typed_exam(
        bank,
        options.modules,
        options.parts,
        ids,
        orders,
        exam_id=exam_id,
        variant=variant,
        seed=options.seed,
        rules=options.rules,
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
    bank = qb.question_bank(handbook, exercises=True)
    wanted = [qid for paper in recorded.papers.values() for qid in paper["questions"]]
    gone = ex.missing_questions(bank, wanted)
    if gone:
        raise ManifestError(
            _("{path}: the question bank under {source} no longer has {ids}; cannot rebuild this exam").format(
                path=path, source=handbook.source, ids=", ".join(dict.fromkeys(gone))
            )
        )
    warnings: list[str] = []
    current = qb.bank_hash(bank, options.modules)
    if current != recorded.bank_hash:
        warnings.append(
            _(
                "the question bank of modules {modules} has changed since {path} was written "
                "(hash {old} → {new}); edited questions will print as they are now"
            ).format(
                modules=",".join(map(str, options.modules)), path=path, old=recorded.bank_hash[:12], new=current[:12]
            )
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
        answer_sheet=recorded.answer_sheet,
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


def _check_same_shape(exams: Mapping[str, ex.Exam]) -> None:
    """Variants whose 组合题 differ in their number of sub-questions cannot share a score sheet's columns."""
    shapes = {v: [q.label for q in e.questions if q.sub] for v, e in exams.items()}
    first = next(iter(shapes))
    for variant, names in shapes.items():
        if names != shapes[first]:
            raise UsageError(
                _(
                    "--variants {count}: the 组合题 of variant {first} have sub-questions {ours}, those of {other} "
                    "{theirs}; one score sheet cannot hold both: add --same-questions (the same items in each "
                    "variant), or make one variant"
                ).format(
                    count=len(exams),
                    first=first,
                    other=variant,
                    ours=" ".join(shapes[first]),
                    theirs=" ".join(names),
                )
            )


def _check_file_names(options: ExamOptions, students: Sequence[Student]) -> None:
    """Two students whose 学号 and name differ only in characters a file name cannot hold would share a file."""
    seen: dict[str, Student] = {}
    for student in students:
        name = student_file(student)
        if name in seen:
            other = seen[name]
            raise UsageError(
                _(
                    "{roster}:{row}: {id} {name} and row {other_row} ({other_id} {other_name}) "
                    "would both be written to {file}; make their 学号 differ"
                ).format(
                    roster=options.roster,
                    row=student.row,
                    id=student.student_id,
                    name=student.name,
                    other_row=other.row,
                    other_id=other.student_id,
                    other_name=other.name,
                    file=name,
                )
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
        raise ContentError(problems, roster if students else _("the exam options"))


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
        rules=options.rules,
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
        if any(q.sub for q in e.questions):  # only papers with 组合题 carry it: others stay byte for byte the same
            papers[v]["sub"] = [q.sub for q in e.questions]
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
