"""Print polish, round 2 (issue 30): what a teacher's red pen found, checked on the laid-out boxes and the PDFs."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner
from weasyprint.formatting_structure import boxes

from conftest import SOURCE
from layout import classes, walk
from paperkit import cli
from paperkit.exam.job import Job, build_exam, document_of
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.paper import quick_answers
from paperkit.exam.plan import ExamPlan, plan_exam
from paperkit.questions.kind import Layout
from paperkit.render.document import LaidOut, lay_out_document
from paperkit.render.page import geometry_for

PARTS = "choice:10x2,multi:4x4,truefalse:5x2,fill:5x2,short:4x10"


def _plan(out: Path, **flags: object) -> ExamPlan:
    given = {"modules": "2,3,8", "seed": "7", **flags}
    return plan_exam(parse_exam_flags(ExamFlags(**given)), SOURCE, out)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> LaidOut:
    """Paper A of a mid-term with every kind, laid out (not written)."""
    plan = _plan(tmp_path_factory.mktemp("paper"), parts=PARTS, variants="2", seal_line=True)
    template, css, context, page = document_of(plan, Job("paper", "A"))
    return lay_out_document(template, css, context, page)


def _blocks(laid: LaidOut, name: str) -> list[tuple[int, object]]:
    """(page number, block box) for every block with the class `name`."""
    return [
        (number, box)
        for number, page in enumerate(laid.document.pages, start=1)
        for box in walk(page._page_box)
        if isinstance(box, boxes.BlockBox) and name in classes(box) and not box.is_floated()
    ]


def _lines(box: object) -> list[object]:
    return [child for child in box.children if isinstance(child, boxes.LineBox)]  # type: ignore[attr-defined]


def _text(box: object) -> str:
    return "".join(b.text for b in walk(box) if isinstance(b, boxes.TextBox))


def test_wrapped_question_lines_hang_under_the_stem(paper: LaidOut) -> None:
    """exam-zh sets the number in the margin of its own text: line 2 starts where the stem starts, not under 1."""
    wrapped = 0
    for _, prompt in _blocks(paper, "prompt"):
        lines = _lines(prompt)
        if len(lines) < 2:
            continue
        wrapped += 1
        em = prompt.style["font_size"]  # type: ignore[attr-defined]
        # A line box spans the content width; where its text starts is its first box (the number on line 1).
        first, *rest = (line.children[0].position_x for line in lines)
        assert all(abs(x - first - 1.9 * em) < 0.5 for x in rest), _text(prompt)[:20]
    assert wrapped >= 5


def test_the_answer_bracket_ends_the_last_line_at_the_right(paper: LaidOut) -> None:
    """The 判断/选择 bracket sits at the right end of the stem's last line; a new line only when that one is full."""
    seen = 0
    for _, prompt in _blocks(paper, "prompt"):
        brackets = [b for b in walk(prompt) if "answer-bracket" in classes(b) and b.is_floated()]
        if not brackets:
            continue
        seen += 1
        (bracket,) = brackets
        right = prompt.content_box_x() + prompt.width  # type: ignore[attr-defined]
        assert abs(bracket.position_x + bracket.margin_width() - right) < 1, _text(prompt)[:20]
        last = _lines(prompt)[-1]
        inside = {id(b) for b in walk(bracket)}
        used = max(
            b.position_x + b.margin_width() for b in walk(last) if isinstance(b, boxes.TextBox) and id(b) not in inside
        )
        if used + bracket.margin_width() <= right:
            assert abs(bracket.position_y - last.position_y) < 1, _text(prompt)[:20]
        else:  # a full last line: the bracket alone on the next, still at the right
            assert bracket.position_y >= last.position_y + last.height - 1
    assert seen == 19  # 10 单选 + 4 多选 + 5 判断


def test_no_option_leaves_one_character_on_a_line(paper: LaidOut) -> None:
    """Two-per-row options wrapped and left 「合」 alone: the columns now count the indent and the letter."""
    options = _blocks(paper, "option")
    assert len(options) >= 50
    for _, option in options:
        lines = _lines(option)
        if len(lines) > 1:
            tail = "".join(b.text for b in walk(lines[-1]) if isinstance(b, boxes.TextBox)).strip()
            assert len(tail) > 1, _text(option)


