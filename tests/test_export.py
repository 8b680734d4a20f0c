"""export.py: the question bank as Moodle XML, GIFT and a QTI 2.1 package, read back and checked."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from xml.etree import ElementTree as ET

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import paperkit.export as xp
from conftest import SOURCE
from paperkit.content.models import Exercise, Handbook, Module, RubricPoint, Section
from paperkit.errors import UsageError
from paperkit.export import gift as gift_format
from paperkit.export import moodle, qti
from paperkit.export.common import category_path, inline_html, interaction, typed_answers
from paperkit.questions.bank import Question, question_bank
from paperkit.questions.fill import blanks
from paperkit.questions.kind import LETTERS, SHAPES
from paperkit.questions.registry import KINDS
from paperkit.questions.rules import Rules
from paperkit.source import open_handbook

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
# Moodle's allowed grades (question_bank::fraction_options_full), in percent, and their negatives.
MOODLE_GRADES = {100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571}
MOODLE_GRADES |= {12.5, 11.11111, 10, 5, 0}


@pytest.fixture(scope="module")
def bank(handbook: Handbook) -> list[Question]:
    """The items an export carries by default: the practice items (the held-back pool stays off platforms)."""
    return [q for pool in question_bank(handbook, exercises=True).values() for q in pool if q.item.use != "exam"]


@pytest.fixture(scope="module")
def quiz(handbook: Handbook) -> ET.Element:
    return ET.fromstring(xp.export_bank(handbook, xp.ExportFormat.MOODLE))


@pytest.fixture(scope="module")
def gift(handbook: Handbook) -> str:
    return xp.export_bank(handbook, xp.ExportFormat.GIFT).decode("utf-8")


@pytest.fixture(scope="module")
def raw_items() -> dict[str, dict]:
    """Every exercise as the YAML holds it, read without paperkit's loader."""
    items: dict[str, dict] = {}
    for path in sorted((SOURCE / "modules").glob("*.yaml")):
        for section in yaml.safe_load(path.read_text(encoding="utf-8"))["sections"]:
            for item in section.get("exercises", []):
                if item.get("use") != "exam":
                    items[str(item["id"])] = item
    return items


def _items(quiz: ET.Element) -> dict[str, ET.Element]:
    return {q.findtext("idnumber", ""): q for q in quiz if q.get("type") != "category"}


def _tiny(*items: Exercise, title: str = "小手册") -> Handbook:
    section = Section(id="1.1", title="第一节", overview="概述。", must_know=("要点",), exercises=items)
    module = Module(id=1, title="第一模块", objective="目标。", sections=(section,))
    return Handbook(title=title, date="2026-01-18", language="zh-CN", modules=(module,))


# -- Moodle XML --------------------------------------------------------------------------------------


def test_moodle_has_one_question_per_bank_item_of_the_type_its_kind_maps_to(quiz, bank) -> None:
    items = _items(quiz)
    assert list(items) == [q.id for q in bank]  # handbook order: module, section, item
    expected = Counter(
        {"choice": "multichoice", "multi": "multichoice", "truefalse": "truefalse", "short": "essay"}.get(q.kind)
        or ("shortanswer" if len(blanks(q.item.q)) == 1 else "cloze")
        for q in bank
    )
    assert Counter(q.get("type") for q in items.values()) == expected
    assert expected == {"multichoice": 140, "essay": 130, "truefalse": 84, "shortanswer": 56}


def _fractions(question: ET.Element) -> list[float]:
    return [float(a.get("fraction", "nan")) for a in question.findall("answer")]


