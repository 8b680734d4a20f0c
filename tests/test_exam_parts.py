"""Blueprint papers (--parts/--blueprint): typed parts, shuffled options whose keys still point right, fair
variants (--same-questions), make-ups (--exclude), reprints; read back from the PDFs with pypdf."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SOURCE, same_build
from paperkit.errors import ContentError, UsageError
from paperkit.exam.job import build_exam
from paperkit.exam.options import ExamFlags, PartSpec, parse_exam_flags, parse_parts
from paperkit.exam.plan import ExamPlan, plan_exam, plan_from_manifest
from paperkit.questions.choice import printed_answer, printed_order
from paperkit.questions.fill import blanks
from paperkit.questions.kind import LETTERS
from paperkit.text.markup import visible_text
from pdftext import page_texts, squash

PARTS = "choice:10x2,truefalse:5x2,fill:5x2,short:4x10"


def _flat(text: str) -> str:
    return squash(html.unescape(text))


def _pdf_text(path: Path) -> str:
    return _flat("".join(page_texts(path)))


def _plan(out: Path, **flags: object) -> ExamPlan:
    values = {"modules": "2,3,8", "seed": "7", "parts": PARTS, **flags}
    return plan_exam(parse_exam_flags(ExamFlags(**values)), SOURCE, out)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ab(tmp_path_factory: pytest.TempPathFactory) -> ExamPlan:
    plan = _plan(tmp_path_factory.mktemp("parts"), variants="2")
    build_exam(plan)
    return plan


def test_parts_are_parsed_in_paper_order() -> None:
    assert parse_parts("short:4x10, choice:10x2") == (PartSpec("choice", 10, 2), PartSpec("short", 4, 10))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            {"parts": "choice:10"},
            "--parts choice:10: 'choice:10' is not kind:COUNTxPOINTS; write e.g. "
            "choice:10x2,short:4x10 (kinds: choice, multi, truefalse, fill, short, group; a 选做题 short:2x10:choose1, "
            "a 附加题 short:1x10:bonus)",
        ),
        (
            {"parts": "essay:2x5"},
            "--parts essay:2x5: unknown kind 'essay'; kinds are choice, multi, truefalse, fill, short, group",
        ),
        (
            {"parts": "choice:2x2,choice:3x2"},
            "--parts choice:2x2,choice:3x2: choice is listed twice; give each kind once",
        ),
        ({"parts": "choice:2x2", "count": "5"}, "--count 5: the parts set the number of questions; leave --count out"),
        (
            {"parts": "choice:2x2", "total_points": "50"},
            "--total-points 50: the parts set the points (4 in all); leave --total-points out",
        ),
        (
            {"parts": None, "same_questions": True},
            "--same-questions shuffles typed parts; give --parts or --blueprint too",
        ),
        (
            {"shuffle_options": "student"},
            "--shuffle-options student gives each student of a roster an own option order; "
            "give --roster and --parts (or --blueprint) too",
        ),
        ({"shuffle_options": "page"}, "--shuffle-options page: expected variant (one order per paper) or student"),
        (
            {"parts": "multi:9x4"},
            "--parts multi:9x4: modules 2,3,8 hold 6 multi items held back for exams (2: 2, 3: 2, 8: 2); ask for "
            "fewer, add modules or draw from --pool all",
        ),
    ],
)
def test_bad_parts_are_one_line(tmp_path: Path, flags: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        _plan(tmp_path, **flags)
    assert str(caught.value) == message


def test_a_blueprint_file_gives_the_same_parts_and_located_errors(tmp_path: Path) -> None:
    good = tmp_path / "bp.yaml"
    good.write_text("parts:\n- kind: short\n  count: 4\n  points: 10\n- kind: choice\n  count: 10\n  points: 2\n")
    options = parse_exam_flags(ExamFlags(modules="2", blueprint=good))
    assert options.parts == (PartSpec("choice", 10, 2), PartSpec("short", 4, 10))
    bad = tmp_path / "bad.yaml"
    bad.write_text("parts:\n- kind: essay\n  count: 4\n  points: 10\n- kind: choice\n  count: 0\n  points: 2\n")
    with pytest.raises(ContentError) as caught:
        parse_exam_flags(ExamFlags(modules="2", blueprint=bad))
    assert caught.value.lines()[:2] == [
        f"{bad}:2:9: parts[0].kind: unknown kind 'essay'; expected one of choice, multi, truefalse, fill, short, group",
        f"{bad}:6:10: parts[1].count: expected a whole number ≥ 1, got 0",
    ]
    # a 组合题 part is a blueprint part too (as --parts group:1x12 is), but not a 选做题
    grouped = tmp_path / "group.yaml"
    grouped.write_text("parts:\n- kind: choice\n  count: 2\n  points: 3\n- kind: group\n  count: 1\n  points: 12\n")
    assert parse_exam_flags(ExamFlags(modules="2", blueprint=grouped)).parts[-1] == PartSpec("group", 1, 12)
    grouped.write_text("parts:\n- kind: group\n  count: 2\n  points: 12\n  choose: 1\n")
    with pytest.raises(ContentError) as caught:
        parse_exam_flags(ExamFlags(modules="2", blueprint=grouped))
    assert caught.value.lines()[0] == f"{grouped}:5:11: parts[0].choose: a 选做题 of 组合题 is not supported yet; " + (
        "make it a counted part or a 附加题"
    )


def test_headings_totals_and_the_variant_box(ab: ExamPlan) -> None:
    for variant in "AB":
        text = _pdf_text(ab.out_dir / f"paper-{variant}.pdf")
        for heading in (
            "一、选择题（本大题共10小题，每小题2分，共20分）",
            "二、判断题（本大题共5小题，每小题2分，共10分）",
            "三、填空题（本大题共5小题，每小题2分，共10分）",
            "四、简答题（本大题共4小题，每小题10分，共40分）",
        ):
            assert heading in text
        assert "满分：80分" in text and f"{variant}卷" in text
        assert "题号一二三四总分得分评卷人" in text and "复核人" in text
    assert json.loads((ab.out_dir / "manifest.json").read_text())["total_points"] == 80


def test_every_choice_key_points_at_the_right_option_after_shuffling(ab: ExamPlan) -> None:
    moved = 0
    for variant, exam in ab.exams.items():
        paper = _pdf_text(ab.out_dir / f"paper-{variant}.pdf")
        key = _pdf_text(ab.out_dir / f"key-{variant}.pdf")
        for q in exam.questions:
            item = q.question.item
            if item.kind != "choice":
                continue
            letter = printed_answer(q)
            original = item.options[LETTERS.index(item.answer)]
            assert item.options[printed_order(q)[LETTERS.index(letter)]] == original
            assert f"{letter}.{_flat(visible_text(original))}"[:12] in paper, (variant, item.id)
            assert re.search(rf"{q.number}{letter}出自", key), (variant, item.id)
            moved += letter != item.answer
    assert moved >= 5  # the options really were shuffled


def test_no_answer_is_printed_on_a_paper(ab: ExamPlan) -> None:
    for variant, exam in ab.exams.items():
        paper = _pdf_text(ab.out_dir / f"paper-{variant}.pdf")
        assert "参考答案" not in paper and "评分要点" not in paper
        for q in exam.questions:
            item = q.question.item
            if item.why:
                assert _flat(visible_text(item.why)) not in paper
            for answers in blanks(item.q) if item.kind == "fill" else []:
                assert f"[[{answers[0]}" not in paper
            if item.kind == "short":
                assert _flat(visible_text(item.a)) not in paper


def test_same_questions_gives_every_variant_the_same_items(tmp_path: Path) -> None:
    plan = _plan(tmp_path, variants="2", same_questions=True)
    a, b = ([q.question.id for q in plan.exams[v].questions] for v in "AB")
    assert sorted(a) == sorted(b) and a != b
    different = _plan(tmp_path, variants="2")
    assert sorted(q.question.id for q in different.exams["A"].questions) != sorted(
        q.question.id for q in different.exams["B"].questions
    )


def test_a_make_up_never_reuses_the_first_exams_items(ab: ExamPlan, tmp_path: Path) -> None:
    first = {q.question.id for e in ab.exams.values() for q in e.questions}
    # The A/B paper used most of the held-back choice items: a make-up also draws on the handbook's own.
    makeup = _plan(
        tmp_path, seed="8", parts="choice:4x2,truefalse:2x2", pool="all", exclude=(ab.out_dir / "manifest.json",)
    )
    assert not first & {q.question.id for q in makeup.exams["A"].questions}
    assert re.search(r"_p[0-9a-f]{6}_x[0-9a-f]{6}(_h[0-9a-f]{6})?$", makeup.out_dir.name)
    short_answers = _plan(tmp_path, seed="8", parts=None, count="3", exclude=(ab.out_dir / "manifest.json",))
    assert short_answers.out_dir.name.startswith("m2-3-8_s8_n3_x")  # a make-up never shares a folder
    with pytest.raises(UsageError) as caught:
        _plan(tmp_path, parts="choice:10x2", exclude=(ab.out_dir / "manifest.json",))
    assert str(caught.value).startswith("--parts choice:10x2: modules 2,3,8 hold ")
    assert "choice items held back for exams left after --exclude (2: " in str(caught.value)


def test_a_blueprint_exam_reprints_byte_for_byte(ab: ExamPlan, tmp_path: Path) -> None:
    plan = plan_from_manifest(ab.out_dir / "manifest.json", SOURCE, tmp_path)
    assert plan.warnings == ()
    build_exam(plan)
    for name in ("paper-A.pdf", "key-A.pdf", "paper-B.pdf", "key-B.pdf", "manifest.json"):
        assert same_build(plan.out_dir / name, ab.out_dir / name), name


def _positions(path: Path, page: int, needle: str, turned: bool = True) -> list[float]:
    """The x positions (pt) where text containing `needle` is drawn on a page (only turned text, if `turned`)."""
    xs: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if needle in text and (not turned or cm[0] == 0):
            xs.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])

    PdfReader(path).pages[page].extract_text(visitor_text=visit)
    return xs


@pytest.mark.slow
def test_the_seal_line_is_on_the_binding_edge_of_every_side(tmp_path: Path) -> None:
    plan = _plan(tmp_path, seal_line=True, seal_fields="考场号,座位号")
    build_exam(plan)
    paper = plan.out_dir / "paper.pdf"
    reader = PdfReader(paper)
    width = float(reader.pages[0].mediabox.width)
    assert len(reader.pages) >= 3
    for index in range(len(reader.pages)):
        text = _flat(reader.pages[index].extract_text())
        if text == "本页无试题":  # the page that makes whole sheets (test_print_polish) carries no seal
            continue
        mark = "密" if index % 2 == 0 else "装"
        xs = _positions(paper, index, mark)
        assert xs, (index, text[:40])
        # odd pages (index 0, 2…): on the left edge; even pages (the backs): on the right edge
        assert all(x < 0.15 * width for x in xs) if index % 2 == 0 else all(x > 0.85 * width for x in xs), index
    first = _flat(reader.pages[0].extract_text())
    assert "考场号" in first and "座位号" in first
    assert "姓名：" not in first  # with a seal line, the names go only inside it
    assert "密" not in _flat(PdfReader(plan.out_dir / "key.pdf").pages[0].extract_text())


@pytest.mark.slow
def test_seal_pages_first_puts_it_on_page_one_only(tmp_path: Path) -> None:
    plan = _plan(tmp_path, seal_line=True, seal_pages="first")
    build_exam(plan)
    paper = plan.out_dir / "paper.pdf"
    assert _positions(paper, 0, "密")
    for index in range(1, len(PdfReader(paper).pages)):
        assert _positions(paper, index, "密") == _positions(paper, index, "装") == [], index


@pytest.mark.slow
def test_the_page_of_footer_stays_on_one_line_beside_a_long_paper_id(tmp_path: Path) -> None:
    """A roster's paper id (parts, options and class in it) is long; 「第 1 页 共 4 页」 beside it once broke
    before its last 页."""
    (tmp_path / "class.csv").write_text("姓名,学号\n张三,2024001\n", encoding="utf-8")
    plan = _plan(tmp_path, variants="2", seal_line=True, roster=tmp_path / "class.csv")
    build_exam(plan)
    assert len(plan.manifest.exam_id) > 30
    paper = PdfReader(next((plan.out_dir / "students").iterdir()))
    for number, page in enumerate(paper.pages, start=1):
        footer = f"第 {number} 页 共 {len(paper.pages)} 页"
        assert any(line.startswith(footer) for line in page.extract_text().splitlines()), number


@pytest.mark.slow
def test_a3_puts_two_columns_on_each_landscape_side_in_duplex_order(tmp_path: Path) -> None:
    plan = _plan(tmp_path, paper="A3", seal_line=True)
    build_exam(plan)
    paper = plan.out_dir / "paper.pdf"
    sides = PdfReader(paper).pages
    assert [
        (round(float(p.mediabox.width) * 25.4 / 72), round(float(p.mediabox.height) * 25.4 / 72)) for p in sides
    ] == [(420, 297)] * len(sides)
    width = float(sides[0].mediabox.width)
    columns = 2 * len(sides)
    for index in range(len(sides)):
        text = _flat(sides[index].extract_text())
        if text.replace("本页无试题", "") == "":  # padding to whole duplex sheets (test_print_polish)
            continue
        left, right = 2 * index + 1, 2 * index + 2
        assert f"第{left}页共" in text
        for number, half in ((left, 0), (right, 1)):
            if number <= columns and f"第{number}页" in text:
                xs = _positions(paper, index, f"第 {number} 页", turned=False)
                assert xs and all(half * width / 2 < x < (half + 1) * width / 2 for x in xs), (number, xs)
    # the binding edge: the front's left (page 1) and the back's right (page 4)
    assert all(x < 0.1 * width for x in _positions(paper, 0, "密"))
    assert all(x > 0.9 * width for x in _positions(paper, 1, "装"))
    key = PdfReader(plan.out_dir / "key.pdf").pages[0]
    assert round(float(key.mediabox.width) * 25.4 / 72) == 210  # the key stays on A4


def _chain_bank() -> dict[int, tuple]:
    from paperkit.content.models import Exercise
    from paperkit.questions import bank as qb

    def item(n: int, follows: str = "") -> qb.Question:
        return qb.Question(f"1.1.c{n}", 1, "1.1", "节", Exercise(f"1.1.c{n}", "choice", "问", follows=follows))

    return {1: (item(1), item(2), item(3, "1.1.c2"), item(4, "1.1.c3"), item(5), item(6))}


@pytest.mark.parametrize("seed", range(12))
def test_follows_chains_are_drawn_whole_and_in_order(seed: int) -> None:
    from paperkit.exam import select as sel

    bank = _chain_bank()
    pools = {1: sel.units(list(bank[1]))}
    assert ("1.1.c2", "1.1.c3", "1.1.c4") in pools[1]
    for count in (1, 3, 4, 6):
        chosen = sel.select_units(pools, count, seed, "A")
        assert len(chosen) == len(set(chosen)) == count
        if "1.1.c2" in chosen or "1.1.c3" in chosen:
            start = chosen.index("1.1.c2")
            assert chosen[start : start + 3] == ["1.1.c2", "1.1.c3", "1.1.c4"]
        by_id = {q.id: q for q in bank[1]}
        again = sel.reorder(chosen, by_id, seed, "B", [len(chosen)])
        assert sorted(again) == sorted(chosen)
        if "1.1.c2" in again:
            start = again.index("1.1.c2")
            assert again[start : start + 3] == ["1.1.c2", "1.1.c3", "1.1.c4"]


def test_without_chains_units_select_exactly_like_questions(ab: ExamPlan) -> None:
    from paperkit.exam import select as sel

    pools = {m: [f"{m}.1.q{i}" for i in range(1, 9)] for m in (2, 3, 8)}
    as_units = {m: [(qid,) for qid in ids] for m, ids in pools.items()}
    for seed in range(5):
        assert sel.select_units(as_units, 10, seed, "A") == sel.select_questions(pools, 10, seed, "A")


@pytest.mark.slow
def test_per_student_options_and_their_answer_table(tmp_path: Path) -> None:
    roster = tmp_path / "class.csv"
    roster.write_text("姓名,学号\n张三,001\n李四,002\n王五,003\n赵六,004\n", encoding="utf-8")
    plan = _plan(
        tmp_path,
        modules="2,3",
        seed="3",
        parts="choice:6x2,short:1x10",
        variants="2",
        roster=roster,
        shuffle_options="student",
    )
    build_exam(plan)
    manifest = json.loads((plan.out_dir / "manifest.json").read_text(encoding="utf-8"))
    table = _pdf_text(plan.out_dir / "keys.pdf")
    orders = set()
    for student, record in zip(plan.students, manifest["students"], strict=True):
        exam = plan.student_exams[student.student_id]
        paper = _pdf_text(plan.out_dir / f"students/{student.student_id}-{student.name}.pdf")
        letters = ""
        for q in exam.questions:
            item = q.question.item
            if item.kind != "choice":
                continue
            letter = printed_answer(q)
            letters += letter
            original = item.options[LETTERS.index(item.answer)]
            assert f"{letter}.{_flat(visible_text(original))}"[:12] in paper, (student.student_id, item.id)
            assert record["options"][item.id] == "".join(LETTERS[i] for i in q.order)
        assert f"{student.student_id}{student.name}{student.variant}{letters}" in table
        orders.add(tuple(sorted(record["options"].items())))
    assert len(orders) == 4  # every student has an own order
    again = plan_from_manifest(plan.out_dir / "manifest.json", SOURCE, tmp_path / "again")
    build_exam(again)
    assert (again.out_dir / "keys.pdf").read_bytes() == (plan.out_dir / "keys.pdf").read_bytes()
    assert (again.out_dir / "students/001-张三.pdf").read_bytes() == (
        plan.out_dir / "students/001-张三.pdf"
    ).read_bytes()
