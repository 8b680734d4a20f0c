"""Answer sheets printed and read back (issue 27): real sheets rendered from the PDF paperkit wrote, filled by a
simulated student at the manifest's boxes, degraded like a scan or a photo, and read by `paperkit scan` into the
score sheet. The accuracy figures live in `make bench-scan`; here every path a teacher meets works once."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import scan_sim as sim
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.exam.sheet import QR_AT, SheetLayout, layout_from_data, shown_id
from paperkit.marking.sheetread import find_page

runner = CliRunner()
PARTS = "choice:6x2,multi:3x4,truefalse:4x2,fill:2x2,short:2x10"
DPI = 150  # the scans here are coarse on purpose: the bench covers 150–600 dpi


def _exam(out: Path, *extra: str) -> Path:
    result = runner.invoke(
        app,
        [
            "exam",
            "--source",
            str(SOURCE),
            "--modules",
            "2,3,8",
            "--seed",
            "7",
            "--parts",
            PARTS,
            "--variants",
            "2",
            "--answer-sheet",
            "--out",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return next(out.iterdir())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two exams, printed once: a class of three with a sheet each, and blank numbered sheets."""
    base = tmp_path_factory.mktemp("sheets")
    roster = base / "roster.csv"
    roster.write_text(
        "姓名,学号,班级\n王喆,20260001,高一(3)班\n李堃,20260002,高一(3)班\n张犇,20260003,高一(3)班\n", "utf-8"
    )
    return {"class": _exam(base / "class", "--roster", str(roster)), "blank": _exam(base / "blank")}


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target / "manifest.json"


def _record(manifest: Path) -> dict:
    return json.loads(manifest.read_text(encoding="utf-8"))["answer_sheet"]


def _sheet_pdf(folder: Path, holder: dict) -> Path:
    if holder["student_id"]:
        return next((folder / "sheets").glob(f"{holder['student_id']}-*.pdf"))
    return folder / f"sheet-{holder['variant']}.pdf"