def test_option_columns_count_the_indent_the_letter_and_the_gap() -> None:
    from paperkit.questions.choice import option_columns

    # 19 characters fit a half line of 45 only without the indent and the letter: one column.
    long = ("两个阶段都关闭，因为大模型不会过拟合", "两个阶段都调高，因为模型越大越易过拟合", "甲", "乙")
    assert option_columns(long, 45) == 1
    assert option_columns(("预训练时调高以防过拟合", "乙", "丙", "丁"), 45) == 2
    assert option_columns(("8H", "4H", "16H", "2H"), 45) == 4


def test_the_key_opens_with_the_answer_line_and_never_splits_a_row(tmp_path: Path) -> None:
    plan = _plan(tmp_path, parts=PARTS, variants="2")
    runs = quick_answers(plan.exams["A"], Layout(45))
    # 1–5, 6–10 as five letters; each 多选 alone; the five 判断 as √/×.
    assert [r.split(" ")[0] for r in runs] == ["1–5", "6–10", "11.", "12.", "13.", "14.", "15–19"]
    assert all(re.fullmatch(r"[A-D]{5}", r.split(" ")[1]) for r in runs[:2])
    assert re.fullmatch(r"[√×]{5}", runs[-1].split(" ")[1])
    build_exam(plan)
    key = PdfReader(plan.out_dir / "key-A.pdf")
    first = re.sub(r"\s+", "", key.pages[0].extract_text())
    assert "答案速查" + "".join(r.replace(" ", "") for r in runs) in first
    # The line says what the paper's own printed letters are (after shuffling), and √/× as the statements are.
    from paperkit.questions.choice import printed_answer
    from paperkit.questions.truefalse import is_true

    letters = {
        q.number: printed_answer(q) if q.question.item.options else ("√" if is_true(q.question.item) else "×")
        for q in plan.exams["A"].questions
        if q.question.kind in ("choice", "multi", "truefalse")
    }
    for run in runs:
        head, answers = run.split(" ")
        start = int(head.split("–")[0].rstrip("."))
        if "–" in head:
            assert [letters[start + i] for i in range(len(answers))] == list(answers)
        else:
            assert letters[start] == answers
    # No 题号 row of a key table starts on one page and ends on the next.
    template, css, context, page = document_of(plan, Job("key", "A"))
    laid = lay_out_document(template, css, context, page)
    rows = [
        (n, id(b.element))
        for n, p in enumerate(laid.document.pages)
        for b in walk(p._page_box)
        if isinstance(b, boxes.TableRowBox) and b.children and b.children[0].element.tag == "td"  # not the header
    ]
    pages_of: dict[int, set[int]] = {}
    for n, element in rows:
        pages_of.setdefault(element, set()).add(n)
    assert rows and all(len(pages) == 1 for pages in pages_of.values())


def test_a_paper_with_an_odd_page_count_is_padded_to_whole_sheets(tmp_path: Path) -> None:
    """40 copies of a 3-page paper printed duplex: every second copy started on the back of the one before."""
    plan = _plan(tmp_path)  # the default paper: ten 简答题 on three pages and a bit
    build_exam(plan)
    reader = PdfReader(plan.out_dir / "paper.pdf")
    assert len(reader.pages) % 2 == 0
    texts = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    printed = max(int(n) for n in re.findall(r"共(\d+)页", texts[0]))
    assert printed < len(reader.pages) or printed % 2 == 0
    for text in texts[printed:]:
        assert text == "本页无试题"


@pytest.mark.parametrize(("paper", "sheet"), [("A3", (420, 297)), ("B4", (364, 257)), ("8K", (390, 270))])
def test_two_up_sheets_print_whole_duplex_sheets_flipped_on_the_short_edge(
    tmp_path: Path, paper: str, sheet: tuple[int, int]
) -> None:
    plan = _plan(tmp_path, parts="choice:10x2,short:4x10", paper=paper)
    build_exam(plan)
    reader = PdfReader(plan.out_dir / "paper.pdf")
    sides = reader.pages
    assert len(sides) % 2 == 0
    sizes = {(round(float(p.mediabox.width) * 25.4 / 72), round(float(p.mediabox.height) * 25.4 / 72)) for p in sides}
    assert sizes == {sheet}
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/Duplex"] == "/DuplexFlipShortEdge"
    assert "短边翻转" in reader.metadata["/Subject"]


def test_eight_kai_is_the_chinese_name_of_8k() -> None:
    assert geometry_for("8开", two_up=True) == geometry_for("8K", two_up=True)
    assert geometry_for("8k", two_up=True).sheet == (390.0, 270.0)
    assert geometry_for("B4", two_up=True).width_mm == 182.0


