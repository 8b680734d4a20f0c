"""An exam's manifest: everything needed to rebuild its PDFs, as JSON text and back."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperkit.content.yamlfile import MAX_INTEGER, MAX_TEXT
from paperkit.errors import PaperkitError, UsageError
from paperkit.exam.options import (
    BLANK_MODES,
    HEADER_FLAGS,
    MAX_COURSE,
    MAX_DURATION,
    MAX_QUESTIONS,
    MAX_SEED,
    MAX_TOTAL_POINTS,
    MAX_VARIANTS,
    PART_ROLES,
    POOLS,
    ExamOptions,
    PartSpec,
)
from paperkit.exam.roster import MAX_ID, MAX_NAME, MAX_ROSTER_BYTES
from paperkit.exam.schema import Flag, Items, Number, Record, Table, Text, Whole, check, read_json
from paperkit.exam.sheet import PAGE_H, PAGE_W
from paperkit.flags import parse_date, quoted
from paperkit.i18n import _
from paperkit.questions.bank import question_label
from paperkit.questions.kind import LETTERS as OPTION_LETTERS
from paperkit.questions.registry import part_kinds
from paperkit.questions.rules import MULTI_RULES
from paperkit.render.page import PAPERS, TWO_UP, geometry_for

FORMAT = 1


class ManifestError(PaperkitError):
    """A manifest that cannot be rebuilt: unreadable, or naming questions the bank no longer has."""


@dataclass(frozen=True)
class Manifest:
    """The options of one exam build and the questions each variant got (the record a reprint needs)."""

    exam_id: str
    options: ExamOptions
    title: str  # as printed (the default title is resolved: a reprint must not depend on the handbook's title)
    bank_hash: str
    papers: dict[str, dict[str, Any]]  # variant -> {"questions": [ids], "points": [ints], "options": {id: order}}
    students: tuple[dict[str, Any], ...] = ()
    roster: str = ""
    reprint: dict[str, Any] = field(default_factory=dict)  # {"of": exam id, "changed": [flags]} for a changed reprint
    # --answer-sheet: {"layouts": {variant: layout}, "sheets": {sheet id: {"variant", "student_id"}}}
    answer_sheet: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the handbook folder, relative to the manifest's own folder ('' in older manifests)

    @property
    def variants(self) -> tuple[str, ...]:
        """The variant letters, in order."""
        return tuple(self.papers)


def manifest_json(manifest: Manifest, source: str = "") -> str:
    """The manifest as stable, readable JSON (no timestamps: the same exam gives the same file); `source` is the
    handbook folder relative to the manifest's, so the commands after the exam find it from any folder."""
    options = manifest.options
    data: dict[str, Any] = {
        "paperkit_manifest": FORMAT,
        "exam_id": manifest.exam_id,
        "seed": options.seed,
        "modules": list(options.modules),
        "count": options.count,
        "variants": list(manifest.variants),
        "total_points": options.total_points,
        "paper": options.page.paper,
        "title": manifest.title,
        "course": options.course,
        "date": options.date_text,
        "duration": options.duration,
        "seal_line": options.seal_line,
        "pool": options.pool,
        "bank_hash": manifest.bank_hash,
        "papers": manifest.papers,
    }
    if options.seal_line and (options.seal_pages != "all" or options.seal_fields):
        data["seal_pages"] = options.seal_pages
        data["seal_fields"] = list(options.seal_fields)
    if options.parts:  # only blueprint exams carry these, so older manifests stay byte for byte the same
        data["parts"] = [_part_record(p) for p in options.parts]
        data["same_questions"] = options.same_questions
        data["exclude"] = [str(path) for path in options.exclude]
        data["shuffle_options"] = options.shuffle
        data["multi_rule"] = options.multi_rule
    if options.answer_grid:
        data["answer_grid"] = True
    if options.blanks != "part":
        data["blanks"] = options.blanks
    if options.docx:
        data["docx"] = True
    if manifest.answer_sheet:
        data["answer_sheet"] = manifest.answer_sheet
    if source or manifest.source:
        data["source"] = source or manifest.source
    if manifest.students:
        data["roster"] = manifest.roster
        data["students"] = list(manifest.students)
    if manifest.reprint:
        data["reprint"] = manifest.reprint
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def read_manifest(path: Path, flag: str = "--from-manifest") -> Manifest:
    """Read a manifest.json written by `paperkit exam`; anything else is a UsageError naming `flag`, the file and,
    for a wrong value, its field (`papers.A.points[3]: expected a whole number from 1 to 1000, got 0`)."""
    where = f"{flag} {quoted(str(path))}"
    try:
        if not path.is_file():
            raise UsageError(
                _("{where}: no such file; give the manifest.json of an earlier exam build").format(where=where)
            )
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise UsageError(
                _("{where}: {size} MB is too large for a manifest (at most {most} MB)").format(
                    where=where, size=size // 2**20, most=MAX_MANIFEST_BYTES // 2**20
                )
            )
        data = read_json(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(
            _("{where}: not a readable JSON manifest ({error})").format(where=where, error=error)
        ) from None
    except OSError as error:
        raise UsageError(_("{where}: cannot read it ({reason})").format(where=where, reason=error.strerror)) from None
    except RecursionError:
        raise UsageError(
            _(
                "{where}: not a readable JSON manifest (lists or objects nested hundreds deep; "
                "a manifest is a few levels deep)"
            ).format(where=where)
        ) from None
    if (
        not isinstance(data, dict)
        or type(data.get("paperkit_manifest")) is not int
        or data["paperkit_manifest"] != FORMAT
    ):
        raise UsageError(
            _("{where}: not a paperkit exam manifest (format {format})").format(where=where, format=FORMAT)
        )
    try:
        _check_manifest(data)
        return _manifest(data)
    except UsageError as error:
        raise UsageError(f"{where}: {error}") from None


def _manifest(data: dict[str, Any]) -> Manifest:
    """A checked manifest's data as a Manifest (every value has its type and range: nothing here can fail)."""
    papers: dict[str, dict[str, Any]] = {
        v: {"questions": list(p["questions"]), "points": list(p["points"])}
        | ({"options": dict(p["options"])} if "options" in p else {})
        | ({"sub": list(p["sub"])} if "sub" in p else {})
        for v, p in data["papers"].items()
    }
    options = ExamOptions(
        modules=tuple(data["modules"]),
        seed=data["seed"],
        count=data["count"],
        total_points=data["total_points"],
        variants=len(papers),
        title=data["title"],
        course=data["course"],
        date=parse_date(data["date"]),
        duration=data["duration"],
        page=geometry_for(data["paper"], two_up=True),
        seal_line=data["seal_line"],
        seal_pages=data.get("seal_pages", "all"),
        seal_fields=tuple(data.get("seal_fields", [])),
        parts=tuple(
            PartSpec(p["kind"], p["count"], p["points"], p.get("role", ""), p.get("choose", 0))
            for p in data.get("parts", [])
        ),
        same_questions=data.get("same_questions", False),
        exclude=tuple(Path(x) for x in data.get("exclude", [])),
        shuffle=data.get("shuffle_options", "variant"),
        # Manifests written before pools existed drew from the handbook's own items.
        pool=data.get("pool", "practice"),
        multi_rule=data.get("multi_rule", "half"),
        answer_sheet="answer_sheet" in data,
        answer_grid=data.get("answer_grid", False),
        blanks=data.get("blanks", "part"),
        docx=data.get("docx", False),
    )
    return Manifest(
        exam_id=data["exam_id"],
        options=options,
        title=data["title"],
        bank_hash=data["bank_hash"],
        papers=papers,
        students=tuple(
            {
                k: (dict(v) if k in ("options", "extra") else v)
                for k, v in s.items()
                if k in STUDENT.required or k in STUDENT.optional
            }
            for s in data.get("students", [])
        ),
        roster=data.get("roster", ""),
        reprint=dict(data.get("reprint", {})),
        answer_sheet=_answer_sheet(data.get("answer_sheet")),
        source=data.get("source", ""),
    )


def _answer_sheet(value: dict[str, Any] | None) -> dict[str, Any]:
    """The answer sheet record (checked by the schema) with its layouts as the sheet module reads them."""
    if value is None:
        return {}
    from paperkit.exam.sheet import layout_from_data

    layouts = {variant: layout_from_data(layout).as_data() for variant, layout in value["layouts"].items()}
    sheets = {
        sheet: {"variant": holder["variant"], "student_id": holder.get("student_id", "")}
        for sheet, holder in value["sheets"].items()
    }
    return {"layouts": layouts, "sheets": sheets}


# ---- the schema: every field paperkit writes, its type, size and range --------------------------------------

MAX_MANIFEST_BYTES = 64 * 2**20  # a class of 2,000 with answer sheets for 26 variants is a few MB
MAX_PATH = 4096  # characters of a path the manifest records (the roster, the handbook, --exclude)
MAX_SHEET_PAGES = 100
_LETTER = r"[A-Z]"
VARIANT = Text(1, 1, pattern=_LETTER, what=lambda: _("a variant letter A–Z"))
QUESTION = Text(120, 1, pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*", what=lambda: _("a question id like 2.1.q1"))
ORDER = Text(
    len(OPTION_LETTERS),
    2,
    pattern=f"[{OPTION_LETTERS}]+",
    what=lambda: _("the letters A–{last} in some order").format(last=OPTION_LETTERS[-1]),
)
DATE = Text(10, pattern=r"(\d{4}-\d{2}-\d{2})?", what=lambda: _("'' or a real date like 2026-06-20"))
ORDERS = Table(QUESTION, ORDER, MAX_QUESTIONS)
POINTS = Whole(1, MAX_TOTAL_POINTS)
PAGE = Whole(1, MAX_SHEET_PAGES)
X, Y = Number(0, PAGE_W), Number(0, PAGE_H)
BOX = Record(
    {"page": PAGE, "x": X, "y": Y, "w": X, "h": Y, "field": Text(8, choices=("q", "id", "absent"))},
    {"number": Whole(0, MAX_QUESTIONS), "value": Text(16), "label": Text(16)},
)
AREA = Record({"page": PAGE, "x": X, "y": Y, "w": X, "h": Y, "number": Whole(1, MAX_QUESTIONS), "points": POINTS})
LAYOUT = Record(
    {"pages": PAGE, "boxes": Items(BOX, 50 * MAX_QUESTIONS), "areas": Items(AREA, MAX_QUESTIONS)},
    {"id_digits": Whole(0, MAX_ID), "singles": Items(Whole(1, MAX_QUESTIONS), MAX_QUESTIONS)},
)
STUDENT = Record(
    {"name": Text(MAX_NAME, 1), "student_id": Text(MAX_ID, 1), "variant": VARIANT},
    {
        "class": Text(MAX_NAME),
        "options": ORDERS,
        # The roster's other columns, as long as the roster held them.
        "extra": Table(Text(MAX_ROSTER_BYTES), Text(MAX_ROSTER_BYTES)),
    },
)
MANIFEST = Record(
    {
        "exam_id": Text(120, 1),
        "seed": Whole(0, MAX_SEED),
        "modules": Items(Whole(0, MAX_INTEGER), MAX_INTEGER + 1, 1),
        "count": Whole(1, MAX_QUESTIONS),
        "total_points": Whole(1, MAX_TOTAL_POINTS),
        "paper": Text(16, choices=(*PAPERS, *TWO_UP)),
        # The default title is the handbook's (any length it allows) and a few words.
        "title": Text(MAX_TEXT + 20),
        "course": Text(MAX_COURSE),
        "date": DATE,
        "duration": Whole(0, MAX_DURATION),
        "seal_line": Flag(),
        "bank_hash": Text(128),
        "papers": Table(
            VARIANT,
            Record(
                {"questions": Items(QUESTION, MAX_QUESTIONS, 1), "points": Items(POINTS, MAX_QUESTIONS)},
                # A paper with 组合题: each question's sub-question number (0: a question of its own).
                {"options": ORDERS, "sub": Items(Whole(0, MAX_QUESTIONS), MAX_QUESTIONS)},
            ),
            MAX_VARIANTS,
            1,
        ),
    },
    {
        "variants": Items(VARIANT, MAX_VARIANTS),
        "pool": Text(16, choices=POOLS),
        "seal_pages": Text(8, choices=("all", "first")),
        "seal_fields": Items(Text(6, 1), 4),
        "parts": Items(
            Record(
                {"kind": Text(32, choices=part_kinds()), "count": Whole(1, MAX_QUESTIONS), "points": POINTS},
                {"role": Text(8, choices=PART_ROLES[1:]), "choose": Whole(1, MAX_QUESTIONS)},
            ),
            len(part_kinds()) * len(PART_ROLES),
        ),
        "same_questions": Flag(),
        "exclude": Items(Text(MAX_PATH, 1), 1000),
        "shuffle_options": Text(16, choices=("variant", "student")),
        "multi_rule": Text(16, choices=MULTI_RULES),
        "answer_grid": Flag(),
        "blanks": Text(8, choices=BLANK_MODES),
        "docx": Flag(),
        "answer_sheet": Record(
            {
                "layouts": Table(VARIANT, LAYOUT, MAX_VARIANTS),
                "sheets": Table(Text(64, 1), Record({"variant": VARIANT}, {"student_id": Text(MAX_ID)})),
            }
        ),
        "source": Text(MAX_PATH),
        "roster": Text(MAX_PATH),
        "students": Items(STUDENT, None),  # as many as the roster held
        "reprint": Record(
            {"of": Text(120, 1), "changed": Items(Text(32, choices=tuple(HEADER_FLAGS.values())), len(HEADER_FLAGS))}
        ),
    },
)


def _check_manifest(data: dict[str, Any]) -> None:
    """A manifest is input like any other: every field of its type and size, then consistent records, then every
    value in its range, then papers, parts and students that agree. Raises UsageError for the first problem
    (read_manifest adds the flag and the file)."""
    check(data, MANIFEST, ranges=False)  # every later read is safe from here on
    _check_records(data)
    check(data, MANIFEST)
    _check_agreement(data)


# An exam id names a folder under --out: letters, digits, _ - . only, never a path.
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}")


def _check_records(data: dict[str, Any]) -> None:
    """Ids that cannot leave --out, counts and papers that make sense (the checks and messages of issue 19)."""
    exam_id = data["exam_id"]
    if not _SAFE_ID.fullmatch(exam_id) or ".." in exam_id:
        raise UsageError(
            _("exam_id {value!r} is not a paperkit exam id (letters, digits, _ - . only)").format(value=exam_id[:60])
        )
    for name, least in (("total_points", 1), ("count", 1), ("duration", 0)):
        if data[name] < least:
            raise UsageError(
                _("{name} {value} is out of range (at least {least})").format(name=name, value=data[name], least=least)
            )
    modules = set(data["modules"])
    if not data["papers"]:
        raise UsageError(_("no papers"))
    for variant, paper in data["papers"].items():
        questions = paper["questions"]
        if not questions:
            raise UsageError(_("paper {variant} has no questions").format(variant=variant))
        if len(set(questions)) != len(questions):
            raise UsageError(_("paper {variant} lists a question twice").format(variant=variant))
        if len(paper["points"]) != len(questions) or any(p < 0 for p in paper["points"]):
            raise UsageError(_("paper {variant}: its points do not match its questions").format(variant=variant))
        outside = [q for q in questions if _module_of(q) not in modules]
        if outside:
            raise UsageError(
                _("paper {variant}: {question} is not in the modules {modules}").format(
                    variant=variant, question=outside[0], modules=sorted(modules)
                )
            )
    for student in data.get("students", []):
        if student["variant"] not in data["papers"]:
            raise UsageError(
                _("student {student} sat paper {variant}, which is not recorded").format(
                    student=student["student_id"], variant=student["variant"]
                )
            )


def _module_of(question: str) -> int | None:
    head = question.split(".")[0]
    return int(head) if re.fullmatch(r"[0-9]{1,4}", head) else None


def numbered(paper: dict[str, Any], where: str = "papers") -> list[tuple[int, int]]:
    """A recorded paper's numbered questions as (first, last) indices into its `questions`: a 组合题's
    sub-questions (`sub` 1, 2, …) are one; `where` names the paper in a UsageError."""
    subs = paper.get("sub", [0] * len(paper["questions"]))
    if len(subs) != len(paper["questions"]):
        raise UsageError(
            _("{where}.sub: expected {count} entries (one per question), got {got}").format(
                where=where, count=len(paper["questions"]), got=len(subs)
            )
        )
    runs: list[tuple[int, int]] = []
    for index, sub in enumerate(subs):
        if sub > 1 and runs and subs[index - 1] == sub - 1:
            runs[-1] = (runs[-1][0], index)
        elif sub > 1:
            raise UsageError(
                _("{where}.sub[{index}]: sub-question {sub} does not follow sub-question {before}").format(
                    where=where, index=index, sub=sub, before=sub - 1
                )
            )
        else:
            runs.append((index, index))
    return runs


def question_names(paper: dict[str, Any]) -> list[str]:
    """How a recorded paper names each of its questions: 「7」, or 「17(2)」 for a 组合题's sub-question."""
    subs = paper.get("sub", [0] * len(paper["questions"]))
    return [
        question_label(printed, subs[index])
        for printed, (first, last) in enumerate(numbered(paper), start=1)
        for index in range(first, last + 1)
    ]


def _check_agreement(data: dict[str, Any]) -> None:
    """Papers of the exam's count and total, parts that add up to them, option orders of the paper's own
    questions, students with ids of their own."""
    papers, count, total = data["papers"], data["count"], data["total_points"]
    try:
        parse_date(data["date"])
    except UsageError:
        raise UsageError(
            _("date: expected {what}, got {value!r}").format(what=_what(DATE), value=data["date"])
        ) from None
    if "variants" in data and data["variants"] != list(papers):
        raise UsageError(
            _("variants: expected {expected} (the papers' letters), got {got}").format(
                expected=", ".join(papers), got=", ".join(data["variants"])
            )
        )
    parts = data.get("parts", [])
    kinds = [(part["kind"], part.get("role", "")) for part in parts]
    for index, kind in enumerate(kinds):
        if kind in kinds[:index] and kind[1]:
            raise UsageError(
                _("parts[{index}].kind: {kind} {role} is listed twice").format(index=index, kind=kind[0], role=kind[1])
            )
        if kind in kinds[:index]:
            raise UsageError(_("parts[{index}].kind: {kind} is listed twice").format(index=index, kind=kind[0]))
        role, choose = parts[index].get("role", ""), parts[index].get("choose", 0)
        if (role == "choose") != bool(choose) or choose >= parts[index]["count"]:
            raise UsageError(
                _("parts[{index}].choose: a 选做题 (role choose) answers from 1 to count − 1 of its items").format(
                    index=index
                )
            )
    if parts and sum(p["count"] for p in parts) != count:
        raise UsageError(
            _("parts: {questions} questions in all, but count is {count}").format(
                questions=sum(p["count"] for p in parts), count=count
            )
        )
    part_points = [part["points"] for part in parts for _copy in range(part["count"])]
    if parts:  # a 选做题 counts the points of the items a student answers, a 附加题 none
        specs = [PartSpec(p["kind"], p["count"], p["points"], p.get("role", ""), p.get("choose", 0)) for p in parts]
        counted = sum(spec.counted for spec in specs)
        if counted != total:
            raise UsageError(
                _("parts: add up to a 满分 of {counted}, but total_points is {total}").format(
                    counted=counted, total=total
                )
            )
    for variant, paper in papers.items():
        where = f"papers.{variant}"
        runs = numbered(paper, where)
        if len(runs) != count:
            raise UsageError(
                _("{where}.questions: expected {count} questions (count), got {got}").format(
                    where=where, count=count, got=len(runs)
                )
            )
        if not parts and sum(paper["points"]) != total:
            raise UsageError(
                _("{where}.points: add up to {sum}, but total_points is {total}").format(
                    where=where, sum=sum(paper["points"]), total=total
                )
            )
        asked = [sum(paper["points"][first : last + 1]) for first, last in runs]
        for index, (points, expected) in enumerate(zip(asked, part_points, strict=False)):
            if points != expected:
                raise UsageError(
                    _("{where}.points[{index}]: expected {expected} (the points of its part), got {points}").format(
                        where=where, index=index, expected=expected, points=points
                    )
                )
        _check_orders(paper.get("options", {}), paper["questions"], f"{where}.options", variant)
    seen: dict[str, int] = {}
    for index, student in enumerate(data.get("students", [])):
        student_id = student["student_id"]
        if student_id in seen:
            raise UsageError(
                _("students[{index}].student_id: {student!r} is students[{other}]'s too").format(
                    index=index, student=student_id, other=seen[student_id]
                )
            )
        seen[student_id] = index
        variant = student["variant"]
        _check_orders(student.get("options", {}), papers[variant]["questions"], f"students[{index}].options", variant)
    sheet = data.get("answer_sheet", {"layouts": {}, "sheets": {}})
    for variant in sheet["layouts"]:
        if variant not in papers:
            raise UsageError(
                _("answer_sheet.layouts.{variant}: a layout for variant {variant}, which has no paper").format(
                    variant=variant
                )
            )
    for name, holder in sheet["sheets"].items():
        if holder["variant"] not in sheet["layouts"]:
            raise UsageError(
                _("answer_sheet.sheets.{name}: names variant {variant}, which has no layout").format(
                    name=name, variant=holder["variant"]
                )
            )


def _what(node: Text) -> str:
    """What a text field of the schema holds, as a message says it."""
    return node.what() if node.what is not None else ""


def _check_orders(orders: dict[str, str], questions: list[str], where: str, variant: str) -> None:
    for question, order in orders.items():
        if sorted(order) != list(OPTION_LETTERS[: len(order)]):
            raise UsageError(
                _("{where}.{question}: expected {what}, got {value!r}").format(
                    where=where, question=question, what=_what(ORDER), value=order
                )
            )
        if question not in questions:
            raise UsageError(
                _("{where}.{question}: not a question of paper {variant}").format(
                    where=where, question=question, variant=variant
                )
            )


def _part_record(part: PartSpec) -> dict[str, Any]:
    """A part as the manifest records it; a 选做题 or 附加题 adds its role, so other manifests stay the same."""
    record: dict[str, Any] = {"kind": part.kind, "count": part.count, "points": part.points}
    if part.role:
        record["role"] = part.role
    if part.role == "choose":
        record["choose"] = part.choose
    return record
