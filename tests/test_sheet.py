"""The answer sheet's geometry and the reader's decisions (issue 27), without rendering: every question has its
boxes, nothing overlaps or runs into the marks, the QR payload carries only an id, and a box or a question is
decided filled, empty or unclear by the documented rules."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import SOURCE
from paperkit.errors import UsageError
from paperkit.exam.manifest import manifest_json, read_manifest
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam
from paperkit.exam.sheet import (
    BODY_BOTTOM,
    ID_DIGITS,
    MARKER,
    MARKER_BITS,
    MARKERS,
    PAGE_W,
    QR_AT,
    QR_SIZE,
    Box,
    SheetLayout,
    check_digits,
    layout_from_data,
    qr_payload,
    read_payload,
    sheet_id,
)
from paperkit.marking.scanpage import _read_id
from paperkit.marking.sheetread import Reading, decide, decide_question

PARTS = "choice:10x2,multi:4x4,truefalse:5x2,fill:5x2,short:4x10"


def planned(tmp_path: Path, roster: bool, parts: str = PARTS) -> dict:
    """The manifest of a planned exam with answer sheets (nothing rendered)."""
    flags = ExamFlags(modules="2,3,8", seed="7", parts=parts, variants="2", answer_sheet=True)
    if roster:
        path = tmp_path / "roster.csv"
        path.write_text("姓名,学号\n张三,2026001\n李四,2026002\n", encoding="utf-8")
        flags = ExamFlags(**{**flags.__dict__, "roster": path})
    plan = plan_exam(parse_exam_flags(flags), SOURCE, tmp_path)
    return json.loads(manifest_json(plan.manifest))


def test_the_markers_are_opencvs_own() -> None:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    for marker, rows in enumerate(MARKER_BITS):
        image = dictionary.generateImageMarker(marker, 6)  # one pixel per cell: border + 4×4 bits
        bits = tuple("".join("1" if image[1 + r, 1 + c] > 127 else "0" for c in range(4)) for r in range(4))
        assert bits == rows, marker


def test_the_qr_code_holds_an_opaque_id_and_a_check() -> None:
    sheet = sheet_id("m2-3-8_s7_n28", "2026001")
    assert len(sheet) == 8 and "2026001" not in sheet and sheet == sheet_id("m2-3-8_s7_n28", "2026001")
    assert sheet != sheet_id("m2-3-8_s7_n28", "2026002") != sheet_id("m2-3-8_s8_n28", "2026001")
    payload = qr_payload(sheet, 2)
    assert payload == f"PK1-{sheet}-2-{check_digits(f'PK1-{sheet}-2')}"
    assert read_payload(payload) == (sheet, 2)
    for index, char in enumerate(payload):  # any one character misread fails the check (or the format)
        if char == "-":
            continue
        for other in "A7Z2":
            if other != char:
                assert read_payload(payload[:index] + other + payload[index + 1 :]) is None, (index, other)
    for foreign in ("https://example.org", "PK1-ABC", "", "PK2-" + payload[4:]):
        assert read_payload(foreign) is None


def _overlap(a: Box, b: Box) -> bool:
    return a.page == b.page and a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


@pytest.mark.parametrize("roster", [True, False], ids=["per student", "blank with 考号"])
def test_every_question_has_its_boxes_and_nothing_collides(tmp_path: Path, roster: bool) -> None:
    data = planned(tmp_path, roster)
    record = data["answer_sheet"]
    assert set(record["layouts"]) == {"A", "B"}
    if roster:
        assert sorted(h["student_id"] for h in record["sheets"].values()) == ["2026001", "2026002"]
    else:
        assert sorted(h["variant"] for h in record["sheets"].values()) == ["A", "B"]
    for variant, raw in record["layouts"].items():
        layout = layout_from_data(raw)
        paper = data["papers"][variant]
        questions = layout.questions()
        assert sorted(questions) == list(range(1, len(paper["questions"]) + 1))
        for number, points in enumerate(paper["points"], start=1):
            values = sorted(b.value for b in questions[number])
            area = [a for a in layout.areas if a.number == number]
            if area:  # a written answer: a score strip 0…points and ½ inside its area
                assert area[0].points == points
                assert sorted(float(v) for v in values) == sorted([0.5, *range(points + 1)]), number
                assert all(area[0].x < b.x and b.x + b.w < area[0].x + area[0].w for b in questions[number])
            else:  # bubbles: letters for choices, T/F for 判断
                assert values in (["A", "B", "C", "D"], ["A", "B", "C", "D", "E"], ["F", "T"]), (number, values)
        # One box answers a 单选 or a 判断 (ids …ec…, …et…), several a 多选.
        kinds = {n: qid.split(".")[2][:2] for n, qid in enumerate(paper["questions"], start=1)}
        assert set(layout.singles) == {n for n, kind in kinds.items() if kind in ("ec", "et")}
        for a, b in combinations(layout.boxes, 2):
            assert not _overlap(a, b), (a, b)
        marks = [Box(p, x, y, MARKER, MARKER, "m") for p in range(1, layout.pages + 1) for x, y in MARKERS]
        qr = [Box(p, QR_AT[0], QR_AT[1], QR_SIZE, QR_SIZE + 4, "qr") for p in range(1, layout.pages + 1)]
        for box in layout.boxes:
            assert box.x > 15 and box.x + box.w < PAGE_W - 15 and box.y + box.h < BODY_BOTTOM, box
            assert not any(_overlap(box, other) for other in [*marks, *qr]), box
        for area in layout.areas:
            assert area.y + area.h <= BODY_BOTTOM and area.x >= 15 and area.x + area.w <= PAGE_W - 15
        ids = [b for b in layout.boxes if b.field == "id"]
        assert len(ids) == (0 if roster else ID_DIGITS * 10 * layout.pages)  # the 考号 grid on every page


def test_the_manifest_layout_is_checked_where_it_is_read(tmp_path: Path) -> None:
    data = planned(tmp_path, roster=False, parts="choice:3x2")
    del data["answer_sheet"]["layouts"]["A"]["boxes"][0]["x"]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(UsageError, match="answer_sheet"):
        read_manifest(path, flag="MANIFEST")
    with pytest.raises(ValueError):
        layout_from_data({"pages": 1, "boxes": [{"page": 1}], "areas": []})


# ---- decisions --------------------------------------------------------------------------------------------------


def _reading(value: str, coverage: float, ink: float, number: int = 1, field: str = "q") -> Reading:
    state, confidence = decide(coverage, ink)
    return Reading(Box(1, 0, 0, 5, 3, field, number, value, value), coverage, ink, state, confidence)


FULL, EMPTY, FAINT, RESIDUE = (0.95, 0.6), (0.01, 0.01), (0.45, 0.2), (0.03, 0.1)


def test_a_box_is_filled_empty_or_unclear_never_a_guess() -> None:
    assert decide(*FULL)[0] == "filled" and decide(*EMPTY)[0] == "empty"
    for middle in (FAINT, (0.8, 0.15), (0.3, 0.3), (0.69, 0.9)):
        assert decide(*middle) == ("unclear", 0.0), middle
    assert decide(0.99, 0.9)[1] > decide(0.75, 0.3)[1] >= 0.5  # further from a threshold, more confident


@pytest.mark.parametrize(
    ("marks", "single", "value", "status"),
    [
        ({"B": FULL}, True, "B", "read"),
        ({}, True, "", "blank"),
        ({"B": FULL, "D": FULL}, True, "BD", "review"),  # one answer expected, two marked
        ({"B": FULL, "D": FULL}, False, "BD", "read"),  # a 多选 answer
        ({"B": FULL, "C": FAINT}, False, "B", "review"),  # a faint mark is never decided either way
        ({"B": FULL, "A": RESIDUE}, True, "B", "read"),  # what an eraser leaves beside a clear mark
        ({"A": RESIDUE}, True, "", "review"),  # only an erased mark: did the student mean to leave it blank?
    ],
)
def test_a_question_is_decided_from_its_boxes(marks: dict, single: bool, value: str, status: str) -> None:
    readings = [_reading(v, *marks.get(v, EMPTY)) for v in "ABCD"]
    answer = decide_question(1, readings, single, strip=False)
    assert (answer.value, answer.status) == (value, status)
    assert answer.confidence == 0.0 if status == "review" else answer.confidence >= 0.5


@pytest.mark.parametrize(
    ("marked", "value", "status"),
    [
        (["7"], "7", "read"),
        (["7", "0.5"], "7.5", "read"),
        (["0.5"], "0.5", "read"),
        (["10", "2"], "12", "read"),  # tens and units on a strip of more than ten points
        (["3", "5"], "", "review"),  # two units: never added up
        ([], "", "unmarked"),  # not scored yet: the cell stays empty
    ],
)
def test_a_score_strip_reads_the_points_the_teacher_marked(marked: list[str], value: str, status: str) -> None:
    values = [str(v) for v in range(10)] + ["10", "0.5"]
    readings = [_reading(v, *(FULL if v in marked else EMPTY)) for v in values]
    answer = decide_question(1, readings, single=False, strip=True)
    assert answer.status == status
    if status == "read":
        assert answer.value == value


def test_the_kaohao_grid_reads_digits_and_never_closes_a_gap() -> None:
    def grid(digits: str) -> list[Reading]:
        return [
            _reading(str(d), *(FULL if c < len(digits) and digits[c] == str(d) else EMPTY), number=c, field="id")
            for c in range(ID_DIGITS)
            for d in range(10)
        ]

    assert _read_id(grid("20260107"), ID_DIGITS) == ("20260107", "")
    assert _read_id(grid(""), ID_DIGITS)[1] == "未涂考号"
    assert _read_id(grid("2026 7"), ID_DIGITS) == ("2026", "考号第 5 列空着，第 6 列却涂了")
    doubled = [*grid("2026"), _reading("5", *FULL, number=1, field="id")]
    assert _read_id(doubled, ID_DIGITS) == ("2", "考号第 2 列涂得不清")


def test_a_layout_round_trips_through_the_manifest(tmp_path: Path) -> None:
    data = planned(tmp_path, roster=True, parts="choice:3x2,short:1x10")
    raw = data["answer_sheet"]["layouts"]["A"]
    layout = layout_from_data(raw)
    assert isinstance(layout, SheetLayout) and layout.as_data() == raw
    assert np.isclose(sum(b.w for b in layout.boxes if b.field == "q" and b.number == 1), 4 * 5.2)
