"""Issue 31, rows 5, 14 and 18: what paperkit writes out is what was meant. A blank that is only spacing is a
content error; GIFT is read back by a port of Moodle's own reader; every option text a paper prints is in the
fonts; and a reprint goes back into the folder its manifest came from, as docs/exams.md says."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

import paperkit.export as xp
from conftest import MODULE_YAML, SOURCE, write_handbook
from paperkit.cli import app
from paperkit.content.models import Exercise, Handbook, Module, Section
from paperkit.errors import OutputError
from paperkit.exam.job import build_exam, source_from
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import plan_exam, plan_from_manifest
from paperkit.export.common import inline_html, interaction, typed_answers
from paperkit.questions.bank import question_bank

runner = CliRunner()
M = "source/modules/01-first.yaml"


# -- row 14: a blank that is only spacing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "empty"),
    [
        (r"$\,$", True),
        (r"$\quad$", True),
        (r"$\ \;$", True),
        ("$~$", True),
        (r"$\hspace{1em}$", True),
        (r"$\phantom{x}$", True),
        (r"$\text{ }$", True),
        (r"$\mathrm{\,}$", True),
        (r"$\,$ $\;$", True),
        ("\u3000", True),  # a full-width space from a Chinese IME
        ("\u200b", True),  # a zero-width space
        ("`` ``", True),
        ("x", False),
        ("0", False),
        (r"$x\,y$", False),
        (r"$\{\}$", False),
        (r"$-\infty$", False),
        (r"$\text{ }x$", False),
        ("**  **", False),  # not bold: it prints as written
    ],
)
def test_an_answer_prints_nothing_when_only_its_spacing_is_left(answer: str, empty: bool) -> None:
    from paperkit.questions.fill import prints_nothing

    assert prints_nothing(answer) is empty


def _fill_items(*questions: str) -> dict[str, str]:
    items = "".join(f"  - id: 1.1.f{n}\n    kind: fill\n    q: '{q}'\n" for n, q in enumerate(questions, start=1))
    return {"01-first.yaml": MODULE_YAML + "  exercises:\n" + items}


def test_a_blank_that_is_only_spacing_is_a_validate_error_and_export_stops_on_it(in_tmp: Path) -> None:
    write_handbook(in_tmp, _fill_items(r"空 [[$\,$]] 在此", r"空 [[答案|$\quad$]] 在此", "空 [[`` ``]] 在此"))
    expected = [
        f"{M}:21:8: sections[0].exercises[0].q: blank 1's answer '$\\,$' is only spacing; "
        "write [[answer]] or [[answer|alternative]]",
        f"{M}:24:8: sections[0].exercises[1].q: blank 1's answer '$\\quad$' is only spacing; "
        "write [[answer]] or [[answer|alternative]]",
        f"{M}:27:8: sections[0].exercises[2].q: blank 1's answer '`` ``' is only spacing; "
        "write [[answer]] or [[answer|alternative]]",
        "3 errors in source/; nothing was built.",
    ]
    result = runner.invoke(app, ["validate"])
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected)
    for fmt in ("qti", "gift", "moodle"):
        result = runner.invoke(app, ["export", "--format", fmt])
        assert (result.exit_code, result.stderr.splitlines()) == (1, expected), fmt
    assert not (in_tmp / "build").exists()


# -- row 14: GIFT read back as Moodle reads it --------------------------------------------------------------
#
# A port of qformat_gift::readquestion (moodle/question/format/gift/format.php) for the question types paperkit
# writes: the escapes it knows (\\ \: \# \= \{ \} \~ \n and nothing else), the ::name::, the [format] of a text,
# the first {…} block, #### general feedback, the type from what the block holds, %n% credits and # feedback.

_ESCAPES = (("\\:", "&&058;"), ("\\#", "&&035;"), ("\\=", "&&061;"), ("\\{", "&&123;"), ("\\}", "&&125;"))
_ESCAPES += (("\\~", "&&126;"), ("\\n", "&&010"))
_CHARS = {"&&058;": ":", "&&035;": "#", "&&061;": "=", "&&123;": "{", "&&125;": "}", "&&126;": "~", "&&010": "\n"}
_WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")  # $giftanswerweightregex
_FORMATS = ("moodle", "html", "plain", "markdown")


def _trim(text: str) -> str:
    return text.strip(" \t\n\r\0\x0b")  # PHP's trim, not str.strip: a full-width space stays


def _pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _ESCAPES:
        text = text.replace(escaped, placeholder)
    return text.replace("&&092;", "\\")


def _post(text: str) -> str:
    for placeholder, char in _CHARS.items():
        text = text.replace(placeholder, char)
    return text


def _with_format(text: str, default: str = "moodle") -> tuple[str, str]:
    """parse_text_with_format: (format, text)."""
    fmt = default
    if text.startswith("[") and "]" in text:
        name = text[1 : text.index("]")]
        if name in _FORMATS:
            fmt, text = name, text[text.index("]") + 1 :]
    return fmt, _trim(_post(text))


def _weight(answer: str) -> tuple[float, str]:
    """answerweightparser."""
    answer = answer[1:]
    end = answer.index("%")
    return float(answer[:end]) / 100, answer[end + 1 :]


@dataclass
class Read:
    """A GIFT question as Moodle imports it."""

    qtype: str
    name: str = ""
    text: str = ""
    fmt: str = ""
    feedback: str = ""
    answers: list[tuple[str, float]] = field(default_factory=list)  # (answer text, fraction)
    truth: bool | None = None


def read_gift(block: str) -> Read:
    """One GIFT question (a block between blank lines) as qformat_gift reads it."""
    lines = [" " if _trim(line).startswith("//") else line for line in block.split("\n")]
    text = _pre(_trim("\n".join(lines)))
    if text.startswith("$CATEGORY:"):
        return Read("category", text=_trim(text[10:]))
    name = ""
    if text.startswith("::"):
        text = text[2:]
        name, text = _post(text[: text.index("::")]), _trim(text[text.index("::") + 2 :])
    start, finish = text.find("{"), text.find("}")
    assert start != -1 and finish != -1, block  # a description or a brace error: paperkit writes neither
    answer_text = _trim(text[start + 1 : finish])
    question = text[:start] + ("" if text.endswith("}") else "_____") + text[finish + 1 :]
    general = ""
    if "####" in answer_text:
        cut = answer_text.rindex("####")
        general, answer_text = answer_text[cut + 4 :], _trim(answer_text[:cut])
    fmt, question = _with_format(question)
    read = Read("", name, question, fmt, _with_format(general, fmt)[1])
    if answer_text == "":
        read.qtype = "essay"
    elif answer_text[0] == "#":
        read.qtype = "numerical"
    elif "~" in answer_text:
        read.qtype = "multichoice"
        answers = answer_text.replace("=", "~=").split("~")
        if not _trim(answers[0]):
            answers.pop(0)
        for answer in map(_trim, answers):
            if answer[0] == "=":
                fraction, answer = 1.0, answer[1:]
            elif _WEIGHT.match(answer):
                fraction, answer = _weight(answer)
            else:
                fraction = 0.0
            read.answers.append((_with_format(_trim(answer.split("#", 1)[0]), fmt)[1], fraction))
    elif "=" in answer_text and "->" in answer_text:
        read.qtype = "match"
    elif _trim(answer_text.split("#", 1)[0]) in ("T", "TRUE", "F", "FALSE"):
        read.qtype = "truefalse"
        read.truth = _trim(answer_text.split("#", 1)[0]) in ("T", "TRUE")
    else:
        read.qtype = "shortanswer"
        answers = answer_text.split("=")
        if not _trim(answers[0]):
            answers.pop(0)
        for answer in map(_trim, answers):
            fraction = 1.0
            if _WEIGHT.match(answer):
                fraction, answer = _weight(answer)
            read.answers.append((_with_format(_trim(answer.split("#", 1)[0]), fmt)[1], fraction))
    return read


def _tiny(*items: Exercise) -> Handbook:
    section = Section(id="1.1", title="第一节", overview="概述。", must_know=("要点",), exercises=items)
    module = Module(id=1, title="第一模块", objective="目标。", sections=(section,))
    return Handbook(title="小手册", date="2026-01-18", language="zh-CN", modules=(module,))


def _gift_blocks(handbook: Handbook) -> dict[str, str]:
    text = xp.export_bank(handbook, xp.ExportFormat.GIFT).decode("utf-8")
    blocks = [b for b in text.rstrip("\n").split("\n\n") if "::" in b]
    return {read_gift(b).name: b for b in blocks}


HOSTILE = _tiny(
    Exercise(id="1.1.f1", kind="fill", q="指针写作 [[p->next]]。"),
    Exercise(id="1.1.f2", kind="fill", q="占比 [[%50%|一半]]。"),
    Exercise(id="1.1.f3", kind="fill", q="箭头 [[a->b|a 指向 b]]。"),
    Exercise(id="1.1.f4", kind="fill", q="标记 [[[html]x]]。"),
    Exercise(id="1.1.f5", kind="fill", q="值 [[#1:2]]。"),
    Exercise(id="1.1.f6", kind="fill", q="答 [[T]]。"),
    Exercise(id="1.1.c1", kind="choice", q="选一项", options=("%50% 的人", "b->c", "[html]甲", "%5%"), answer="B"),
    Exercise(id="1.1.c2", kind="choice", q="再选", options=("%0%", "x=1", "y", "z"), answer="A"),
    Exercise(id="1.1.m1", kind="multi", q="选多项", options=("%50% 的人", "[moodle]乙", "丙", "丁"), answer="AB"),
)


def test_gift_writes_what_moodle_cannot_misread_exactly() -> None:
    blocks = _gift_blocks(HOSTILE)
    # A lone answer with -> goes without its = (an = beside a -> is a matching question); a %n% at an answer's
    # start gets the answer's own credit first; a [format] at its start gets an [html] first.
    assert blocks["1.1.f1"] == "::1.1.f1::[html]<p>指针写作 {p->next}。</p>"
    assert blocks["1.1.f2"] == "::1.1.f2::[html]<p>占比 {=%100%%50% =一半}。</p>"
    assert blocks["1.1.f3"] == (
        '// 1.1.f3: an answer holds "->" beside others, which GIFT reads as a matching question: an essay here '
        "(Moodle XML: short answer)\n"
        "::1.1.f3::[html]<p>箭头 _____。</p>{####<p>第 1 空：a-&gt;b（也可答：a 指向 b）</p>}"
    )
    assert blocks["1.1.f4"] == "::1.1.f4::[html]<p>标记 {=[html][html]x}。</p>"
    assert blocks["1.1.f5"] == "::1.1.f5::[html]<p>值 {=\\#1\\:2}。</p>"
    assert blocks["1.1.f6"] == "::1.1.f6::[html]<p>答 {=T}。</p>"
    assert blocks["1.1.c1"] == (
        "::1.1.c1::[html]<p>选一项</p>{\n\t~%0%%50% 的人\n\t=b-&gt;c\n\t~[html][html]甲\n\t~%0%%5%\n}"
    )
    assert blocks["1.1.c2"] == "::1.1.c2::[html]<p>再选</p>{\n\t=%0%\n\t~x\\=1\n\t~y\n\t~z\n}"
    assert blocks["1.1.m1"] == (
        "::1.1.m1::[html]<p>选多项</p>{\n\t~%50%%50% 的人\n\t~%50%[html][moodle]乙\n\t~%-50%丙\n\t~%-50%丁\n}"
    )


def test_moodle_reads_every_hostile_item_back_as_it_was_meant() -> None:
    blocks = _gift_blocks(HOSTILE)
    read = {name: read_gift(block) for name, block in blocks.items()}
    assert (read["1.1.f1"].qtype, read["1.1.f1"].answers) == ("shortanswer", [("p->next", 1.0)])
    assert (read["1.1.f2"].qtype, read["1.1.f2"].answers) == ("shortanswer", [("%50%", 1.0), ("一半", 1.0)])
    assert read["1.1.f3"].qtype == "essay" and "a-&gt;b" in read["1.1.f3"].feedback
    assert (read["1.1.f4"].qtype, read["1.1.f4"].answers) == ("shortanswer", [("[html]x", 1.0)])
    assert (read["1.1.f5"].qtype, read["1.1.f5"].answers) == ("shortanswer", [("#1:2", 1.0)])
    assert (read["1.1.f6"].qtype, read["1.1.f6"].answers) == ("shortanswer", [("T", 1.0)])  # `=T` is not true/false
    assert read["1.1.c1"].answers == [("%50% 的人", 0.0), ("b-&gt;c", 1.0), ("[html]甲", 0.0), ("%5%", 0.0)]
    assert read["1.1.c2"].answers == [("%0%", 1.0), ("x=1", 0.0), ("y", 0.0), ("z", 0.0)]
    assert read["1.1.m1"].answers == [("%50% 的人", 0.5), ("[moodle]乙", 0.5), ("丙", -0.5), ("丁", -0.5)]
    assert {r.qtype for r in read.values()} == {"shortanswer", "essay", "multichoice"}


# What each shape becomes in Moodle, as gift.py means it (a fill-in with several blanks is an essay there).
_QTYPE = {"options": "multichoice", "statement": "truefalse", "essay": "essay"}


def test_the_whole_bank_reads_back_as_written(handbook: Handbook) -> None:
    text = xp.export_bank(handbook, xp.ExportFormat.GIFT, options=xp.ExportOptions(pool="all")).decode("utf-8")
    by_id = {q.id: q.item for items in question_bank(handbook, exercises=True).values() for q in items}
    blocks = [b for b in text.rstrip("\n").split("\n\n") if "::" in b]
    assert len(blocks) == len(by_id)
    for block in blocks:
        read = read_gift(block)
        shape = interaction(by_id[read.name])
        blanks = [answers for text, answers in shape.segments if not text]
        one_blank = "shortanswer" if len(blanks) == 1 else "essay"
        expected = one_blank if shape.shape == "blanks" else _QTYPE[shape.shape]
        assert read.qtype == expected, block
        assert read.fmt == "html", block
        if read.qtype == "multichoice":
            assert [a for a, _ in read.answers] == [inline_html(o).strip() for o in shape.options], block
            assert [f > 0 for _, f in read.answers] == [i in shape.correct for i in range(len(shape.options))]
        elif read.qtype == "shortanswer":
            typed = [a.replace("*", "\\*") for a in typed_answers(blanks[0])]
            assert read.answers == [(a, 1.0) for a in typed], block
        elif read.qtype == "truefalse":
            assert read.truth == shape.truth, block


# -- row 18: every printed option text is in the fonts ----------------------------------------------------


def test_every_printed_option_is_checked_against_the_fonts_before_anything_renders(in_tmp: Path) -> None:
    options = ["--seal-line", "--seal-fields", "考场号,😀", "--date", "2026-06-01"]
    result = runner.invoke(app, ["exam", "--source", str(SOURCE), "--modules", "2", "--count", "2", *options])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            "--seal-fields: character '😀' (U+1F600, grinning face) is not in the shipped fonts; write it another way",
            "1 error in the exam options; nothing was built.",
        ],
    )
    assert not (in_tmp / "build").exists()


def _manifest(folder: Path, roster: Path | None = None) -> Path:
    """An exam's manifest.json as a build writes it, without rendering its papers."""
    flags = ExamFlags(modules="2", count="2", roster=roster)
    plan = plan_exam(parse_exam_flags(flags), SOURCE, folder)
    path = folder / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest_json(plan.manifest, source_from(folder, SOURCE)), encoding="utf-8")
    return path


