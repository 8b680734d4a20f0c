"""paperkit import (issue 33 points 1 and 3): a Word 题库 into a module, and the round trip — the bundled bank and a
physics module with formulas and figures exported as a .docx in the 题库 layout (`export --format docx`) and imported
back, compared item by item and field by field. The sample .docx files are made here with python-docx (no binary
file of unknown origin in the repository)."""

from __future__ import annotations

import copy
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Mm
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE, write_handbook
from paperkit.cli import app
from paperkit.content.load import load_handbook
from paperkit.content.models import Handbook, Section
from paperkit.content.validate import knowledge_point
from paperkit.export import ExportFormat, ExportOptions, export_bank
from paperkit.export.omml import convert_formulas
from paperkit.questions.bank import question_bank
from paperkit.questions.fill import blanks
from paperkit.source import open_handbook
from paperkit.wordin.docxread import Block
from paperkit.wordin.items import difficulty_of, split_answers, truth_of
from paperkit.wordin.layout import parse_blocks, split_options
from paperkit.wordin.yamltext import insert_items, item_yaml
from test_figures import png

runner = CliRunner()

PHYSICS = """\
id: 1
title: 电路与运动
objective: 会用欧姆定律分析串联电路。
sections:
- id: '1.1'
  title: 串联电路
  overview: 串联电路中电流处处相等：$R = R_1 + R_2$。
  must_know:
  - 欧姆定律 $I = \\dfrac{U}{R}$。
  - 伏安法测电阻。
  exercises:
  - id: 1.1.c1
    kind: choice
    tests: [k1]
    difficulty: 易
    q: '如图所示，$U = 6$ V，$R_1 = 10\\ \\Omega$ 与 $R_2 = 20\\ \\Omega$ 串联。
      ![串联电路](figures/series.png){width=35mm}闭合开关后，电流表的示数为'
    options: [$0.2$ A, $0.3$ A, $0.6$ A, $0.9$ A]
    answer: A
  - id: 1.1.c2
    kind: choice
    q: 下列图像中，表示匀加速直线运动的是
    options:
    - '![](figures/vt-a.png){width=25mm inline}'
    - '![](figures/vt-b.png){width=25mm inline}'
    answer: B
  - id: 1.1.m1
    kind: multi
    q: 关于串联电路，下列说法正确的有
    options:
    - 各处电流相等
    - 总电阻 $R = R_1 + R_2$
    - 各电阻两端电压一定相等
    - 总电压等于各部分电压之和
    answer: ABD
    difficulty: '3'
  - id: 1.1.t1
    kind: truefalse
    tests: [k1, k2]
    q: 由 $R = \\dfrac{U}{I}$ 可知，电阻与电压成正比。
    answer: false
    why: 电阻由导体本身决定，$R = U/I$ 只是计算式。
  - id: 1.1.f1
    kind: fill
    q: 加速度 $a = 2\\ \\mathrm{m/s^2}$，3 s 末的速度为 [[6±0.1 m/s]]，位移为 [[9|九]] m。
    difficulty: 中
  - id: 1.1.s1
    kind: short
    material: |-
      某同学测得数据如下：
      | 次数 | $U$/V | $I$/A |
      |---|:---:|:---:|
      | 1 | 1.0 | 0.20 |
      | 2 | 2.0 | 0.40 |
    q: 根据表中数据，求电阻的测量值。
    a: |-
      每次 $\\dfrac{U}{I} = 5.0\\ \\Omega$，
      测量值为 $5.0\\ \\Omega$。
    difficulty: 难
"""


# TeX that pandoc writes otherwise when it reads the Word equation back: the same formula.
SYNONYMS = (
    ("\\le", "\\leq"),
    ("\\ge", "\\geq"),
    ("\\ne", "\\neq"),
    ("\\dots", "\\ldots"),
    ("\\to", "\\rightarrow"),
    ("[", "\\lbrack"),
    ("]", "\\rbrack"),
    ("\\big(", "\\left("),
    ("\\big)", "\\right)"),
)