def test_exam_help_tells_the_truth() -> None:
    shown = re.sub(r"\s+", " ", CliRunner().invoke(cli.app, ["exam", "--help"], terminal_width=200).output)
    for words in ("A3", "B4", "8K", "短边翻转", "GB18030", ".xlsx", "right on even"):
        assert words in shown, words


def test_every_blank_of_a_part_is_one_length(paper: LaidOut) -> None:
    """Sized to its answer, a blank told the student how long the answer was (「6 N」 9 em, a formula 6 em)."""
    blanks = [
        b
        for page in paper.document.pages
        for b in walk(page._page_box)
        if isinstance(b, boxes.InlineBlockBox) and "fill-blank" in classes(b)
    ]
    assert len(blanks) >= 5
    widths = {round(b.width, 1) for b in blanks}
    assert len(widths) == 1
    assert widths.pop() >= 6 * blanks[0].style["font_size"] - 0.5


def test_papers_print_a_short_code_and_keep_the_exam_id_in_the_file(tmp_path: Path) -> None:
    """The hash-like exam id on every student's page read as noise and wrapped the footer: a 4-character code."""
    from paperkit.exam.paper import paper_code

    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}", paper_code("m2-3-8_s7_n10"))
    assert paper_code("m2-3-8_s7_n10") != paper_code("m2-3-8_s7_n11")
    assert re.fullmatch(r"1209-[0-9A-Z]{4}", paper_code("m2-3-8_s7_n10", "2026-12-09"))
    (tmp_path / "class.csv").write_text("姓名,学号\n阿依古丽·买买提,2026000123\n王喆,2026000124\n", encoding="utf-8")
    plan = _plan(tmp_path, parts="choice:10x2,short:4x10", paper="A3", roster=tmp_path / "class.csv")
    build_exam(plan)
    paper = plan.out_dir / "students" / "2026000123-阿依古丽-买买提.pdf"
    reader = PdfReader(paper)
    assert reader.metadata["/Keywords"] == plan.manifest.exam_id
    code = paper_code(plan.manifest.exam_id)
    assert "请核对试卷上印好的姓名、学号和班级" in re.sub(r"\s+", "", reader.pages[0].extract_text())
    for side in reader.pages:
        text = side.extract_text()
        if "本页无试题" in text and "第" not in text:
            continue
        assert plan.manifest.exam_id not in text
        # The footer on one line, apart from 「第 N 页 共 M 页」: the code, the variant, the 学号 together.
        assert f"{code} · A 卷 · 2026000123" in text, text[-80:]