def test_every_moodle_question_has_the_elements_its_type_needs(quiz) -> None:
    for qid, question in _items(quiz).items():
        assert question.findtext("name/text") == qid
        assert question.find("questiontext").get("format") == "html"
        assert question.findtext("questiontext/text").startswith("<p>")
        kind = question.get("type")
        fractions = _fractions(question)
        if kind == "multichoice" and question.findtext("single") == "true":
            assert sorted(fractions) == [0] * (len(fractions) - 1) + [100], qid
            assert (question.findtext("shuffleanswers"), question.findtext("answernumbering")) == ("1", "ABCD")
        elif kind == "multichoice":
            assert question.findtext("single") == "false"
            assert sum(f for f in fractions if f > 0) == pytest.approx(100, abs=1e-4), qid
            assert sum(fractions) == pytest.approx(0, abs=1e-4), qid  # ticking every option scores nothing
            assert all(abs(f) in MOODLE_GRADES for f in fractions), (qid, fractions)
        elif kind == "truefalse":
            answers = {a.findtext("text"): float(a.get("fraction")) for a in question.findall("answer")}
            assert sorted(answers) == ["false", "true"] and sorted(answers.values()) == [0, 100]
        elif kind == "shortanswer":
            assert question.findtext("usecase") == "0"
            assert fractions and set(fractions) == {100}
            assert "_____" in question.findtext("questiontext/text")
        elif kind == "cloze":
            assert re.search(r"\{\d+:SHORTANSWER:=", question.findtext("questiontext/text"))
        else:
            assert kind == "essay"
            assert question.find("graderinfo").get("format") == "html"
            assert question.findtext("graderinfo/text").startswith("<p>【参考答案】")


def test_moodle_categories_come_before_each_module_and_section(quiz, handbook) -> None:
    expected: dict[str, str] = {}
    current = ""
    for question in quiz:
        if question.get("type") == "category":
            current = question.findtext("category/text")
        else:
            expected[question.findtext("idnumber")] = current
    for module in handbook.modules:
        for index, section in enumerate(module.sections):
            path = category_path(handbook, module, index)
            assert path.startswith(f"{category_path(handbook, module)}/{section.id} ")
            for item in (*section.examples, *section.practice):
                assert expected[item.id] == path
            assert not any(item.id in expected for item in section.exercises if item.use == "exam")
    categories = [q.findtext("category/text") for q in quiz if q.get("type") == "category"]
    assert len(categories) == len(handbook.modules) + len(handbook.sections)
    # A / inside a title is written // (Moodle's path escape), so module 1 stays one category.
    assert categories[categories.index("$course$/top/Transformer 与 LLM 学习手册/0 预备基础") + 5] == (
        "$course$/top/Transformer 与 LLM 学习手册/1 NLP//LLM 表示与 Tokenization"
    )


def test_formulas_stay_tex_for_mathjax_never_images(quiz) -> None:
    question = _items(quiz)["2.1.c1"]
    assert question.findtext("questiontext/text") == r"<p>缩放点积注意力中除以 \(\sqrt{d_k}\) 的主要目的是</p>"
    options = [a.findtext("text") for a in _items(quiz)["2.4.c1"].findall("answer")]
    assert options[0] == r"\(y = \mathrm{LN}(x + f(x))\)"
    text = ET.tostring(quiz, encoding="unicode")
    # the one picture is 2.1's figure (an export carries a figure as an image); a formula never is one
    caption = "缩放点积注意力的计算流程"
    figure = re.compile(r'&lt;img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="' + caption + '" /&gt;')
    assert len(figure.findall(text)) == 1
    text = figure.sub("", text)
    assert "<img" not in text and "&lt;img" not in text and "data:image" not in text


def test_the_correct_option_is_the_sources_answer(quiz, raw_items) -> None:
    items = _items(quiz)
    checked = Counter()
    for qid, raw in raw_items.items():
        question = items[qid]
        if raw["kind"] in ("choice", "multi"):
            right = {a.findtext("text") for a in question.findall("answer") if float(a.get("fraction")) > 0}
            assert right == {inline_html(raw["options"][LETTERS.index(letter)]) for letter in raw["answer"]}, qid
        elif raw["kind"] == "truefalse":
            right = [a.findtext("text") for a in question.findall("answer") if a.get("fraction") == "100"]
            assert right == [str(raw["answer"]).lower()], qid
        else:
            continue
        checked[raw["kind"]] += 1
    assert checked == {"choice": 112, "multi": 28, "truefalse": 84}
    right = [a.findtext("text") for a in items["1.2.c1"].findall("answer") if a.get("fraction") == "100"]
    assert right == ["反复合并频次最高的相邻符号对"]
    right = [a.findtext("text") for a in items["1.1.c1"].findall("answer") if a.get("fraction") == "100"]
    assert right == ["它们会改变 token 序列、绕过过滤器"]


