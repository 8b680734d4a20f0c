"""An exam's manifest: everything needed to rebuild its PDFs, as JSON text and back."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperkit.errors import PaperkitError, UsageError
from paperkit.exam.options import POOLS, ExamOptions, PartSpec
from paperkit.flags import parse_date
from paperkit.questions.rules import MULTI_RULES
from paperkit.render.page import geometry_for

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
        data["parts"] = [{"kind": p.kind, "count": p.count, "points": p.points} for p in options.parts]
        data["same_questions"] = options.same_questions
        data["exclude"] = [str(path) for path in options.exclude]
        data["shuffle_options"] = options.shuffle
        data["multi_rule"] = options.multi_rule
    if options.answer_grid:
        data["answer_grid"] = True
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
    """Read a manifest.json written by `paperkit exam`; anything else is a UsageError naming `flag` and the file."""
    if not path.is_file():
        raise UsageError(f"{flag} {path}: no such file; give the manifest.json of an earlier exam build")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{flag} {path}: not a readable JSON manifest ({error})") from None
    if not isinstance(data, dict) or data.get("paperkit_manifest") != FORMAT:
        raise UsageError(f"{flag} {path}: not a paperkit exam manifest (format {FORMAT})")
    try:
        papers: dict[str, dict[str, Any]] = {
            str(v): {"questions": [str(q) for q in p["questions"]], "points": [int(x) for x in p["points"]]}
            | ({"options": {str(k): str(o) for k, o in p["options"].items()}} if "options" in p else {})
            for v, p in data["papers"].items()
        }
        options = ExamOptions(
            modules=tuple(int(m) for m in data["modules"]),
            seed=int(data["seed"]),
            count=int(data["count"]),
            total_points=int(data["total_points"]),
            variants=len(papers),
            title=str(data["title"]),
            course=str(data["course"]),
            date=parse_date(str(data["date"])),
            duration=int(data["duration"]),
            page=geometry_for(str(data["paper"]), two_up=True),
            seal_line=bool(data["seal_line"]),
            seal_pages=str(data.get("seal_pages", "all")),
            seal_fields=tuple(str(f) for f in data.get("seal_fields", [])),
            parts=tuple(PartSpec(str(p["kind"]), int(p["count"]), int(p["points"])) for p in data.get("parts", [])),
            same_questions=bool(data.get("same_questions", False)),
            exclude=tuple(Path(str(x)) for x in data.get("exclude", [])),
            shuffle=str(data.get("shuffle_options", "variant")),
            # Manifests written before pools existed drew from the handbook's own items.
            pool=_one_of(data.get("pool", "practice"), POOLS, "pool"),
            multi_rule=_one_of(data.get("multi_rule", "half"), MULTI_RULES, "multi_rule"),
            answer_sheet="answer_sheet" in data,
            answer_grid=data.get("answer_grid", False) is True,
        )
        _check_schema(data)
        return Manifest(
            exam_id=str(data["exam_id"]),
            options=options,
            title=str(data["title"]),
            bank_hash=str(data["bank_hash"]),
            papers=papers,
            students=tuple(
                {
                    k: ({str(q): str(o) for q, o in v.items()} if k in ("options", "extra") else str(v))
                    for k, v in s.items()
                }
                for s in data.get("students", [])
            ),
            roster=str(data.get("roster", "")),
            reprint=dict(data.get("reprint", {})),
            answer_sheet=_answer_sheet(data.get("answer_sheet"), papers),
            source=str(data.get("source", "")),
        )
    except UsageError as error:
        raise UsageError(f"{flag} {path}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"{flag} {path}: a field is missing or malformed ({type(error).__name__}: {error})") from None


def _answer_sheet(value: object, papers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The answer sheet record, checked: a layout per variant the manifest prints, sheets naming those variants."""
    if value is None:
        return {}
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("layouts"), dict)
        or not isinstance(value.get("sheets"), dict)
    ):
        raise UsageError("answer_sheet: expected layouts and sheets")
    from paperkit.exam.sheet import layout_from_data

    layouts = {}
    for variant, layout in value["layouts"].items():
        if variant not in papers:
            raise UsageError(f"answer_sheet: a layout for variant {str(variant)[:8]!r}, which has no paper")
        try:
            layouts[variant] = layout_from_data(layout).as_data()
        except (ValueError, AttributeError) as error:
            raise UsageError(f"answer_sheet.layouts.{str(variant)[:8]}: {error}") from None
    sheets = {}
    for sheet, holder in value["sheets"].items():
        if not isinstance(holder, dict) or holder.get("variant") not in layouts:
            raise UsageError(f"answer_sheet: sheet {str(sheet)[:12]!r} names no variant with a layout")
        sheets[str(sheet)] = {"variant": str(holder["variant"]), "student_id": str(holder.get("student_id", ""))}
    return {"layouts": layouts, "sheets": sheets}


def _one_of(value: object, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise UsageError(f"{name} {str(value)[:20]!r}: expected one of {', '.join(choices)}")
    return str(value)


# An exam id names a folder under --out: letters, digits, _ - . only, never a path.
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}")


def _check_schema(data: dict[str, Any]) -> None:
    """A manifest is input like any other: ids that cannot leave --out, sane numbers, consistent papers.

    Raises UsageError for the first problem (read_manifest adds the flag and the file).
    """
    for text in _strings(data):
        if "\0" in text:
            raise UsageError("a field holds a NUL character")
    exam_id = str(data["exam_id"])
    if not _SAFE_ID.fullmatch(exam_id) or ".." in exam_id:
        raise UsageError(f"exam_id {exam_id[:60]!r} is not a paperkit exam id (letters, digits, _ - . only)")
    for name, least in (("total_points", 1), ("count", 1), ("duration", 0)):
        if int(data[name]) < least:
            raise UsageError(f"{name} {data[name]} is out of range (at least {least})")
    modules = {int(m) for m in data["modules"]}
    variants = set(data["papers"])
    if not variants:
        raise UsageError("no papers")
    for variant, paper in data["papers"].items():
        questions = [str(q) for q in paper["questions"]]
        if not questions:
            raise UsageError(f"paper {variant} has no questions")
        if len(set(questions)) != len(questions):
            raise UsageError(f"paper {variant} lists a question twice")
        if len(paper["points"]) != len(questions) or any(int(p) < 0 for p in paper["points"]):
            raise UsageError(f"paper {variant}: its points do not match its questions")
        outside = [q for q in questions if int(q.split(".")[0]) not in modules]
        if outside:
            raise UsageError(f"paper {variant}: {outside[0]} is not in the modules {sorted(modules)}")
    for student in data.get("students", []):
        if str(student["variant"]) not in variants:
            raise UsageError(f"student {student['student_id']} sat paper {student['variant']}, which is not recorded")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
