"""`paperkit scan`: scanned or photographed answer sheets into the exam's score sheet, and a review of what a
person must look at.

Each input page is found and read (sheetread.py), matched to its sheet only by the sheet id its QR code
carries (and, on a sheet printed without a student, the 考号 its student filled in), checked against the
manifest, and kept in `scan.json` beside the manifest under a fingerprint of its pixels: a page scanned again is
the same page (nothing changes), a second batch adds to the first. The answers then go into scores.xlsx (and
scores.csv): a cell the teacher has filled is never changed; an answer that needs a person stays empty,
highlighted, and listed in review.html and review.csv, whose 更正 column `scan --review` applies.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperkit.errors import ScanError, UsageError, WorkbookError
from paperkit.exam.manifest import question_names
from paperkit.exam.sheet import shown_id
from paperkit.i18n import _
from paperkit.marking.jobs import scoresheet_bytes
from paperkit.marking.options import SHEET_ROWS
from paperkit.marking.scanpage import (
    QR_UNREADABLE,
    Exam,
    PageRecord,
    input_pages,
    is_blank,
    open_scan_exam,
    read_page,
)
from paperkit.marking.scanreview import PAGES, apply_review, collect, review_files
from paperkit.output import check_output, write_atomic

STATE = "scan.json"
FORMAT = 1


@dataclass
class ScanReport:
    """What a scan run did: pages read and refused, the answers sent to review, the cells kept as the teacher
    wrote them, and the files written."""

    read: int = 0
    blank: int = 0  # empty pages (a duplex scan's backs), skipped
    again: int = 0  # pages seen before (the same pixels): nothing changed
    refused: list[str] = field(default_factory=list)  # one line each: file, page, why
    review: int = 0
    unmarked: int = 0  # score strips with no score marked (yet): their cells stay empty
    kept: list[str] = field(default_factory=list)  # cells the teacher had filled differently
    unnamed: list[str] = field(default_factory=list)  # pages whose 考号 a person must type
    saved: list[Path] = field(default_factory=list)  # score files changed by hand, copied aside before the merge
    missing: list[str] = field(default_factory=list)  # students with a page of their sheet not scanned yet
    written: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the terminal shows it."""
        out = [*self.refused, *self.unnamed, *self.kept, *self.missing]
        out += [
            _("{name}: your edited copy, kept before merging the scan").format(name=path.name) for path in self.saved
        ]
        counts = {
            "read": self.read,
            "again": self.again,
            "refused": len(self.refused),
            "blank": self.blank,
            "review": self.review,
        }
        if self.blank:
            out.append(
                _(
                    "{read} pages read, {again} seen before, {refused} refused, {blank} blank skipped; "
                    "{review} answers to review"
                ).format(**counts)
            )
        else:
            out.append(
                _("{read} pages read, {again} seen before, {refused} refused; {review} answers to review").format(
                    **counts
                )
            )
        if self.unmarked:
            out.append(
                _("{count} written answers have no score marked on the sheet; their cells stay empty").format(
                    count=self.unmarked
                )
            )
        return out


# -- the run ----------------------------------------------------------------------------------------------------