def test_a_reprint_checks_its_header_and_its_recorded_students_too(in_tmp: Path) -> None:
    (in_tmp / "r.csv").write_text("姓名,学号\n张三,1\n李四,2\n", encoding="utf-8")
    manifest = _manifest(in_tmp / "exam", in_tmp / "r.csv")
    reprint = ["exam", "--from-manifest", str(manifest), "--source", str(SOURCE), "--out", "out"]
    result = runner.invoke(app, [*reprint, "--course", "物理🦜", "--title", "期中"])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            "--course: character '🦜' (U+1F99C, parrot) is not in the shipped fonts; write it another way",
            f"1 error in {manifest}; nothing was built.",
        ],
    )
    # A manifest is input: a name edited into it is checked as a roster's would be.
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["students"][1]["name"] = "李😀"
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, reprint)
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            f"{manifest}: 姓名 李😀: character '😀' (U+1F600, grinning face) is not in the shipped fonts; "
            "write it another way",
            f"1 error in {manifest}; nothing was built.",
        ],
    )
    assert not (in_tmp / "out").exists()


# -- row 5: a reprint into the folder it came from -----------------------------------------------------------


def test_a_reprint_replaces_the_folder_its_manifest_came_from_byte_for_byte(in_tmp: Path) -> None:
    # docs/exams.md's own: `paperkit exam --from-manifest build/exams/m2-3-8_s7_n10/manifest.json`, into build/exams/.
    result = runner.invoke(app, ["exam", "--source", str(SOURCE), "--modules", "2", "--count", "2"])
    assert result.exit_code == 0, result.output
    exams = in_tmp / "build" / "exams"
    folder = exams / "m2_s0_n2"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / "scores.xlsx").write_bytes(b"the teacher's")
    reprint = ["exam", "--from-manifest", "build/exams/m2_s0_n2/manifest.json", "--source", str(SOURCE)]
    result = runner.invoke(app, reprint)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "scores.xlsx"} == before
    assert (folder / "scores.xlsx").read_bytes() == b"the teacher's"  # carried over, as on any rebuild
    assert sorted(p.name for p in exams.iterdir()) == ["m2_s0_n2"]  # no staging folder or lock left


def test_a_manifest_elsewhere_in_the_folder_is_still_an_input(in_tmp: Path) -> None:
    manifest = _manifest(in_tmp / "out" / "m2_s0_n2")
    kept = manifest.with_name("kept.json")
    shutil.copy(manifest, kept)
    plan = plan_from_manifest(kept, SOURCE, in_tmp / "out")
    with pytest.raises(OutputError, match=r"would overwrite an input .*kept\.json"):
        build_exam(plan)
    assert not (manifest.parent / "paper.pdf").exists()