def test_fill_answers_are_what_a_student_types(quiz) -> None:
    items = _items(quiz)
    # Formulas as a student types them, each answer once (case does not count), a star escaped for Moodle.
    assert [a.findtext("text") for a in items["0.3.f2"].findall("answer")] == [
        "O(S^2)",
        "O(S²)",
        "O(S\\*S)",
        "O(n^2)",
        "O(n²)",
        "二次",
        "二次方",
        "平方",
        "平方级",
        "二次方级",
        "二次增长",
        "平方增长",
        "S^2",
        "S²",
    ]
    assert [a.findtext("text") for a in items["2.3.f1"].findall("answer")] == ["2/3", "三分之二", "0.67", "0.667"]
    two = _tiny(
        Exercise(id="1.1.f1", kind="fill", q="由此造成 [[exposure bias|暴露偏差]]；可用 [[scheduled sampling]] 缓解。")
    )
    cloze = ET.fromstring(xp.export_bank(two, xp.ExportFormat.MOODLE))
    assert _items(cloze)["1.1.f1"].findtext("questiontext/text") == (
        "<p>由此造成 {1:SHORTANSWER:=exposure bias~=暴露偏差}；可用 {1:SHORTANSWER:=scheduled sampling} 缓解。</p>"
    )


def test_moodle_grade_feedback_and_grader_info_come_from_the_item(quiz) -> None:
    items = _items(quiz)
    assert items["0.1.q2"].findtext("defaultgrade") == "10"
    assert items["0.1.c1"].find("defaultgrade") is None  # no points in the source: Moodle's default
    assert items["1.1.t1"].findtext("generalfeedback/text") == (
        "<p>对话数据要统一模板；模板混杂时模型会学到与格式相关的偏差（格式偏差），内容正确也避免不了。</p>"
    )
    assert items["0.1.q2"].findtext("graderinfo/text") == (
        r"<p>【参考答案】\(H(p,q)=H(p)+\mathrm{KL}(p\,\|\,q)\)。在 \(p\) 固定时，最小化交叉熵等价于最小化 KL。</p>"
        r"<p>【评分要点】</p><ul><li>写出 \(H(p,q)=H(p)+\mathrm{KL}(p\,\|\,q)\)（6 分）</li>"
        r"<li>指出 \(p\) 固定时 \(H(p)\) 为常数，最小化交叉熵等价于最小化 KL（4 分）</li></ul>"
    )


def test_moodle_escapes_markup_and_cloze_answers() -> None:
    tiny = _tiny(
        Exercise(id="1.1.c1", kind="choice", q="<b>x</b> & ]]> **粗** `a<b`", options=("<i>", "&amp;"), answer="A"),
        Exercise(id="1.1.f1", kind="fill", q="[[a}b|c#d]] 与 [[x/y|<z>]]", points=4),
        Exercise(id="1.1.m1", kind="multi", q="选", options=("a", "b", "c"), answer="AB", pinned=("C",)),
    )
    text = xp.export_bank(tiny, xp.ExportFormat.MOODLE)
    assert b"<b>x" not in text and b"<i>" not in text
    items = _items(ET.fromstring(text))
    assert items["1.1.c1"].findtext("questiontext/text") == (
        "<p>&lt;b&gt;x&lt;/b&gt; &amp; ]]&gt; <strong>粗</strong> <code>a&lt;b</code></p>"
    )
    assert [a.findtext("text") for a in items["1.1.c1"].findall("answer")] == ["&lt;i&gt;", "&amp;amp;"]
    assert items["1.1.f1"].findtext("questiontext/text") == (
        r"<p>{2:SHORTANSWER:=a\}b~=c\#d} 与 {2:SHORTANSWER:=x\/y~=&lt;z&gt;}</p>"
    )
    assert items["1.1.m1"].findtext("shuffleanswers") == "0"  # a pinned option keeps its place
    assert _fractions(items["1.1.m1"]) == [50, 50, -100]


# -- GIFT ------------------------------------------------------------------------------------------


