"""What `paperkit scan` cannot decide alone: each student's answers gathered from the pages read (corrections
applied), review.html and review.csv listing what a person must look at, and a filled review.csv applied."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from paperkit.errors import ScanError, ScoreSheetError
from paperkit.exam.manifest import question_names
from paperkit.exam.sheet import ID_DIGITS
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.marking.scanpage import Exam, PageRecord, read_sheet

PAGES = "scan-pages"  # straightened pages whose QR code could not be read, kept for review
ID_ROW = "考号"  # the 题号 of a review row that asks for a page's student
SHEET_ROW = "答题卡编号"  # the 题号 of a review row that asks for a page's printed sheet id


def collect(state: dict[str, Any], exam: Exam) -> dict[str, dict[str, Any]]:
    """Every student's answers by question number (corrections from review applied), from the pages read;
    a page whose 考号 is still unknown waits."""
    found: dict[str, dict[str, Any]] = {}
    pages = sorted(state["pages"].items(), key=lambda kv: (kv[1]["sheet"], kv[1]["page"], kv[1]["source"]))
    for fingerprint, page in pages:
        student = page["student_id"] or state["identities"].get(fingerprint, "")
        if not student:
            continue
        entry = found.setdefault(
            student, {"variant": page["variant"], "sheet": page["sheet"], "absent": False, "answers": {}}
        )
        entry["absent"] = entry["absent"] or page["absent"]
        for answer in page["answers"]:
            entry["answers"][str(answer["number"])] = answer | {"page": page["page"], "source": page["source"]}
    for key, value in state["corrections"].items():
        student, number = key.split("/")
        if student in found and number in found[student]["answers"]:
            found[student]["answers"][number] = found[student]["answers"][number] | {
                "value": value,
                "status": "corrected",
            }
    return found


REVIEW_COLUMNS = ("学号", "姓名", "题号", "读取", "原因", "来源", "页面", "更正")
BLANK_ANSWER = "-"  # what a teacher types in 更正 for "the student left it blank"


def apply_review(path: Path, state: dict[str, Any], exam: Exam, folder: Path) -> None:
    """A filled review.csv: each row's 更正 becomes that answer (checked against the boxes the question has), or,
    on a 考号 row, that page's student. Any bad row stops the run with every problem listed, nothing applied."""
    if not path.is_file():
        raise ScanError(_("{path}: no such file; give the review.csv that paperkit scan wrote").format(path=path))
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ScanError(_("{path}: not a readable review.csv ({error})").format(path=path, error=error)) from None
    problems: list[str] = []
    corrections: dict[str, str] = {}
    identities: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        correction = unicodedata.normalize("NFKC", row.get("更正") or "").strip()
        if not correction:
            continue
        where = f"{path}:{line}"
        number = (row.get("题号") or "").strip()
        if number == SHEET_ROW:
            problem = _name_sheet(exam, state, folder, (row.get("页面") or "").strip(), correction)
            if problem:
                problems.append(f"{where}: {problem}")
            continue
        if number == ID_ROW:
            fingerprint = (row.get("页面") or "").strip()
            if fingerprint not in state["pages"]:
                problems.append(
                    _("{where}: 页面 '{page}' is not a page this exam's scans have read").format(
                        where=where, page=fingerprint[:24]
                    )
                )
            elif not correction.isdigit() or len(correction) > ID_DIGITS:
                problems.append(
                    _("{where}: 更正 '{correction}' is not a 考号 (digits only)").format(
                        where=where, correction=correction[:24]
                    )
                )
            else:
                identities[fingerprint] = correction
            continue
        student = (row.get("学号") or "").strip()
        number = _position(exam, state, student, number)
        value, problem = _checked(exam, state, student, number, correction)
        if problem:
            problems.append(f"{where}: {problem}")
        else:
            corrections[f"{student}/{number}"] = value
    if problems:
        raise ScoreSheetError(problems, f"{path.name}")
    state["corrections"].update(corrections)
    state["identities"].update(identities)


def _name_sheet(exam: Exam, state: dict[str, Any], folder: Path, fingerprint: str, typed: str) -> str:
    """Read a kept page as the sheet and page a teacher typed (as printed under its QR code: `ABCD-EFGH · 2`);
    '' when done, else why not."""
    page = state["pages"].get(fingerprint)
    if page is None or not page["waiting"]:
        return _("页面 '{page}' is not a page waiting for its sheet id").format(page=fingerprint[:24])
    text = "".join(ch for ch in typed.upper() if ch.isalnum())
    sheet, number = text[:8], text[8:]
    if sheet not in exam.sheets or not number.isdigit():
        return _("更正 '{typed}' is not a sheet id and page of this exam (as printed: ABCD-EFGH · 1)").format(
            typed=typed[:24]
        )
    image_path = folder / PAGES / f"{fingerprint}.png"
    try:
        import cv2

        image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
    except cv2.error:
        image = None
    if image is None:
        return _("{path}: the kept page image is missing; scan the page again").format(path=image_path)
    record = PageRecord(**{k: v for k, v in page.items() if k in PageRecord.__dataclass_fields__})
    read_sheet(exam, record, image.astype(np.float32) / 255.0, sheet, int(number))
    if record.problem:
        return f"更正 '{typed[:24]}': {record.problem}"
    state["pages"][fingerprint] = asdict(record)
    return ""