def test_an_unusual_full_mark_is_said_once_on_the_terminal(tmp_path: Path) -> None:
    from paperkit.exam.plan import plan_exam as plan

    def planned(parts: str) -> ExamPlan:
        return plan(parse_exam_flags(ExamFlags(modules="2,3,8", seed="7", parts=parts)), SOURCE, tmp_path)

    odd = planned("choice:10x2,short:4x10")
    assert [w for w in odd.warnings if "满分" in w] == [
        "this paper's 满分 is 60 points, not the usual 100, 120, 150; "
        "check --parts (or --total-points) if that is not what you meant"
    ]
    usual = plan(
        parse_exam_flags(ExamFlags(modules="2,3,8", seed="7", parts="choice:10x2,short:8x10")), SOURCE, tmp_path
    )
    assert not [w for w in usual.warnings if "满分" in w]
    result = CliRunner().invoke(
        cli.app,
        ["exam", "--source", str(SOURCE), "--modules", "2,3,8", "--parts", "choice:5x2", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("满分 is 10 points") == 1


def test_seal_fields_are_sized_from_their_content_and_never_wrap(tmp_path: Path) -> None:
    """19 mm write-in lines were too short for a 10-digit 学号, and 阿依古丽·买买提 wrapped across its rule."""
    long_name = "阿依古丽·买买提·艾尔肯江"
    (tmp_path / "class.csv").write_text(f"姓名,学号,班级\n{long_name},2026000123,高一(3)班\n", encoding="utf-8")
    plan = _plan(
        tmp_path, parts="choice:10x2,short:4x10", seal_line=True, seal_fields="考场号", roster=tmp_path / "class.csv"
    )
    student = plan.students[0]
    template, css, context, page = document_of(plan, Job("paper", student.variant, student))
    laid = lay_out_document(template, css, context, page)
    first = laid.document.pages[0]._page_box
    blanks = {_text(b): b for b in walk(first) if isinstance(b, boxes.InlineBlockBox) and "seal-blank" in classes(b)}
    assert set(blanks) == {long_name, "2026000123", "高一(3)班", ""}
    em = blanks["2026000123"].style["font_size"]
    assert blanks[""].width >= 5 * em - 0.5  # 考场号: a few handwritten digits
    assert blanks["2026000123"].width >= 10 * em - 0.5  # ten handwritten digits
    for text, blank in blanks.items():
        lines = [b for b in walk(blank) if isinstance(b, boxes.LineBox)]
        assert len(lines) == (1 if text else 0), text  # never wrapped across its rule
        for box in walk(blank):
            if isinstance(box, boxes.TextBox):
                assert box.position_x + box.width <= blank.position_x + blank.width + 0.5, text
    value = next(b for b in walk(blanks[long_name]) if "seal-value" in classes(b))
    assert value.style["font_size"] < em  # the long name is set smaller to fit


def test_blanks_sized_to_their_answers_are_the_teachers_choice_and_a_reprint_keeps_it(tmp_path: Path) -> None:
    import json

    from paperkit.exam.plan import plan_from_manifest

    plan = _plan(tmp_path, parts="fill:5x2,short:9x10", blanks="answer")
    template, css, context, page = document_of(plan, Job("paper", "A"))
    laid = lay_out_document(template, css, context, page)
    widths = {
        round(b.width, 1)
        for p in laid.document.pages
        for b in walk(p._page_box)
        if isinstance(b, boxes.InlineBlockBox) and "fill-blank" in classes(b)
    }
    assert len(widths) > 1  # each its own answer's
    build_exam(plan)
    data = json.loads((plan.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert data["blanks"] == "answer"
    assert plan_from_manifest(plan.out_dir / "manifest.json", SOURCE).options.blanks == "answer"
    assert _plan(tmp_path, parts="fill:5x2,short:9x10").out_dir != plan.out_dir  # another look, another folder


def test_every_stem_starts_on_the_line_of_its_number(paper: LaidOut) -> None:
    """A question carried to a new page printed 「25.（10 分）」 alone and its stem below (a right margin on the
    points label made the engine break there)."""
    prompts = _blocks(paper, "prompt")
    carried = {number for number, _ in prompts if number > 1}
    assert len(carried) >= 3
    for number, prompt in prompts:
        first = _lines(prompt)[0]
        text = "".join(b.text for b in walk(first) if isinstance(b, boxes.TextBox))
        assert re.sub(r"^\d+\.（\d+\s*分）", "", text).strip(), (number, text)


def test_a_key_never_offers_the_answer_itself_as_an_alternative() -> None:
    """「128（也可答：128）」: `[[128|$128$]]` reads the same twice; the key prints only what differs."""
    from paperkit.content.models import Exercise
    from paperkit.questions.bank import ExamQuestion, Question
    from paperkit.questions.registry import kind_of

    text = "方差为 [[128|$128$]]，结果为 [[(1,1,1,1)|(1, 1, 1, 1)|全为 1|全为1]]。"
    item = Exercise(id="2.1.f1", kind="fill", q=text)
    view = kind_of("fill").key_view(ExamQuestion(1, 2, Question(item.id, 2, "2.1", "节", item)), Layout(45))
    assert [b["accepted"] for b in view["blanks"]] == [[], ["全为 1"]]


def test_every_score_box_is_inside_the_text_area(paper: LaidOut) -> None:
    # A floated 得分/评卷人 box whose part moved to the next page left a copy of itself in the seal band of that
    # page (p. 3 of paper A); every box of every part score table must lie inside its page's text area.
    for number, page in enumerate(paper.document.pages, start=1):
        area = page._page_box
        left, right = area.content_box_x(), area.content_box_x() + area.width
        for box in walk(area):
            if "part-score" in classes(box) and getattr(box, "width", None):
                assert left - 0.5 <= box.position_x and box.position_x + box.width <= right + 0.5, (number, box)


FORMULA_OPTIONS = r"""
id: 1
title: 力学
objective: 会用机械能守恒。
sections:
- id: '1.1'
  title: 机械能守恒
  overview: 只有重力做功时，机械能守恒。
  must_know:
  - 机械能守恒定律。
  exercises:
  - id: 1.1.c1
    kind: choice
    q: 小球从高 $h$ 处由静止下落，落地速度为
    options: ['$\sqrt{2gh}$', '$\sqrt{gh}$', '$2\sqrt{gh}$', '$\sqrt{\dfrac{gh}{2}}$']
    answer: A
  - id: 1.1.c2
    kind: choice
    q: 单摆的周期为
    options:
    - '$T = 2\pi\sqrt{\dfrac{L}{g}}$，与振幅无关而与摆长有关'
    - '$T = 2\pi\sqrt{\dfrac{g}{L}}$，与振幅有关'
    - '$T = \pi\sqrt{\dfrac{L}{g}}$，与摆长无关'
    - '$T = 2\pi\sqrt{L g}$，与质量有关'
    answer: A
  - id: 1.1.c3
    kind: choice
    q: 斜面上物体所受支持力为
    options: ['$\dfrac{\sqrt{3}}{2}mg$', '$\dfrac{\sqrt{2}}{2}mg$', '$\dfrac{1}{2}mg$', '$\sqrt{3}\,mg$']
    answer: A
  - id: 1.1.c4
    kind: choice
    q: 下列说法正确的是
    options:
    - '$E_k = \dfrac{1}{2}mv^2$ 只适用于匀速运动的物体，对变速运动不成立'
    - 动能是标量
    - 'softmax 与 $\tan\alpha = 2\tan\beta$ 无关'
    - '$v = v_0 + at$'
    answer: B
"""


def _options(laid: LaidOut) -> list[tuple[object, float]]:
    """Every option box of a laid-out paper and the width in em its text takes (its letter left out)."""
    found = []
    for page in laid.document.pages:
        for box in walk(page._page_box):
            if isinstance(box, boxes.BlockBox) and "option" in classes(box):
                letter = {id(b) for b in walk(box) if "option-letter" in classes(b) for b in walk(b)}
                inline = (boxes.TextBox, boxes.InlineReplacedBox)
                # One line: from its first glyph box after the letter to the end of its last (the spacing of
                # operators and function names is the margins of the boxes between).
                content = [b for b in walk(box) if isinstance(b, inline) and id(b) not in letter]
                width = max(b.position_x + b.margin_width() for b in content) - min(b.position_x for b in content)
                found.append((box, width / box.style["font_size"]))  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("which", ["bundled", "formulas"])
def test_option_widths_are_measured_as_laid_out_and_a_letter_stays_with_its_option(
    paper: LaidOut, tmp_path: Path, which: str
) -> None:
    """#29: option columns come from measured widths (text_width within 0.2 em of WeasyPrint's own layout, where
    the old estimate was up to 2.7 em off), and no option's letter is left on a line without its option."""
    from conftest import write_handbook
    from paperkit.questions.kind import text_width

    if which == "bundled":  # the mid-term of the `paper` fixture (the same flags plan the same paper)
        plan, laid = _plan(tmp_path / "out", parts=PARTS, variants="2", seal_line=True), paper
    else:
        source = write_handbook(tmp_path, {"01-force.yaml": FORMULA_OPTIONS})
        flags = ExamFlags(modules="1", seed="7", parts="choice:4x5", pool="all")
        plan = plan_exam(parse_exam_flags(flags), source, tmp_path / "out")
        laid = lay_out_document(*document_of(plan, Job("paper", "A")))
    texts = [
        q.question.item.options[i]
        for q in plan.exams["A"].questions
        for i in (q.order or range(len(q.question.item.options)))
    ]
    options = _options(laid)
    assert len(options) == len(texts) > 0
    for (box, laid_width), text in zip(options, texts, strict=True):
        lines = _lines(box)
        letter = [b for b in walk(lines[0]) if "option-letter" in classes(b)]
        inside = {id(b) for x in letter for b in walk(x)}
        content = [b for b in walk(lines[0]) if isinstance(b, boxes.TextBox | boxes.InlineReplacedBox)]
        assert letter and any(id(b) not in inside for b in content), text  # letter and option on one line
        if len(lines) == 1:
            assert abs(text_width(text) - laid_width) < 0.2, (text, text_width(text), laid_width)
    # A formula's full height is kept in options: one under another never meet (a fraction's g under option A
    # touched the root over option C when the formulas gave their ascent and depth back to the leading).
    lists = [b for page in laid.document.pages for b in walk(page._page_box) if "options" in classes(b)]
    assert lists
    for options_list in lists:
        rows: dict[float, list[tuple[float, float]]] = {}
        for option in (b for b in options_list.children if "option" in classes(b)):
            for image in (b for b in walk(option) if isinstance(b, boxes.InlineReplacedBox)):
                top = image.border_box_y()
                rows.setdefault(option.position_y, []).append((top, top + image.border_height()))
        ordered = [spans for _, spans in sorted(rows.items())]
        for upper, lower in itertools.pairwise(ordered):
            assert max(bottom for _, bottom in upper) <= min(top for top, _ in lower) + 0.01