def test_gift_escapes_its_special_characters_everywhere() -> None:
    tiny = _tiny(
        Exercise(id="1.1.c1", kind="choice", q="a~b = c #1 {x}: y", options=("x=1", "{y}", "~z", "#:w"), answer="B"),
        Exercise(id="1.1.t1", kind="truefalse", q=r"$\frac{1}{2} = 0.5$", answer="true", why="因为 1:2 = 0.5"),
        Exercise(id="1.1.f1", kind="fill", q="键 [[a=b|c#d|{e}]] 值"),
        title="手册 {A/B}: 1",
    )
    assert xp.export_bank(tiny, xp.ExportFormat.GIFT).decode("utf-8") == (
        "// 手册 {A/B}: 1 (2026-01-18): question bank, paperkit export\n\n"
        # Category lines stay raw (Moodle does not unescape them); a / in a name is doubled.
        "$CATEGORY: $course$/top/手册 {A//B}: 1/1 第一模块\n\n"
        "$CATEGORY: $course$/top/手册 {A//B}: 1/1 第一模块/1.1 第一节\n\n"
        "::1.1.c1::[html]<p>a\\~b \\= c \\#1 \\{x\\}\\: y</p>{\n"
        "\t~x\\=1\n"
        "\t=\\{y\\}\n"
        "\t~\\~z\n"
        "\t~\\#\\:w\n"
        "}\n\n"
        "::1.1.t1::[html]<p>\\\\(\\\\frac\\{1\\}\\{2\\} \\= 0.5\\\\)</p>{T####<p>因为 1\\:2 \\= 0.5</p>}\n\n"
        "::1.1.f1::[html]<p>键 {=a\\=b =c\\#d =\\{e\\}} 值</p>\n"
    )


def test_escape_gift() -> None:
    assert gift_format.escape_gift("~=#{}:\\") == "\\~\\=\\#\\{\\}\\:\\\\"
    assert gift_format.escape_gift("一行\n两行\r\n") == "一行\\n两行\\n"


def test_gift_of_known_items(gift: str) -> None:
    blocks = gift.split("\n\n")
    by_id = {b.split("::")[1]: b for b in blocks if "::" in b}
    assert by_id["1.2.m1"] == (
        "::1.2.m1::[html]<p>下列属于子词（subword）tokenization 方法的有</p>{\n"
        "\t~%50%WordPiece\n"
        "\t~%-50%RoPE 位置编码\n"
        "\t~%-50%NFKC 字符规范化\n"
        "\t~%50%Unigram LM\n"
        "}"
    )
    assert by_id["1.1.t1"] == (
        "::1.1.t1::[html]<p>对话数据的内容正确时，混用多种 system/user/assistant 模板格式不会让模型学到格式偏差。</p>"
        "{F####<p>对话数据要统一模板；模板混杂时模型会学到与格式相关的偏差（格式偏差），内容正确也避免不了。</p>}"
    )
    assert by_id["1.1.t2"].startswith("::1.1.t2::") and "{T####<p>" in by_id["1.1.t2"]
    assert by_id["0.1.f1"].endswith(
        "的形状为 {=(B,S,d_k) =(B, S, d_k) =(B,S,dk) =(B, S, dk) =B× S× d_k =B×S×d_k}。</p>"
    )
    assert by_id["1.1.q1"] == (
        "::1.1.q1::[html]<p>为什么需要处理不可见字符（如零宽空格）？</p>"
        "{####<p>【参考答案】它们可能改变 token 序列或绕过规则/过滤器，造成注入与安全风险。</p><p>【评分要点】</p>"
        "<ul><li>指出不可见字符可能改变 token 序列（5 分）</li>"
        "<li>指出它们可被用来绕过规则/过滤器，造成注入等安全风险（5 分）</li></ul>}"
    )
    # Two blanks: one essay question that keeps its id, the key as feedback, and a comment saying why.
    two = _tiny(
        Exercise(
            id="1.1.f1",
            kind="fill",
            q="造成 [[exposure bias|暴露偏差|曝光偏差]]；可用 [[scheduled sampling|计划采样]]。",
        )
    )
    essay = xp.export_bank(two, xp.ExportFormat.GIFT).decode("utf-8").split("\n\n")[-1]
    assert essay.startswith("// 1.1.f1: 2 blanks; GIFT grades one blank a question")
    assert essay.endswith(
        "{####<p>第 1 空：exposure bias（也可答：暴露偏差；曝光偏差）</p>"
        "<p>第 2 空：scheduled sampling（也可答：计划采样）</p>}\n"
    )


def _unescaped(text: str) -> list[tuple[int, str]]:
    """The GIFT control characters of a text that no backslash escapes, with their positions."""
    found, index = [], 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] in "~=#{}:":
            found.append((index, text[index]))
        index += 1
    return found