def _variant_of(state: dict[str, Any], student: str) -> str:
    """The variant of a student's scanned pages ('' when none is scanned)."""
    return next(
        (p["variant"] for f, p in state["pages"].items() if (p["student_id"] or state["identities"].get(f)) == student),
        "",
    )


def _position(exam: Exam, state: dict[str, Any], student: str, name: str) -> str:
    """A review row's 题号 as the sheet's question number: 「5(2)」 is the sub-question's own place."""
    variant = _variant_of(state, student)
    names = question_names(exam.manifest.papers[variant]) if variant in exam.manifest.papers else []
    return str(names.index(name) + 1) if name in names else name


def _checked(exam: Exam, state: dict[str, Any], student: str, number: str, text: str) -> tuple[str, str]:
    """A correction as the score sheet takes it, or why it cannot be: letters among the question's boxes (each
    once), T/F, or points from 0 to the question's in half points; '-' for left blank."""
    variants = {
        p["variant"] for f, p in state["pages"].items() if (p["student_id"] or state["identities"].get(f)) == student
    }
    if not variants:
        return "", _("学号 '{student}' has no scanned page").format(student=student[:24])
    layout = exam.layouts[variants.pop()]
    values = sorted({b.value for b in layout.boxes if b.field == "q" and str(b.number) == number})
    if not values:
        return "", _("题号 '{number}' is not a question of this sheet").format(number=number[:8])
    if text == BLANK_ANSWER:
        return "", ""
    if int(number) in {a.number for a in layout.areas}:
        points = next(a.points for a in layout.areas if str(a.number) == number)
        try:
            given = float(text)
        except ValueError:
            return "", _("更正 '{text}' is not points (0 to {points})").format(text=text[:24], points=points)
        if not 0 <= given <= points or given * 2 != int(given * 2):
            return "", _("更正 '{text}' is not 0 to {points} points in half points").format(
                text=text[:24], points=points
            )
        return f"{given:g}", ""
    marks = {"√": "T", "×": "F", "X": "F", "对": "T", "错": "F"}
    letters = "".join(sorted(marks.get(ch, ch) for ch in text.upper() if not ch.isspace()))
    if not letters or any(ch not in values for ch in letters) or len(set(letters)) != len(letters):
        return "", _("更正 '{text}' is not among this question's boxes ({boxes}) or '-'").format(
            text=text[:24], boxes=" ".join(values)
        )
    if int(number) in layout.singles and len(letters) > 1:
        return "", _("更正 '{text}': question {number} takes one answer").format(text=text[:24], number=number)
    return letters, ""


def review_files(answers: dict[str, dict[str, Any]], state: dict[str, Any], exam: Exam) -> tuple[bytes, bytes]:
    """review.html (each answer to check, its boxes cut from the page) and review.csv (fill in 更正): the pages
    still without a 考号 first, then every answer a person must decide."""
    from paperkit.render.document import render_template

    names = {s["student_id"]: s["name"] for s in exam.manifest.students}
    rows = [
        {
            "student": "",
            "name": "",
            "number": SHEET_ROW,
            "value": "",
            "reason": page["waiting"],
            "source": page["source"],
            "page": fingerprint,
            "crop": page["identity_crop"],
        }
        for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"])
        if page["waiting"]
    ]
    rows += [
        {
            "student": "",
            "name": "",
            "number": ID_ROW,
            "value": page["identity_read"],
            "reason": page["identity"],
            "source": page["source"],
            "page": fingerprint,
            "crop": page["identity_crop"],
        }
        for fingerprint, page in sorted(state["pages"].items(), key=lambda kv: kv[1]["source"])
        if page.get("identity") and fingerprint not in state["identities"]
    ]
    for student in sorted(answers):
        shown = question_names(exam.manifest.papers[answers[student]["variant"]])
        for number, answer in sorted(answers[student]["answers"].items(), key=lambda kv: int(kv[0])):
            if answer["status"] == "review":
                rows.append(
                    {
                        "student": student,
                        "name": names.get(student, ""),
                        "number": shown[int(number) - 1] if 0 < int(number) <= len(shown) else number,
                        "value": answer["value"],
                        "reason": answer["reason"],
                        "source": answer["source"],
                        "page": "",
                        "crop": answer["crop"],
                    }
                )
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(REVIEW_COLUMNS)
    for row in rows:
        writer.writerow(
            [row["student"], row["name"], row["number"], row["value"], row["reason"], row["source"], row["page"], ""]
        )
    page = render_template(
        "scan-review.html.j2",
        {
            "title": f"{exam.manifest.title} {label('scan_review_title')}",
            "note": label("scan_review_note"),
            "rows": rows,
            "columns": REVIEW_COLUMNS,
        },
    )
    return page.encode("utf-8"), ("\ufeff" + table.getvalue()).encode("utf-8")