def _answers(layout: SheetLayout, rng: random.Random) -> tuple[dict[tuple[int, str], str], dict[int, str]]:
    """A student's marks (and the teacher's points on the strips) and what each question should read as."""
    marks: dict[tuple[int, str], str] = {}
    truth: dict[int, str] = {}
    strips = {a.number: a.points for a in layout.areas}
    for number, boxes in sorted(layout.questions().items()):
        values = [b.value for b in boxes]
        if number in strips:
            points = rng.randint(0, strips[number])
            chosen = [str(points)] if points <= 10 else [str(points // 10 * 10), str(points % 10)]
            truth[number] = str(points)
        elif number in layout.singles:
            chosen = [rng.choice(values)]
            truth[number] = chosen[0]
        else:
            chosen = sorted(rng.sample(values, rng.randint(1, 3)))
            truth[number] = "".join(chosen)
        for value in chosen:
            marks[(number, value)] = rng.choice(("full", "pencil"))
    return marks, truth


def _fill(folder: Path, manifest: Path, seed: int, **changes: dict) -> tuple[list[np.ndarray], dict[str, dict]]:
    """Every sheet of an exam filled in: the page images and each student's expected answers."""
    record = _record(manifest)
    rng = random.Random(seed)
    pages: list[np.ndarray] = []
    truth: dict[str, dict] = {}
    for number, holder in enumerate(sorted(record["sheets"].values(), key=lambda h: h["student_id"] + h["variant"])):
        layout = layout_from_data(record["layouts"][holder["variant"]])
        marks, expected = _answers(layout, rng)
        student = holder["student_id"] or f"2026010{number}"
        if not holder["student_id"]:
            marks |= sim.id_marks(student)
        change = changes.get(student, {})
        marks = {k: v for k, v in marks.items() if k[0] not in {n for n, _ in change}} | change
        truth[student] = expected
        pages += sim.filled_pages(_sheet_pdf(folder, holder).read_bytes(), layout, marks, DPI, seed + number)
    return pages, truth


def _scan(manifest: Path, *args: str) -> object:
    return runner.invoke(app, ["scan", str(manifest), *args, "--source", str(SOURCE)])


def _scores(manifest: Path) -> dict[str, list[str]]:
    text = (manifest.parent / "scores.csv").read_text(encoding="utf-8-sig")
    return {row[0]: row for row in list(csv.reader(io.StringIO(text)))[1:] if row[0]}


def _check(manifest: Path, truth: dict[str, dict], skip: set[tuple[str, int]] = frozenset()) -> None:
    scores = _scores(manifest)
    for student, expected in truth.items():
        for number, value in expected.items():
            if (student, number) not in skip:
                assert scores[student][3 + number] == value, (student, number)


# ---- the sheet ---------------------------------------------------------------------------------------------------


def test_a_sheet_per_student_with_their_name_and_a_readable_id_on_every_page(printed: dict[str, Path]) -> None:
    folder = printed["class"]
    record = _record(folder / "manifest.json")
    for sheet, holder in record["sheets"].items():
        pdf = _sheet_pdf(folder, holder)
        reader = PdfReader(pdf)
        layout = layout_from_data(record["layouts"][holder["variant"]])
        assert len(reader.pages) == layout.pages
        first = reader.pages[0].extract_text().replace(" ", "")  # the title is letter-spaced
        for words in ("答题卡", holder["student_id"], "缺考", "填涂样例", f"卷型：{holder['variant']}"):
            assert words in first, words
        for page in range(layout.pages):
            text = reader.pages[page].extract_text()
            assert "请在各题目的答题区域内作答，超出黑色矩形边框限定区域的答案无效" in text
            assert f"第 {page + 1} 页 共 {layout.pages} 页" in text and f"{shown_id(sheet)} · {page + 1}" in text
            found = find_page(sim.render_page(pdf.read_bytes(), page, 200), "clean")
            assert found.markers == 6 and found.reprojection_mm < 0.1 and found.problem == ""
            assert found.qr == (sheet, page + 1)
    # The class print file puts each student's sheet right after their paper.
    papers = sum(len(PdfReader(p).pages) for p in (folder / "students").glob("*.pdf"))
    sheets = sum(len(PdfReader(p).pages) for p in (folder / "sheets").glob("*.pdf"))
    assert len(PdfReader(folder / "papers-all.pdf").pages) == papers + sheets


def test_a_blank_sheet_has_a_kaohao_grid_and_no_name(printed: dict[str, Path]) -> None:
    text = PdfReader(printed["blank"] / "sheet-A.pdf").pages[0].extract_text()
    assert "准考证号" in text and "20260001" not in text


# ---- scanning ----------------------------------------------------------------------------------------------------


def test_a_class_scanned_upside_down_in_any_order_fills_the_score_sheet(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    pages, truth = _fill(manifest.parent, manifest, seed=1)
    rng = random.Random(5)
    scanner = sim.Condition("feeder", DPI, rotation=180, jitter=1.5, jpeg=80)
    shuffled = [sim.degrade(p, scanner, rng) for p in pages]
    rng.shuffle(shuffled)
    (tmp_path / "batch.pdf").write_bytes(sim.as_pdf(shuffled, DPI))
    result = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert result.exit_code == 0, result.output
    assert f"{len(pages)} pages read, 0 seen before, 0 refused; 0 answers to review" in result.output
    _check(manifest, truth)
    review = (manifest.parent / "review.csv").read_text(encoding="utf-8-sig").splitlines()
    assert review == ["学号,姓名,题号,读取,原因,来源,页面,更正"]
    # The workbook's totals see the letters: its formula cells are kept, and an analysis runs on it.
    book = load_workbook(manifest.parent / "scores.xlsx")
    row = next(r for r in book["成绩"].iter_rows(min_row=2) if r[0].value == "20260001")
    assert str(row[3 + len(truth["20260001"]) + 1].value).startswith("=")
    analysis = runner.invoke(
        app, ["analyze", str(manifest), str(manifest.parent / "scores.xlsx"), "--source", str(SOURCE)]
    )
    assert analysis.exit_code == 0, analysis.output

    # The same scan again changes nothing; a second batch only adds.
    before = (manifest.parent / "scores.xlsx").read_bytes()
    again = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert f"0 pages read, {len(pages)} seen before" in again.output
    assert (manifest.parent / "scores.xlsx").read_bytes() == before


def test_unclear_marks_go_to_review_and_the_teachers_corrections_come_back(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    doubt = {(1, "A"): "tick", (2, "A"): "full", (2, "B"): "full", (3, "C"): "half"}
    pages, truth = _fill(manifest.parent, manifest, seed=2, **{"20260002": doubt})
    (tmp_path / "batch.pdf").write_bytes(sim.as_pdf(pages, DPI))
    result = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((manifest.parent / "review.csv").read_text(encoding="utf-8-sig"))))
    flagged = {(r["学号"], r["题号"]) for r in rows}
    assert {("20260002", "1"), ("20260002", "2")} <= flagged
    assert all(student == "20260002" for student, _ in flagged)
    # The cell stays empty and yellow until a person decides; the page shows each crop.
    book = load_workbook(manifest.parent / "scores.xlsx")
    row = next(r for r in book["成绩"].iter_rows(min_row=2) if r[0].value == "20260002")
    assert row[4].value is None and row[4].fill.fgColor.rgb.endswith("FFF2A8")
    page = (manifest.parent / "review.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == len(rows)

    # A correction that is not an answer is refused with its line, and nothing changes.
    for row_ in rows:
        row_["更正"] = {"1": "Z", "2": "B"}.get(row_["题号"], "-")
    _write_review(manifest.parent / "review.csv", rows)
    state = (manifest.parent / "scan.json").read_bytes()
    bad = _scan(manifest, "--review", str(manifest.parent / "review.csv"))
    assert bad.exit_code == 1 and "review.csv:2: 更正 'Z' is not among this question's boxes" in bad.output
    assert (manifest.parent / "scan.json").read_bytes() == state
    rows[0]["更正"] = "c"
    _write_review(manifest.parent / "review.csv", rows)
    good = _scan(manifest, "--review", str(manifest.parent / "review.csv"))
    assert good.exit_code == 0, good.output
    scores = _scores(manifest)["20260002"]
    assert (scores[4], scores[5]) == ("C", "B")
    _check(manifest, truth, skip={("20260002", n) for n in (1, 2, 3)})


def _write_review(path: Path, rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")


def test_a_typed_cell_is_never_overwritten(printed: dict[str, Path], tmp_path: Path) -> None:
    manifest = _copy(printed["class"], tmp_path)
    assert runner.invoke(app, ["scoresheet", str(manifest), "--source", str(SOURCE)]).exit_code == 0
    path = manifest.parent / "scores.xlsx"
    book = load_workbook(path)
    sheet = book["成绩"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "20260001")
    sheet.cell(row=row, column=5, value="D")
    book.save(path)
    pages, truth = _fill(manifest.parent, manifest, seed=3)
    truth["20260001"][1] = "D" if truth["20260001"][1] != "D" else "A"  # make the scan disagree
    (tmp_path / "batch.pdf").write_bytes(sim.as_pdf(pages, DPI))
    result = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert result.exit_code == 0, result.output
    assert "王喆 (20260001), question 1: kept 'D' as typed" in result.output
    assert _scores(manifest)["20260001"][4] == "D"
    assert (manifest.parent / "scores.before-scan-1.xlsx").is_file()  # the edited workbook, as it was


def test_every_identity_problem_is_one_line_and_nothing_is_assigned_silently(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    pages, _ = _fill(manifest.parent, manifest, seed=4)
    stranger, _ = _fill(printed["blank"], printed["blank"] / "manifest.json", seed=4)
    back = np.full((1654, 1169), 235, np.uint8)  # the empty back of a sheet in a duplex scan: skipped
    letter = np.full((1654, 1169), 240, np.uint8)  # a page of something else: refused
    for row in range(200, 1400, 40):
        letter[row : row + 12, 150:1000] = 40
    (tmp_path / "a.pdf").write_bytes(sim.as_pdf([pages[0], back, stranger[0], letter], DPI))
    again = sim.degrade(pages[0], sim.Condition("rescan", DPI, rotation=2), random.Random(1))
    (tmp_path / "b.png").write_bytes(sim.as_png(again))
    result = _scan(manifest, str(tmp_path / "a.pdf"), str(tmp_path / "b.png"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("a.pdf#3: sheet ") and "is not a sheet of exam" in line for line in lines)
    assert "a.pdf#4: found 0 of the 6 alignment marks (at least 3 needed)" in lines
    assert any(line.startswith("b.png: page 1 of sheet ") and "was already read from a.pdf#1" in line for line in lines)
    assert "2 students have no sheet scanned yet: 李堃（20260002）、张犇（20260003）" in lines
    assert any("page 2" in line and "not scanned yet" in line for line in lines)
    assert "1 pages read, 0 seen before, 3 refused, 1 blank skipped" in result.output


def test_a_blank_sheet_is_matched_by_its_kaohao_and_an_unreadable_one_waits(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["blank"], tmp_path)
    # The second student skips a column of the 考号: never read as a shorter number.
    pages, truth = _fill(manifest.parent, manifest, seed=6, **{"20260101": {(-5, "6"): "", (-5, "0"): ""}})
    (tmp_path / "batch.pdf").write_bytes(sim.as_pdf(pages, DPI))
    result = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert result.exit_code == 0, result.output
    assert "考号第 5 列空着，第 6 列却涂了" in result.output
    scores = _scores(manifest)
    assert "20260100" in scores and not any(key.startswith("2026") and key != "20260100" for key in scores)
    rows = list(csv.DictReader(io.StringIO((manifest.parent / "review.csv").read_text(encoding="utf-8-sig"))))
    waiting = [r for r in rows if r["题号"] == "考号"]
    assert len(waiting) == len(pages) // 2 and all(r["读取"] == "2026" for r in waiting)
    for row in waiting:
        row["更正"] = "20260101"
    _write_review(manifest.parent / "review.csv", rows)
    done = _scan(manifest, "--review", str(manifest.parent / "review.csv"))
    assert done.exit_code == 0, done.output
    _check(manifest, truth)


def test_a_page_whose_qr_code_is_torn_is_read_once_its_printed_id_is_typed(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    pages, truth = _fill(manifest.parent, manifest, seed=7)
    torn = pages[0].copy()
    scale = DPI / 25.4
    torn[
        int((QR_AT[1] + 4) * scale) : int((QR_AT[1] + 14) * scale),
        int((QR_AT[0] + 4) * scale) : int((QR_AT[0] + 14) * scale),
    ] = 255
    (tmp_path / "batch.pdf").write_bytes(sim.as_pdf([torn, *pages[1:]], DPI))
    result = _scan(manifest, str(tmp_path / "batch.pdf"))
    assert "batch.pdf#1: its QR code cannot be read; type the id printed under it into review.csv" in result.output
    rows = list(csv.DictReader(io.StringIO((manifest.parent / "review.csv").read_text(encoding="utf-8-sig"))))
    assert [r["题号"] for r in rows] == ["答题卡编号"]
    sheet = next(s for s, h in _record(manifest)["sheets"].items() if h["student_id"] == "20260001")
    rows[0]["更正"] = f"{shown_id(sheet).lower()} · 1"
    _write_review(manifest.parent / "review.csv", rows)
    done = _scan(manifest, "--review", str(manifest.parent / "review.csv"))
    assert done.exit_code == 0, done.output
    _check(manifest, truth)


# ---- hostile input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.pdf", b"%PDF-1.7\n garbage", "not a readable PDF"),
        ("photo.jpg", b"\xff\xd8\xff\xe0 truncated", "not a photo or scan paperkit can read"),
        ("list.txt", "学号,姓名\n".encode(), "not a photo or scan paperkit can read"),
    ],
)
def test_a_file_that_is_not_a_scan_is_one_line_and_nothing_is_written(
    printed: dict[str, Path], tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    (tmp_path / name).write_bytes(data)
    result = _scan(manifest, str(tmp_path / name))
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (manifest.parent / "scan.json").exists() and not (manifest.parent / "scores.xlsx").exists()


def test_a_decompression_bomb_is_refused(printed: dict[str, Path], tmp_path: Path) -> None:
    import zlib

    manifest = _copy(printed["class"], tmp_path)
    width = height = 30000  # 900 megapixels of nothing, a few kB on disk

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (width + 1) * 64)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    result = _scan(manifest, str(tmp_path / "bomb.png"))
    assert result.exit_code == 1 and "bomb.png" in result.output and "Traceback" not in result.output


def test_an_exam_printed_without_sheets_or_a_damaged_record_is_refused(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    manifest = _copy(printed["class"], tmp_path)
    (manifest.parent / "scan.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "x.png").write_bytes(sim.as_png(np.full((200, 200), 255, np.uint8)))
    result = _scan(manifest, str(tmp_path / "x.png"))
    assert result.exit_code == 1 and "scan.json: not a readable scan record" in result.output
    data = json.loads(manifest.read_text(encoding="utf-8"))
    del data["answer_sheet"]
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = _scan(manifest, str(tmp_path / "x.png"))
    assert result.exit_code == 2 and "printed without answer sheets" in result.output


# ---- the 选择题答题表 on the paper ---------------------------------------------------------------------------------


def test_the_answer_grid_lists_every_lettered_question_and_the_notice_points_to_it(tmp_path: Path) -> None:
    args = ["exam", "--source", str(SOURCE), "--modules", "2,3,8", "--seed", "7"]
    args += ["--parts", "choice:12x2,truefalse:4x2,short:1x10"]
    result = runner.invoke(app, [*args, "--answer-grid", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = next(tmp_path.iterdir())
    text = PdfReader(folder / "paper.pdf").pages[0].extract_text()
    assert "选择题答题表" in text.replace(" ", "") and "「选择题答题表」内" in text
    grid = text[text.index("答题表") : text.index("一、")]
    assert [int(n) for n in grid.split() if n.isdigit()] == list(range(1, 17))  # 12 choices, 4 判断; not 17 (简答)
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["answer_grid"] is True
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "p")])
    assert plain.exit_code == 0
    assert "答题表" not in PdfReader(next((tmp_path / "p").iterdir()) / "paper.pdf").pages[0].extract_text()