def test_every_gift_question_has_one_answer_block_and_nothing_unescaped_outside_it(gift: str, bank) -> None:
    questions = []
    for block in gift.rstrip("\n").split("\n\n"):
        lines = [line for line in block.split("\n") if not line.startswith("//")]
        if not lines or lines[0].startswith("$CATEGORY: "):
            continue
        text = "\n".join(lines)
        marks = _unescaped(text)
        braces = [(i, c) for i, c in marks if c in "{}"]
        assert [c for _, c in braces] == ["{", "}"] and text.endswith(("}", "</p>")), block
        start, end = braces[0][0], braces[1][0]
        outside = [c for i, c in marks if not start <= i <= end]
        assert outside == [":", ":", ":", ":"], block  # the ::name:: delimiters only
        assert "\n" not in text[:start]  # a line break in the text would be written \n
        questions.append(text.split("::")[1])
    assert questions == [q.id for q in bank]


# -- the bank, its modules, determinism ------------------------------------------------------------


def test_modules_choose_the_modules_exported(handbook: Handbook) -> None:
    bank = {m: [q for q in pool if q.item.use != "exam"] for m, pool in question_bank(handbook, exercises=True).items()}
    items = _items(ET.fromstring(xp.export_bank(handbook, xp.ExportFormat.MOODLE, modules=[3, 2])))
    assert list(items) == [q.id for q in (*bank[2], *bank[3])]
    gift = xp.export_bank(handbook, xp.ExportFormat.GIFT, modules=[2]).decode("utf-8")
    categories = [line for line in gift.splitlines() if line.startswith("$CATEGORY:")]
    assert categories[0] == "$CATEGORY: $course$/top/Transformer 与 LLM 学习手册/2 Transformer 核心结构"
    assert len(categories) == 1 + len(handbook.modules[2].sections)
    with zipfile.ZipFile(io.BytesIO(xp.export_bank(handbook, xp.ExportFormat.QTI, modules=[13]))) as package:
        assert len(package.namelist()) == 1 + len(bank[13])


@pytest.mark.parametrize(
    "modules, message",
    [
        ([14], "--modules 14: unknown module 14; modules are 0–13"),
        ([2, 14, 99], "--modules 2,14,99: unknown modules 14, 99; modules are 0–13"),
    ],
)
def test_an_unknown_module_is_a_usage_error_naming_the_valid_ones(handbook, modules, message) -> None:
    with pytest.raises(UsageError) as caught:
        xp.export_bank(handbook, xp.ExportFormat.GIFT, modules=modules)
    assert str(caught.value) == message


@pytest.mark.parametrize("fmt", list(xp.ExportFormat))
def test_exporting_twice_gives_identical_bytes(fmt: xp.ExportFormat) -> None:
    first = xp.export_bank(open_handbook(SOURCE), fmt)
    assert xp.export_bank(open_handbook(SOURCE), fmt) == first


def test_parse_format() -> None:
    assert [xp.parse_format(t) for t in ("moodle", "GIFT", " qti ", "docx")] == list(xp.ExportFormat)
    assert [f.filename for f in xp.ExportFormat] == ["bank-moodle.xml", "bank-gift.txt", "bank-qti.zip", "bank.docx"]
    with pytest.raises(UsageError) as caught:
        xp.parse_format("csv")
    assert str(caught.value) == "--format csv: unknown format; choose one of moodle, gift, qti, docx"


def test_every_format_writes_every_shape_and_every_kind_has_one(bank) -> None:
    for writers in (moodle.WRITERS, gift_format.WRITERS, qti.WRITERS):
        assert set(writers) == set(SHAPES)
    shapes = {q.item.kind: interaction(q.item).shape for q in bank}
    assert set(shapes) == set(KINDS) and set(shapes.values()) <= set(SHAPES)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab中 <>&\"'$*`\\\n{}[]]")), max_size=40))
def test_inline_html_is_well_formed_with_only_the_documented_tags(text: str) -> None:
    fragment = ET.fromstring(f"<x>{inline_html(text)}</x>")
    assert {e.tag for e in fragment.iter()} <= {"x", "strong", "code", "br"}


# -- QTI 2.1 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package(handbook: Handbook) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(xp.export_bank(handbook, xp.ExportFormat.QTI)))