def _canonical(text: str) -> str:
    """A text as the 题库 layout gives it back: formulas as pandoc writes their TeX (fractions \\frac, upright
    \\mathrm letters and \\| as pandoc reads them from OMML, braces and spaces dropped), each figure's file and
    placement left out (an imported picture gets a name of its own; a centred or right figure comes back centred),
    spaces and line breaks dropped."""

    def tex(match: re.Match[str]) -> str:
        body = match.group(1)
        body = re.sub(r"\\[dt]frac", r"\\frac", body)
        body = re.sub(r"\\(?:mathrm|text|operatorname)\{((?:[^{}]|\{[^{}]*\})*)\}", r"\1", body)
        body = body.replace("\\|", "\\parallel ").replace("\\,", "").replace("\\ ", "").replace("\\;", "")
        for tex, pandoc in SYNONYMS:
            if tex[1:2].isalpha() and tex[-1].isalpha():
                body = re.sub(re.escape(tex) + r"(?![A-Za-z])", lambda _, pandoc=pandoc: pandoc, body)
            else:
                body = body.replace(tex, pandoc + " ")
        body = re.sub(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])", r"\1~", body)  # \le t is not \let
        return "$" + re.sub(r"[\s{}]", "", body) + "$"

    text = re.sub(r"(?<!\\)\$((?:\\.|[^$\\])+)\$", tex, text)
    text = re.sub(
        r"!\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?",
        lambda m: f"<fig {m[1]}{' inline' if m[2] and 'inline' in m[2] else ''}>",
        text,
    )
    return re.sub(r"\s+", "", text)


def _points(handbook: Handbook, section: Section, tests: tuple[str, ...]) -> list[str]:
    found = []
    for reference in tests:
        point = knowledge_point(reference, section.id)
        assert point is not None
        owner = next(s for s in handbook.sections if s.id == point[0])
        found.append(_canonical(getattr(owner, point[1])[point[2] - 1]))
    return found


# The fields the 题库 layout carries, compared one by one. Not carried (so not compared): points, rubric, lines,
# pinned, follows, use, a figure's width and `right` placement, and ids (new ones are made); a worked example
# comes back as a short-answer exercise; a 【解析】 only where the kind has a field for it (truefalse `why`).
FIELDS = ("kind", "q", "options", "answer", "why", "a", "difficulty", "material", "blanks", "tests")


def _fields(handbook: Handbook, section: Section, item: object) -> dict[str, object]:
    kind = getattr(item, "kind", "short")
    return {
        "kind": kind,
        "q": _canonical(item.q),  # type: ignore[attr-defined]
        "options": [_canonical(o) for o in getattr(item, "options", ())],
        "answer": getattr(item, "answer", "").lower(),
        "why": _canonical(getattr(item, "why", "")),
        "a": _canonical(getattr(item, "a", "")),
        "difficulty": getattr(item, "difficulty", ""),
        "material": _canonical(getattr(item, "material", "")),
        "blanks": [[_canonical(a) for a in answers] for answers in blanks(item.q)] if kind == "fill" else [],  # type: ignore[attr-defined]
        "tests": _points(handbook, section, getattr(item, "tests", ())),
    }