def _load_state(path: Path, exam_id: str) -> dict[str, Any]:
    if not path.is_file():
        return {"paperkit_scan": FORMAT, "exam_id": exam_id, "pages": {}, "corrections": {}, "identities": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScanError(
            _("{path}: not a readable scan record ({error}); move it away to start over").format(path=path, error=error)
        ) from None
    if not isinstance(state, dict) or state.get("paperkit_scan") != FORMAT or state.get("exam_id") != exam_id:
        raise ScanError(
            _("{path}: a scan record of another exam or format; move it away to start over").format(path=path)
        )
    for part in ("pages", "corrections", "identities"):
        if not isinstance(state.get(part), dict):
            raise ScanError(
                _("{path}: a damaged scan record (no '{part}'); move it away to start over").format(
                    path=path, part=part
                )
            )
    return state


def scan(
    manifest_path: Path, inputs: Sequence[Path], source: Path | None, review: Path | None = None, rows: int = SHEET_ROWS
) -> ScanReport:
    """Read the inputs (and a filled review.csv) into the exam's scan record and its score sheet."""
    if not inputs and review is None:
        raise UsageError(_("nothing to read: give scanned sheets (PDF, JPEG, PNG, HEIC), or --review review.csv"))
    exam = open_scan_exam(manifest_path, source)
    folder = manifest_path.parent
    outputs = [folder / name for name in (STATE, "scores.xlsx", "scores.csv", "review.html", "review.csv")]
    for path in outputs:
        check_output(path, inputs=[*inputs, manifest_path])
    state = _load_state(folder / STATE, exam.manifest.exam_id)
    report = ScanReport()
    kept_images: dict[str, np.ndarray] = {}
    for path in inputs:
        for name, image in input_pages(path):
            if is_blank(image):  # the back of a one-sided sheet in a duplex scan
                report.blank += 1
                continue
            record, straight = read_page(exam, name, image)
            if record.fingerprint in state["pages"]:
                report.again += 1
                continue
            if record.problem:  # not kept: a better scan of the page is read next time
                report.refused.append(f"{name}: {record.problem}")
                continue
            clash = _same_page(state, record)
            if clash:
                report.refused.append(
                    _("{name}: page {page} of sheet {sheet} was already read from {first}; kept the first").format(
                        name=name, page=record.page, sheet=shown_id(record.sheet), first=clash
                    )
                )
                continue
            report.read += 1
            state["pages"][record.fingerprint] = asdict(record)
            if straight is not None:  # kept until review.csv gives the page's printed sheet id
                kept_images[record.fingerprint] = straight
    if review is not None:  # after the pages, so one run can read a batch and apply its review
        apply_review(review, state, exam, folder)
    answers = collect(state, exam)
    report.missing = _missing_pages(state, exam)
    statuses = [x["status"] for a in answers.values() for x in a["answers"].values()]
    report.review, report.unmarked = statuses.count("review"), statuses.count("unmarked")
    report.unnamed = _unnamed(state)
    xlsx, csv_bytes, kept = merge_scores(folder, exam, answers, rows)
    report.kept = kept
    report.saved = _keep_copies(folder, state, scoresheet_bytes(exam.marked, rows))
    state["written"] = {"scores.xlsx": _digest(xlsx), "scores.csv": _digest(csv_bytes)}
    for fingerprint, straight in kept_images.items():
        write_atomic(folder / PAGES / f"{fingerprint}.png", _png(straight))
    write_atomic(folder / "scores.xlsx", xlsx)
    write_atomic(folder / "scores.csv", csv_bytes)
    write_atomic(folder / STATE, (json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode())
    page, table = review_files(answers, state, exam)
    write_atomic(folder / "review.html", page)
    write_atomic(folder / "review.csv", table)
    report.written = outputs
    return report


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keep_copies(folder: Path, state: dict[str, Any], fresh: tuple[bytes, bytes]) -> list[Path]:
    """Copy aside each score file that someone changed since paperkit wrote it: the merge keeps every typed
    cell, but a workbook's charts or a CSV edited by hand survive only in the copy."""
    saved = []
    written = state.get("written", {})
    for name, untouched in zip(("scores.xlsx", "scores.csv"), fresh, strict=True):
        path = folder / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if _digest(data) in (written.get(name), _digest(untouched)):
            continue
        stem, suffix = name.rsplit(".", 1)
        number = 1
        while (copy := folder / f"{stem}.before-scan-{number}.{suffix}").exists():
            number += 1
        write_atomic(copy, data)
        saved.append(copy)
    return saved


def _png(straight: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.clip(straight * 255, 0, 255).astype(np.uint8))
    if not ok:
        raise ScanError(_("could not encode a page image"))
    return bytes(data.tobytes())


def _unnamed(state: dict[str, Any]) -> list[str]:
    """One line per page whose sheet or 考号 could not be read and that review.csv has not named yet."""
    lines = []
    for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"]):
        if page["waiting"] == QR_UNREADABLE:  # the one reason scanpage records (review.csv keeps it as written)
            lines.append(
                _("{source}: its QR code cannot be read; type the id printed under it into review.csv").format(
                    source=page["source"]
                )
            )
        elif page["waiting"]:
            lines.append(
                _("{source}: {why}; type the id printed under it into review.csv").format(
                    source=page["source"], why=page["waiting"]
                )
            )
        elif page["identity"] and fingerprint not in state["identities"]:
            lines.append(
                _("{source}: {why}; its answers wait until review.csv gives the 考号").format(
                    source=page["source"], why=page["identity"]
                )
            )
    return lines


def _same_page(state: dict[str, Any], record: PageRecord) -> str:
    if record.identity or record.waiting:  # a page still without its student is told apart by its pixels alone
        return ""
    for other in state["pages"].values():
        same = (other["sheet"], other["page"], other["student_id"]) == (record.sheet, record.page, record.student_id)
        if same and not other["problem"]:
            return str(other["source"])
    return ""


def _missing_pages(state: dict[str, Any], exam: Exam) -> list[str]:
    seen: dict[tuple[str, str], set[int]] = {}
    for page in state["pages"].values():
        if page["sheet"]:
            seen.setdefault((page["sheet"], page["student_id"]), set()).add(page["page"])
    lines = []
    unseen = [s for s in exam.manifest.students if (s["student_id"] not in {k[1] for k in seen})]
    if seen and unseen:
        names = "、".join(f"{s['name']}（{s['student_id']}）" for s in unseen[:5])
        if len(unseen) > 5:
            lines.append(
                _("{count} students have no sheet scanned yet: {names} and {more} more").format(
                    count=len(unseen), names=names, more=len(unseen) - 5
                )
            )
        else:
            lines.append(
                _("{count} students have no sheet scanned yet: {names}").format(count=len(unseen), names=names)
            )
    for (sheet, student), pages in sorted(seen.items()):
        total = exam.layouts[exam.sheets[sheet]["variant"]].pages
        gone = [str(p) for p in range(1, total + 1) if p not in pages]
        if gone:
            pages_text = ", ".join(gone)
            if student:
                lines.append(
                    _("sheet {sheet} ({student}): page {pages} not scanned yet").format(
                        sheet=sheet, student=student, pages=pages_text
                    )
                )
            else:
                lines.append(
                    _("sheet {sheet} (no 考号): page {pages} not scanned yet").format(sheet=sheet, pages=pages_text)
                )
    return lines


# -- the score sheet --------------------------------------------------------------------------------------------


def merge_scores(
    folder: Path, exam: Exam, answers: dict[str, dict[str, Any]], rows: int
) -> tuple[bytes, bytes, list[str]]:
    """scores.xlsx and scores.csv with the scanned answers in every cell still empty; a cell the teacher filled
    is kept as it is (listed when it differs), an answer to review stays empty and highlighted."""
    from openpyxl import load_workbook
    from openpyxl.styles import PatternFill

    from paperkit.exam.workbook import check_xlsx
    from paperkit.marking.scoresheet import FIRST_ROW, FIXED, READ_LIMITS, SHEET, columns
    from paperkit.output import fixed_zip

    xlsx_path = folder / "scores.xlsx"
    base = xlsx_path.read_bytes() if xlsx_path.is_file() else scoresheet_bytes(exam.marked, rows)[0]
    try:
        check_xlsx(base, str(xlsx_path), READ_LIMITS)  # bounded and XML-checked before openpyxl expands it
    except WorkbookError as error:
        raise ScanError(_("{error}; move it away").format(error=error)) from None
    try:
        book = load_workbook(io.BytesIO(base))
        sheet = book[SHEET]
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ScanError(
            _("{path}: not a readable score sheet ({error}); move it away").format(
                path=xlsx_path, error=type(error).__name__
            )
        ) from None
    first = len(FIXED) + 1
    count = len(next(iter(exam.manifest.papers.values()))["points"])
    by_id = {str(sheet.cell(row=r, column=1).value or "").strip(): r for r in range(FIRST_ROW, sheet.max_row + 1)}
    kept: list[str] = []
    review = PatternFill("solid", fgColor="FFF2A8")
    names = {s["student_id"]: s for s in exam.manifest.students}
    for student in sorted(answers):
        entry = answers[student]
        row = by_id.get(student)
        if row is None:
            row = next((r for r in range(FIRST_ROW, sheet.max_row + 2) if not sheet.cell(row=r, column=1).value), None)
            if row is None:
                continue
            sheet.cell(row=row, column=1, value=student)
            sheet.cell(row=row, column=4, value=entry["variant"])
            by_id[student] = row
        if entry["absent"]:
            continue  # 缺考: the row stays empty, which the analysis counts as absent
        shown = question_names(exam.manifest.papers[entry["variant"]])
        for number, answer in entry["answers"].items():
            column = first + int(number) - 1
            if not 1 <= int(number) <= count:
                continue
            cell = sheet.cell(row=row, column=column)
            value = answer["value"] if answer["status"] in ("read", "corrected") else None
            if answer["status"] == "review" and cell.value in (None, ""):
                cell.fill = review
                continue
            if value is None or value == "":
                continue
            typed = _typed(value)
            if cell.value in (None, ""):
                cell.value = typed
            elif str(cell.value).strip() != str(typed):
                who = names.get(student, {}).get("name", student)
                kept.append(
                    _("{who} ({student}), question {number}: kept '{typed}' as typed; the scan reads '{read}'").format(
                        who=who, student=student, number=shown[int(number) - 1], typed=cell.value, read=value
                    )
                )
    out = io.BytesIO()
    book.save(out)
    xlsx = fixed_zip(out.getvalue())
    layout = columns(exam.manifest, exam.marked.questions)
    return xlsx, _csv_from(sheet, FIRST_ROW - 1, first + count, layout.rank + 1), kept


def _typed(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _csv_from(sheet: Any, header: int, scored_end: int, extra: int) -> bytes:
    """scores.csv from the 成绩 sheet: the question header and rows, the student and question columns and the
    roster's others (no 大题 row, subtotals or formulas, as `scoresheet` writes it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in sheet.iter_rows(min_row=header, values_only=True):
        cells = ["" if v is None else v for v in row]
        writer.writerow([*cells[: scored_end - 1], *cells[extra - 1 :]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