def test_qti_manifest_lists_every_item_and_the_zip_holds_them(package, bank) -> None:
    names = package.namelist()
    assert names == sorted(names) and names[0] == "imsmanifest.xml"
    assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert [r.get("identifier") for r in resources] == [f"Q_{q.id}" for q in bank]
    assert {r.get("type") for r in resources} == {"imsqti_item_xmlv2p1"}
    assert sorted(r.get("href") for r in resources) == names[1:]
    assert all(r.find(f"{CP}file").get("href") == r.get("href") for r in resources)


def _correct(item: ET.Element, identifier: str = "RESPONSE") -> list[str]:
    for declaration in item.findall(f"{QTI}responseDeclaration"):
        if declaration.get("identifier") == identifier:
            return [v.text or "" for v in declaration.findall(f"{QTI}correctResponse/{QTI}value")]
    raise AssertionError(f"no response {identifier}")


def test_each_qti_item_has_its_interaction_and_correct_response(package, bank) -> None:
    for q in bank:
        item = ET.fromstring(package.read(f"items/{q.id}.xml"))
        assert (item.tag, item.get("identifier"), item.get("title")) == (f"{QTI}assessmentItem", f"Q_{q.id}", q.id)
        body = item.find(f"{QTI}itemBody")
        source = q.item
        if q.kind in ("choice", "multi"):
            interaction = body.find(f"{QTI}choiceInteraction")
            choices = interaction.findall(f"{QTI}simpleChoice")
            assert [c.get("identifier") for c in choices] == list(LETTERS[: len(source.options)])
            assert _correct(item) == sorted(source.answer)
            assert interaction.get("maxChoices") == ("1" if q.kind == "choice" else str(len(choices)))
        elif q.kind == "truefalse":
            interaction = body.find(f"{QTI}choiceInteraction")
            assert [c.get("identifier") for c in interaction.findall(f"{QTI}simpleChoice")] == ["true", "false"]
            assert _correct(item) == [source.answer]
        elif q.kind == "fill":
            entries = body.findall(f".//{QTI}textEntryInteraction")
            assert len(entries) == len(blanks(source.q))
            for entry, answers in zip(entries, blanks(source.q), strict=True):
                name = entry.get("responseIdentifier")
                assert _correct(item, name) == typed_answers(answers)[:1]
        else:
            assert body.find(f"{QTI}extendedTextInteraction") is not None
            assert body.find(f"{QTI}rubricBlock").get("view") == "scorer"


def test_qti_fill_maps_every_accepted_answer_and_keeps_the_text_around_the_blank(package) -> None:
    item = ET.fromstring(package.read("items/1.2.f1.xml"))
    keys = [e.get("mapKey") for e in item.iter(f"{QTI}mapEntry")]
    assert keys == [
        "bits-per-byte",
        "bits per byte",
        "bits/byte",
        "BPB",
        "每字节比特数",
        "比特每字节",
        "bits-per-character",
        "bits per character",
        "BPC",
        "每字符比特数",
        "比特每字符",
    ]
    paragraph = item.find(f"{QTI}itemBody/{QTI}p")
    assert paragraph.text == "比较使用不同 tokenizer 的模型的语言建模能力时，除任务指标外，适合采用的指标是 "
    assert paragraph[0].tail == "。"
    assert item.find(f"{QTI}responseProcessing/{QTI}setOutcomeValue/{QTI}sum/{QTI}mapResponse") is not None


def test_qti_pinned_options_stay_fixed_and_formulas_stay_tex() -> None:
    tiny = _tiny(
        Exercise(id="1.1.c1", kind="choice", q="$x^2$ 是", options=("a", "b", "以上都不对"), answer="C", pinned=("C",)),
        Exercise(id="1.1.s1", kind="short", q="问", a="答", points=3, rubric=(RubricPoint("要点", 3),)),
    )
    with zipfile.ZipFile(io.BytesIO(xp.export_bank(tiny, xp.ExportFormat.QTI))) as package:
        choice = ET.fromstring(package.read("items/1.1.c1.xml"))
        short = ET.fromstring(package.read("items/1.1.s1.xml"))
    assert [c.get("fixed") for c in choice.iter(f"{QTI}simpleChoice")] == [None, None, "true"]
    assert choice.find(f"{QTI}itemBody/{QTI}p").text == r"\(x^2\) 是"
    rubric = short.find(f"{QTI}itemBody/{QTI}rubricBlock")
    assert "".join(rubric.itertext()) == "【参考答案】答【评分要点】要点（3 分）"