def _round_trip(tmp_path: Path, source: Path) -> tuple[list[tuple[str, dict[str, object]]], list[dict[str, object]]]:
    """Export `source`'s whole bank as a .docx, import it into a copy of the source, and give both sides' fields."""
    handbook = open_handbook(source)
    docx = tmp_path / "bank.docx"
    docx.write_bytes(export_bank(handbook, ExportFormat.DOCX, options=ExportOptions(pool="all")))
    out = tmp_path / "imported.yaml"
    result = runner.invoke(app, ["import", str(docx), "--source", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    original = [
        (q.id, _fields(handbook, next(s for s in handbook.sections if s.id == q.section_id), q.item))
        for questions in question_bank(handbook, exercises=True).values()
        for q in questions
    ]
    (source / "modules" / "99-imported.yaml").write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    both = load_handbook(source)
    module = max(both.modules, key=lambda m: m.id)
    back = [_fields(both, section, item) for section in module.sections for item in section.exercises]
    (source / "modules" / "99-imported.yaml").unlink()
    return original, back


def _compare(original: list[tuple[str, dict[str, object]]], back: list[dict[str, object]]) -> int:
    assert len(back) == len(original)
    compared = 0
    for (item_id, before), after in zip(original, back, strict=True):
        for name in FIELDS:
            assert after[name] == before[name], (item_id, name)
            compared += 1
    return compared


def test_the_bundled_bank_comes_back_field_by_field(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "modules").mkdir(parents=True)
    (source / "handbook.yaml").write_bytes((SOURCE / "handbook.yaml").read_bytes())
    for path in SOURCE.glob("modules/*.yaml"):
        (source / "modules" / path.name).write_bytes(path.read_bytes())
    shutil.copytree(SOURCE / "figures", source / "figures")  # a module's figures come with it
    original, back = _round_trip(tmp_path, source)
    assert len(original) == 664
    assert _compare(original, back) == 664 * len(FIELDS)


def test_a_physics_module_with_formulas_figures_and_a_table_comes_back(tmp_path: Path) -> None:
    source = write_handbook(tmp_path, {"01-circuits.yaml": PHYSICS})
    (source / "figures").mkdir()
    (source / "figures" / "series.png").write_bytes(png(420, 300))
    for index, letter in enumerate("ab"):
        (source / "figures" / f"vt-{letter}.png").write_bytes(png(300 + index, 200))
    original, back = _round_trip(tmp_path, source)
    assert _compare(original, back) == 6 * len(FIELDS)
    assert back[4]["blanks"] == [["6±0.1m/s"], ["9", "九"]]
    assert back[0]["tests"] == [_canonical("欧姆定律 $I = \\dfrac{U}{R}$。")]
    pictures = sorted(p.name for p in (source / "figures").glob("bank-*.png"))
    assert len(pictures) == 3  # each picture once, named by its bytes
    # the exported bank is a Word file LibreOffice opens and prints (as every .docx paperkit writes)
    from test_docx import converted_to_pdf

    bank = tmp_path / "bank.docx"
    assert any("【答案】" in paragraph.text for paragraph in Document(str(bank)).paragraphs)
    (printed,) = converted_to_pdf([bank], tmp_path)
    assert len(PdfReader(printed).pages) >= 1


# -- two sample .docx files, made here -------------------------------------------------------------------------------


def _clean_docx(path: Path) -> None:
    doc = Document()
    doc.core_properties.title = "力学题库"
    doc.add_heading("一、选择题", level=1)
    doc.add_paragraph("1．下列物理量中，属于矢量的是（　　）")
    doc.add_paragraph("A．质量　　B．时间　　C．速度　　D．路程")
    doc.add_paragraph("【答案】C")
    doc.add_paragraph("【考点】矢量与标量")
    doc.add_paragraph("【难度】易")
    doc.add_paragraph("2、下列说法正确的是（　　）")
    for text in ("A. 力是物体对物体的作用", "B. 只有接触的物体间才有力", "C. 重力的方向竖直向下", "D. 摩擦力总是阻力"):
        doc.add_paragraph(text)
    doc.add_paragraph("【答案】A、C【难度】0.55")
    doc.add_heading("二、判断题", level=1)
    doc.add_paragraph("1. 物体的速度越大，惯性越大。（　　）")
    doc.add_paragraph("【答案】×")
    doc.add_paragraph("【解析】惯性只由质量决定。")
    doc.add_heading("三、填空题", level=1)
    doc.add_paragraph("1．质量为 2 kg 的物体受到 4 N 的合力，加速度为____m/s²，3 s 内速度增加＿＿＿＿m/s。")
    doc.add_paragraph("【答案】2；6（或 六）")
    doc.add_heading("四、简答题", level=1)
    doc.add_paragraph("（1）简述牛顿第一定律。")
    doc.add_paragraph("【答案】一切物体在没有受到力的作用时，总保持静止状态或匀速直线运动状态。")
    doc.add_paragraph("【考点】矢量与标量")
    doc.save(path)


def _messy_docx(path: Path) -> None:
    formulas = convert_formulas([r"I = \dfrac{U}{R}"])
    doc = Document()
    doc.add_paragraph("高一物理周测（内部资料）")  # 1: before the first question
    doc.add_paragraph("1．欧姆定律可写作 ")  # 2
    doc.paragraphs[-1]._p.append(copy.deepcopy(formulas.omml[r"I = \dfrac{U}{R}"]))
    doc.paragraphs[-1].add_run("，其中 U 是电压。（　　）")
    doc.add_paragraph("【答案】√")  # 3
    doc.add_paragraph("2．如图所示的电路中，电阻 R 两端的电压为____V。")  # 4
    doc.add_paragraph().add_run().add_picture(io.BytesIO(png(600, 400)), width=Mm(40))  # 5
    doc.add_paragraph("【答案】3")  # 6
    doc.add_paragraph("3．下列单位中，属于国际单位制基本单位的是（　　）")  # 7
    doc.add_paragraph("A．牛顿　B．千克　C．焦耳　D．瓦特")  # 8
    doc.add_paragraph("（本题为课本改编题）")  # 9: after the options
    doc.add_paragraph("【答案】B")  # 10
    doc.add_paragraph("【题型】单选")  # 11: a mark paperkit does not read
    doc.save(path)


def _source(tmp_path: Path) -> Path:
    return write_handbook(tmp_path)


def test_a_clean_bank_becomes_a_module_that_validates(tmp_path: Path) -> None:
    source = _source(tmp_path)
    docx = tmp_path / "力学.docx"
    _clean_docx(docx)
    result = runner.invoke(app, ["import", str(docx), "--source", str(source)])
    assert result.exit_code == 0, result.output
    target = source / "modules" / "02-word.yaml"
    assert result.stdout == f"{target}\n"
    assert result.stderr == f"5 items imported into {target} (choice 1, multi 1, truefalse 1, fill 1, short 1)\n"
    handbook = open_handbook(source)
    module = handbook.modules[-1]
    assert (module.id, module.title) == (2, "力学题库")
    assert [s.title for s in module.sections] == ["选择题", "判断题", "填空题", "简答题"]
    assert module.sections[0].must_know == ("矢量与标量",)
    choice, multi = module.sections[0].exercises
    assert (choice.id, choice.q, choice.options, choice.answer, choice.difficulty, choice.tests) == (
        "2.1.c1",
        "下列物理量中，属于矢量的是",
        ("质量", "时间", "速度", "路程"),
        "C",
        "易",
        ("k1",),
    )
    assert (multi.id, multi.answer, multi.difficulty, len(multi.options)) == ("2.1.m1", "AC", "中", 4)
    (statement,) = module.sections[1].exercises
    assert (statement.q, statement.answer, statement.why) == (
        "物体的速度越大，惯性越大。",
        "false",
        "惯性只由质量决定。",
    )
    (fill,) = module.sections[2].exercises
    assert fill.q == "质量为 2 kg 的物体受到 4 N 的合力，加速度为[[2]]m/s²，3 s 内速度增加[[6|六]]m/s。"
    (short,) = module.sections[3].exercises
    assert short.a.startswith("一切物体") and short.tests == ("k1",)
    assert runner.invoke(app, ["validate", "--source", str(source)]).exit_code == 0


def test_paragraphs_it_cannot_place_are_listed_and_nothing_is_written(tmp_path: Path) -> None:
    source = _source(tmp_path)
    docx = tmp_path / "messy.docx"
    _messy_docx(docx)
    before = sorted(p.name for p in source.rglob("*"))
    result = runner.invoke(app, ["import", str(docx), "--source", str(source)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{docx}: paragraph 1: not part of a question (before the first question): 高一物理周测（内部资料）",
        f"{docx}: paragraph 9: after the options, neither an option nor a 【答案】/【解析】 line: （本题为课本改编题）",
        f"{docx}: paragraph 11: 【题型】 is not a mark paperkit reads (【答案】【解析】【考点】【难度】【材料】): "
        "【题型】单选",
        f"3 paragraphs of {docx} could not be placed; nothing was written (--partial writes the rest)",
    ]
    assert sorted(p.name for p in source.rglob("*")) == before


def test_partial_writes_the_rest_with_the_equation_as_tex_and_the_picture_in_figures(tmp_path: Path) -> None:
    source = _source(tmp_path)
    docx = tmp_path / "messy.docx"
    _messy_docx(docx)
    result = runner.invoke(app, ["import", str(docx), "--source", str(source), "--partial"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"warning: not placed: {docx}: paragraph 1: not part of a question (before the first question): "
        "高一物理周测（内部资料）"
    )
    handbook = open_handbook(source)
    statement, fill, choice = handbook.modules[-1].sections[0].exercises
    assert (statement.q, statement.answer) == ("欧姆定律可写作 $I = \\frac{U}{R}$，其中 U 是电压。", "true")
    (picture,) = (source / "figures").iterdir()
    assert re.fullmatch(r"messy-[0-9a-f]{12}\.png", picture.name) and picture.read_bytes() == png(600, 400)
    written = (source / "modules" / "02-messy.yaml").read_text(encoding="utf-8")
    assert (
        "    q: |-\n      如图所示的电路中，电阻 R 两端的电压为[[3]]V。\n"
        f"      ![](figures/{picture.name}){{width=40mm}}\n" in written
    )
    assert fill.kind == "fill"
    assert (choice.options, choice.answer) == (("牛顿", "千克", "焦耳", "瓦特"), "B")
    assert runner.invoke(app, ["validate", "--source", str(source)]).exit_code == 0


def test_items_appended_to_a_section_leave_the_rest_of_the_file_as_it_was(tmp_path: Path) -> None:
    source = _source(tmp_path)
    docx = tmp_path / "clean.docx"
    _clean_docx(docx)
    module_file = source / "modules" / "01-first.yaml"
    original = module_file.read_text(encoding="utf-8") + "# a comment the teacher wrote\n"
    module_file.write_text(original, encoding="utf-8")
    result = runner.invoke(app, ["import", str(docx), "--source", str(source), "--module", "1", "--section", "1.1"])
    assert result.exit_code == 0, result.output
    assert "【考点】 '矢量与标量' is no 你需要掌握 entry of section 1.1; left out" in result.stderr
    text = module_file.read_text(encoding="utf-8")
    cut = original.index("# a comment")
    assert text.startswith(original[:cut].rstrip("\n")) and text.endswith(original[cut:])
    items = open_handbook(source).modules[0].sections[0].exercises
    assert [x.id for x in items] == ["1.1.c1", "1.1.m1", "1.1.t1", "1.1.f1", "1.1.s1"]
    again = runner.invoke(app, ["import", str(docx), "--source", str(source), "--module", "1", "--section", "1.1"])
    assert again.exit_code == 0, again.output
    ids = [x.id for x in open_handbook(source).modules[0].sections[0].exercises]
    assert ids[5:] == ["1.1.c2", "1.1.m2", "1.1.t2", "1.1.f2", "1.1.s2"]  # never an id the handbook has


def test_a_result_that_would_not_validate_is_refused_with_its_problems(tmp_path: Path) -> None:
    source = _source(tmp_path)
    doc = Document()
    doc.add_paragraph("1．生僻字「𠀀」怎么读？")  # a character the shipped fonts do not have
    doc.add_paragraph("【答案】略")
    doc.save(tmp_path / "bad.docx")
    result = runner.invoke(app, ["import", str(tmp_path / "bad.docx"), "--source", str(source)])
    assert result.exit_code == 1
    assert "02-bad.yaml" in result.stderr and result.stderr.rstrip().endswith("nothing was built.")
    assert not (source / "modules" / "02-bad.yaml").exists()


def _zip(path: Path, members: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
            "a Word 97–2003 .doc or a password-protected file; open it in Word or WPS and save it as .docx "
            "without a password",
        ),
        (
            lambda p: p.write_text("plain text", encoding="utf-8"),
            "not a .docx file (a .docx is a zip archive; this is not one)",
        ),
        (
            lambda p: _zip(p, {"xl/workbook.xml": b"<x/>"}),
            "a zip archive but not a Word document (no word/document.xml)",
        ),
        (
            lambda p: _zip(p, {"word/document.xml": b"<" + b" " * 30_000_000 + b">"}),
            "word/document.xml unpacks 1028× its packed size; refused as a zip bomb",
        ),
        (
            lambda p: _zip(p, {f"m{n}.xml": b"" for n in range(2001)}),
            "2001 files inside; a .docx has far fewer (at most 2000 are read)",
        ),
        (lambda p: _zip(p, {"word/document.xml": b"<not-xml"}), "not a Word document python-docx can read"),
    ],
    ids=["doc", "text", "xlsx", "bomb", "members", "damaged"],
)
def test_a_hostile_or_wrong_file_is_one_line_naming_it(tmp_path: Path, make, message: str) -> None:
    source = _source(tmp_path)
    path = tmp_path / "bank.docx"
    make(path)
    result = runner.invoke(app, ["import", str(path), "--source", str(source)])
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: {message}"), line


# -- the layout, pure ------------------------------------------------------------------------------------------------


def test_options_split_on_one_line_or_several_with_any_mark() -> None:
    assert split_options("A．甲　B．乙 C．丙\tD．丁", 0) == ["甲", "乙", "丙", "丁"]
    assert split_options("A. $x.y$ B: 2 ", 0) == ["$x.y$", "2"]
    assert split_options("C、丙 D、丁", 2) == ["丙", "丁"]
    assert split_options("A、B、C 三点共线", 0) is None  # a stem that starts with the points' names
    assert split_options("B．乙", 0) is None


def test_the_layout_places_each_paragraph() -> None:
    texts = ["1．题干 A．甲 B．乙", "【答案】B【解析】因为", "1．第一步", "2．下一题", "【答案】略"]
    drafts, unplaced = parse_blocks([Block(n, t) for n, t in enumerate(texts, start=1)])
    assert unplaced == []
    assert [(d.number, d.stem, d.options) for d in drafts] == [(1, "题干", ["甲", "乙"]), (2, "下一题", [])]
    assert drafts[0].marks == {"answer": "B", "explanation": "因为\n1．第一步"}  # a step, not question 1 again


def test_answers_truth_and_difficulty() -> None:
    assert split_answers("（1）6　（2）19.6", 2) == [["6"], ["19.6"]]
    assert split_answers("$x=1$；$y$、2（或 二）", 2) == [["$x=1$"], ["$y$、2", "二"]]
    assert split_answers("a、b、c", 3) == [["a"], ["b"], ["c"]]
    assert split_answers("只有一个", 2) is None
    assert [truth_of(t) for t in ("√", "错误。因为…", "T", "对称", "True story")] == [
        ("true", ""),
        ("false", "因为..."),
        ("true", ""),
        None,
        None,
    ]
    assert [difficulty_of(t) for t in ("易", "较难", "0.85", "0.5", "0.2", "3", "★★", "很怪")] == [
        "易",
        "难",
        "易",
        "中",
        "难",
        "3",
        "2",
        None,
    ]


def test_yaml_is_single_quoted_or_a_block_and_inserted_text_keeps_the_file() -> None:
    from paperkit.wordin.items import NewItem

    item = NewItem(
        "1.1.s9", (("id", "1.1.s9"), ("kind", "short"), ("q", "it's $\\frac{1}{2}$: #1"), ("a", "一\n 二")), 1
    )
    assert (
        item_yaml(item, 2)
        == "  - id: '1.1.s9'\n    kind: short\n    q: 'it''s $\\frac{1}{2}$: #1'\n    a: |-\n      一\n       二"
    )
    text = "id: 1\nsections:\n- id: '1.1'\n  title: t\n  exercises:\n  - id: a\n    q: |\n      x\n\n# end\n"
    assert insert_items(text, "1.1", [item]) == text.replace("      x\n", "      x\n" + item_yaml(item, 2) + "\n")