def test_the_per_option_rule_gives_each_right_option_its_share_and_any_wrong_one_zero() -> None:
    item = Exercise(id="1.1.m1", kind="multi", q="选出正确的", options=("甲", "乙", "丙", "丁", "戊"), answer="ACD")
    tiny = _tiny(item)
    per_option = xp.ExportOptions(rules=Rules("per-option"))
    question = _items(ET.fromstring(xp.export_bank(tiny, xp.ExportFormat.MOODLE, options=per_option)))["1.1.m1"]
    assert _fractions(question) == [33.33333, -100.0, 33.33333, 33.33333, -100.0]
    assert _fractions(_items(ET.fromstring(xp.export_bank(tiny, xp.ExportFormat.MOODLE)))["1.1.m1"]) == [
        33.33333,
        -50.0,
        33.33333,
        33.33333,
        -50.0,
    ]
    with zipfile.ZipFile(io.BytesIO(xp.export_bank(tiny, xp.ExportFormat.QTI, options=per_option))) as package:
        root = ET.fromstring(package.read("items/1.1.m1.xml"))
    mapping = {e.get("mapKey"): e.get("mappedValue") for e in root.iter(f"{QTI}mapEntry")}
    assert mapping == {"A": "0.33333", "B": "-1", "C": "0.33333", "D": "0.33333", "E": "-1"}
    assert root.find(f"{QTI}responseProcessing").get("template").endswith("map_response")
    assert "~%-100%乙" in xp.export_bank(tiny, xp.ExportFormat.GIFT, options=per_option).decode()


def test_the_held_back_pool_goes_out_only_when_asked() -> None:
    held = Exercise(id="1.1.ec1", kind="choice", q="题", options=("甲", "乙"), answer="A", use="exam")
    tiny = _tiny(Exercise(id="1.1.c1", kind="choice", q="题", options=("甲", "乙"), answer="B"), held)
    assert list(_items(ET.fromstring(xp.export_bank(tiny, xp.ExportFormat.MOODLE)))) == ["1.1.c1"]
    exam = xp.ExportOptions(pool="exam")
    assert list(_items(ET.fromstring(xp.export_bank(tiny, xp.ExportFormat.MOODLE, options=exam)))) == ["1.1.ec1"]
    every = xp.ExportOptions(pool="all")
    assert len(_items(ET.fromstring(xp.export_bank(tiny, xp.ExportFormat.MOODLE, options=every)))) == 2


def test_a_blank_compared_by_value_goes_out_as_a_number_with_its_range() -> None:
    """#29: `[[6±0.1 m/s]]` was exported as the text 「6±0.1 m/s」 to type; a platform now grades a number in
    the range paperkit accepts (significant figures as their range), the unit optional where the format has one."""
    handbook = _tiny(
        Exercise(id="1.1.f1", kind="fill", q="3 s 末的速度为 [[6±0.1 m/s]]。"),
        Exercise(id="1.1.f2", kind="fill", q="重力为 [[19.6 sf]] N，质量为 [[2.0]] kg。", points=4),
    )
    items = _items(ET.fromstring(xp.export_bank(handbook, xp.ExportFormat.MOODLE)))
    one = items["1.1.f1"]
    assert one.get("type") == "numerical"
    assert (one.findtext("answer/text"), one.findtext("answer/tolerance")) == ("6.0", "0.1")
    assert one.findtext("units/unit/unit_name") == "m/s" and one.findtext("unitgradingtype") == "0"
    cloze = items["1.1.f2"].findtext("questiontext/text") or ""
    assert "{2:NUMERICAL:=19.60:0.05}" in cloze and "{2:SHORTANSWER:=2.0}" in cloze
    gift = xp.export_bank(handbook, xp.ExportFormat.GIFT).decode("utf-8")
    assert "3 s 末的速度为 {#5.9..6.1}。" in gift and "6±0.1" not in gift
    with zipfile.ZipFile(io.BytesIO(xp.export_bank(handbook, xp.ExportFormat.QTI))) as package:
        root = ET.fromstring(package.read("items/1.1.f1.xml"))
    declaration = root.find(f"{QTI}responseDeclaration")
    assert declaration is not None and declaration.get("baseType") == "float"
    equal = root.find(f".//{QTI}equal")
    assert equal is not None and equal.get("tolerance") == "0.1 0.1"
    assert equal.findtext(f"{QTI}baseValue") == "6.0"
