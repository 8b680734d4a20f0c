"""--docx (issue 33 point 2): each variant's paper and key as a Word document a teacher edits, read back with
python-docx and checked against the PDFs beside them (headings, numbers, points, options, key letters), with Word
equations, PAGE/NUMPAGES fields and East Asian fonts; LibreOffice opens and converts them; the same exam gives
the same bytes; a build without --docx is the build it was."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app
from paperkit.errors import UsageError
from paperkit.exam.job import build_exam, output_files, word_documents, word_files
from paperkit.exam.manifest import manifest_json
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.plan import ExamPlan, plan_exam, plan_from_manifest
from paperkit.export import omml
from paperkit.export.docx import PAPER, WordFiles, docx_files
from paperkit.paths import FONTS
from paperkit.questions.choice import printed_answer, printed_order
from paperkit.questions.kind import LETTERS
from paperkit.text.markup import inline_tokens
from pdftext import squash

runner = CliRunner()
PARTS = "choice:8x2,multi:2x3,truefalse:5x2,fill:5x2,short:4x10"  # every kind; formulas in stems and options
FLAGS = {"modules": "2,3,8", "seed": "7", "parts": PARTS, "variants": "2"}
ARGS = ["exam", "--modules", "2,3,8", "--seed", "7", "--parts", PARTS, "--variants", "2"]
M_TEXT, TAB = qn("m:t"), qn("w:tab")


def _plan(out: Path, **flags: Any) -> ExamPlan:
    return plan_exam(parse_exam_flags(ExamFlags(**{**FLAGS, **flags})), SOURCE, out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExamPlan, Path, str]:
    """One blueprint exam, two variants, built with --docx through the command line: its plan, folder, stderr."""
    out = tmp_path_factory.mktemp("docx")
    result = runner.invoke(app, [*ARGS, "--docx", "--source", str(SOURCE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = _plan(out, docx=True)
    return plan, plan.out_dir, result.stderr


def _text(element: Any) -> str:
    """What a reader sees of a paragraph: its runs' text and its equations' text, in order."""
    nodes = [n for n in element.iter(qn("w:t"), M_TEXT, TAB) if n.tag != TAB or n.getparent().tag == qn("w:r")]
    return "".join("\t" if node.tag == TAB else node.text or "" for node in nodes)  # not the tab stops


def _paragraphs(path: Path, style: str) -> list[str]:
    document = Document(str(path))
    return [_text(p._p) for p in document.paragraphs if p.style is not None and p.style.style_id == style]


def _pdf(path: Path) -> str:
    return squash("".join(page.extract_text() for page in PdfReader(path).pages))


def test_every_variant_gets_a_paper_and_a_key_beside_its_pdfs(built: tuple[ExamPlan, Path, str]) -> None:
    plan, folder, stderr = built
    words = ["paper-A.docx", "key-A.docx", "paper-B.docx", "key-B.docx"]
    assert word_files(plan) == words
    assert output_files(plan) == [
        *("paper-A.pdf", "key-A.pdf", "paper-B.pdf", "key-B.pdf"),
        *words,
        "manifest.json",
    ]
    # and the folder's record of what paperkit wrote, so a Word file the teacher edits is never replaced
    assert sorted(p.name for p in folder.iterdir()) == sorted([*output_files(plan), ".paperkit-written.json"])
    assert "docx" not in stderr  # every formula of this exam is a Word equation: nothing to say
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["docx"] is True


def test_the_part_headings_numbers_and_points_are_the_pdfs(built: tuple[ExamPlan, Path, str]) -> None:
    plan, folder, _ = built
    for doc in ("paper", "key"):
        pdf = _pdf(folder / f"{doc}-A.pdf")
        headings = _paragraphs(folder / f"{doc}-A.docx", "PartHeading")
        assert headings == [part.heading for part in plan.exams["A"].parts]
        at = 0
        for heading in headings:  # in the PDF's order
            at = pdf.index(squash(heading), at) + 1
    paper = _paragraphs(folder / "paper-A.docx", "Question")
    asked = [tuple(map(int, m.groups())) for s in paper if (m := re.match(r"(\d+)\.\t（(\d+) 分）", s))]
    assert asked == [(q.number, q.points) for q in plan.exams["A"].questions]
    pdf, at = _pdf(folder / "paper-A.pdf"), 0
    for number, points in asked:  # the PDF prints them in the same order («20005.» would match 5: digits touch)
        at = pdf.index(f"{number}.（{points}分）", at) + 1


def test_the_options_are_in_the_printed_order_with_the_brackets(built: tuple[ExamPlan, Path, str]) -> None:
    plan, folder, _ = built
    document = Document(str(folder / "paper-A.docx"))
    body = [p for p in document.paragraphs if p.style is not None]
    stems = {int(m.group(1)): i for i, p in enumerate(body) if (m := re.match(r"(\d+)\.\t", _text(p._p)))}
    checked = 0
    for q in plan.exams["A"].questions:
        stem = _text(body[stems[q.number]]._p)
        if not q.question.item.options:
            continue
        assert stem.endswith("\t（" + "\u00a0" * 8 + "）"), stem  # 「（　　）」 at the right margin
        rows = []
        for p in body[stems[q.number] + 1 :]:
            if p.style.style_id != "Option":
                break
            rows += _text(p._p).split("\t")
        expected = [q.question.item.options[i] for i in printed_order(q)]
        assert [row[:3] for row in rows] == [f"{LETTERS[i]}. " for i in range(len(expected))]
        # The words of each option (its formulas are equations, checked below) as the paper prints them.
        words = ["".join(t.content for t in inline_tokens(o) if t.type != "math_inline") for o in expected]
        assert all(squash(w) in squash(row) for w, row in zip(words, rows, strict=True)), (rows, expected)
        checked += 1
    assert checked == 10
    truefalse = [q for q in plan.exams["A"].questions if q.question.kind == "truefalse"]
    assert all(_text(body[stems[q.number]]._p).endswith("）") for q in truefalse)


def test_the_key_letters_and_quick_line_are_the_key_pdfs(built: tuple[ExamPlan, Path, str]) -> None:
    plan, folder, _ = built
    document = Document(str(folder / "key-A.docx"))
    pdf = _pdf(folder / "key-A.pdf")
    letters = {
        int(row.cells[0].text): row.cells[1].text
        for table in document.tables
        for row in table.rows[1:]
        if len(row.cells) == 3 and row.cells[0].text.isdigit()
    }
    lettered = {q.number: printed_answer(q) for q in plan.exams["A"].questions if q.question.item.options}
    assert {n: letters[n] for n in lettered} == lettered
    for number, answer in letters.items():
        assert f"{number}{answer}出自" in pdf, (number, answer)
    quick = next(t.rows[0].cells[0].text for t in document.tables if t.rows[0].cells[0].text.startswith("答案速查"))
    assert squash(quick) in pdf
    answers = "".join(_paragraphs(folder / "key-A.docx", "KeyAnswer"))
    assert "【参考答案】" in answers and "【评分要点】" in answers and "第 1 空" in answers


def test_formulas_are_word_equations_and_the_footer_counts_pages(built: tuple[ExamPlan, Path, str]) -> None:
    _, folder, _ = built
    for name in ("paper-A.docx", "key-A.docx"):
        document = Document(str(folder / name))
        assert document.element.body.findall(f".//{qn('m:oMath')}"), name
        footer = document.sections[0].footer._element.xml
        assert "PAGE " in footer and " NUMPAGES " in footer and "第 " in footer and " 页 共 " in footer
        section = document.sections[0]
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        fonts = {
            style.style_id: style.element.rPr.rFonts.get(qn("w:eastAsia"))
            for style in document.styles
            if style.style_id in ("Normal", "PartHeading", "ExamTitle")
        }
        assert fonts == {"Normal": "宋体", "PartHeading": "黑体", "ExamTitle": "黑体"}


def test_libreoffice_opens_and_converts_both(built: tuple[ExamPlan, Path, str], tmp_path: Path) -> None:
    _, folder, _ = built
    converted = converted_to_pdf([folder / "paper-A.docx", folder / "key-A.docx"], tmp_path)
    for pdf in converted:
        assert len(PdfReader(pdf).pages) >= 1


def converted_to_pdf(files: list[Path], folder: Path) -> list[Path]:
    """The documents as LibreOffice Writer prints them, headless, with a profile of the test's own, in one run."""
    # tests/test_recalc.py's `recalculated` does the same for a workbook (Calc, to .xlsx, opened with openpyxl).
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is missing: `make test` installs it (scripts/setup-test-tools.sh)"
    out = folder / "converted"
    command = [soffice, f"-env:UserInstallation=file://{folder / 'lo-profile'}", "--headless"]
    command += ["--convert-to", "pdf", "--outdir", str(out), *map(str, files)]
    # LibreOffice needs the system's fonts (paperkit points fontconfig at its own for WeasyPrint), and a Chinese
    # face: a machine with none (only DejaVu, as the test tools install) printed 「练习答案」 as other glyphs.
    # The shipped Noto faces are added to the system's configuration, nothing is installed.
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{FONTS}</dir><cachedir>{folder / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")} | {"FONTCONFIG_FILE": str(config)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    pdfs = [out / f"{file.stem}.pdf" for file in files]
    assert done.returncode == 0 and all(p.is_file() for p in pdfs), (
        "LibreOffice Writer could not convert the .docx (is libreoffice-writer-nogui installed?): "
        + done.stdout
        + done.stderr
    )
    return pdfs


def test_the_same_exam_gives_the_same_bytes(built: tuple[ExamPlan, Path, str]) -> None:
    plan, folder, _ = built
    omml._CONVERTED.clear()  # as a new process would: pandoc runs again
    again = docx_files(word_documents(plan))
    assert again.files == [(folder / name).read_bytes() for name in word_files(plan)]
    for name in word_files(plan):
        members = zipfile.ZipFile(folder / name).infolist()
        assert {m.date_time for m in members} == {(1980, 1, 1, 0, 0, 0)}
        assert b"dcterms:created" not in zipfile.ZipFile(folder / name).read("docProps/core.xml")


def test_a_build_without_docx_is_the_build_it_was(built: tuple[ExamPlan, Path, str]) -> None:
    plan, _, _ = built
    plain = _plan(plan.out_dir.parent)
    assert plain.out_dir == plan.out_dir and plain.manifest.exam_id == plan.manifest.exam_id
    assert word_files(plain) == [] and not any(name.endswith(".docx") for name in output_files(plain))
    assert output_files(plain) == [name for name in output_files(plan) if not name.endswith(".docx")]
    assert "docx" not in json.loads(manifest_json(plain.manifest))
    recorded = json.loads(manifest_json(plan.manifest))
    assert recorded.pop("docx") is True and recorded == json.loads(manifest_json(plain.manifest))


def test_a_reprint_keeps_docx_and_may_add_it(built: tuple[ExamPlan, Path, str], tmp_path: Path) -> None:
    plan, folder, _ = built
    kept = plan_from_manifest(folder / "manifest.json", SOURCE, tmp_path)
    assert kept.options.docx and not kept.manifest.reprint and kept.out_dir.name == folder.name
    without = tmp_path / "manifest.json"
    data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del data["docx"]
    without.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    added = plan_from_manifest(without, SOURCE, tmp_path, ExamFlags(docx=True))
    assert added.options.docx and added.manifest.reprint == {"of": plan.manifest.exam_id, "changed": ["--docx"]}
    data["docx"] = "yes"
    without.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(UsageError) as error:
        plan_from_manifest(without, SOURCE, tmp_path)
    assert str(error.value) == f"--from-manifest {without}: docx: expected true or false, got 'yes'"


def test_with_a_roster_the_word_files_are_per_variant(tmp_path: Path) -> None:
    roster = tmp_path / "class.csv"
    roster.write_text("姓名,学号\n张三,01\n李四,02\n王五,03\n", encoding="utf-8")
    plan = _plan(tmp_path, roster=roster, docx=True)
    assert word_files(plan) == ["paper-A.docx", "key-A.docx", "paper-B.docx", "key-B.docx"]
    assert output_files(plan)[-5:] == [*word_files(plan), "manifest.json"]


def test_a_formula_pandoc_cannot_read_is_plain_text_and_said_once(built: tuple[ExamPlan, Path, str]) -> None:
    plan, _, _ = built
    exam = plan.exams["A"]
    paper = dict(word_documents(replace(plan, exams={"A": exam}))[0][1])
    paper["title"] = r"试卷 $\unknowncmd x$ 与 $\alsounknown$"
    made = docx_files([(PAPER, paper)])
    assert made.plain == (r"\unknowncmd x", r"\alsounknown")
    assert made.warning == (
        r"2 formulas are plain text in the .docx files, not Word equations: $\unknowncmd x$, $\alsounknown$"
    )
    title = _text(Document(io.BytesIO(made.files[0])).paragraphs[0]._p)
    assert title == "试卷 unknowncmd x 与 alsounknown A 卷"


def test_without_pandoc_every_formula_is_plain_text(
    built: tuple[ExamPlan, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pypandoc  # type: ignore[import-untyped]

    def missing() -> str:
        raise OSError("No pandoc was found")

    plan, _, _ = built
    monkeypatch.setattr(omml, "_CONVERTED", {})
    monkeypatch.setattr(pypandoc, "get_pandoc_path", missing)
    made = docx_files(word_documents(plan)[:2])
    assert made.warning == "pandoc did not run (No pandoc was found); the formulas in the .docx files are plain text"
    assert len(made.files) == 2 and all(zipfile.is_zipfile(io.BytesIO(data)) for data in made.files)
    assert not Document(io.BytesIO(made.files[1])).element.body.findall(f".//{qn('m:oMath')}")
    assert WordFiles([]).warning == ""


def test_a_library_build_asked_for_docx_needs_the_writer(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pass word="):
        build_exam(_plan(tmp_path, docx=True))
    assert not (tmp_path / _plan(tmp_path).out_dir.name).exists()


def test_the_help_says_what_docx_leaves_out() -> None:
    result = runner.invoke(app, ["exam", "--help"], terminal_width=200)
    text = re.sub(r"[\s│]+", " ", result.stdout)
    assert "--docx" in text and "no seal line" in text and "not one per student" in text


def test_tables_and_figures_of_the_content_are_word_tables_and_pictures(built: tuple[ExamPlan, Path, str]) -> None:
    from PIL import Image

    from paperkit.text.figures import keep

    plan, _, _ = built
    png = io.BytesIO()
    Image.new("RGB", (600, 300), "white").save(png, "PNG")
    picture, drawing = keep(png.getvalue(), "png"), keep(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "svg")
    paper = word_documents(plan)[0][1]
    view = paper["parts"][0]["questions"][0]
    view["prompt"] = (
        f"测得数据如下：\n| 次数 | 电压 $U$/V |\n|---|---:|\n| 1 | 1.5 |\n电阻约为 ![电路图]({picture}){{width=40mm}}"
        f"与 ![示意]({drawing}){{inline}}"
    )
    lead = "阅读下面的材料，完成第 2–3 题。"
    paper["parts"][0]["questions"][1].update(material="某模型的 $d_k=64$。", material_lead=lead)
    made = docx_files([(PAPER, paper)])
    assert made.warning == (
        "1 figure is only a caption in the .docx files (Word files take PNG or JPEG pictures python-docx can read; "
        "an SVG is not one)"
    )
    document = Document(io.BytesIO(made.files[0]))
    data = next(t for t in document.tables if t.rows[0].cells[0].text == "次数")
    assert [[_text(c._tc) for c in row.cells] for row in data.rows] == [["次数", "电压 U/V"], ["1", "1.5"]]
    assert data.rows[1].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    after = next(p for p in document.paragraphs if _text(p._p).startswith("电阻约为"))
    assert _text(after._p) == "电阻约为 图 1\u3000电路图与 ［示意］\t（" + "\u00a0" * 8 + "）"
    assert len(document.inline_shapes) == 1 and round(document.inline_shapes[0].width.mm) == 40
    texts = [_text(p._p) for p in document.paragraphs]
    at = texts.index(lead)  # a 材料 (its lead, then the material) before the first question of its chain
    assert texts[at + 1] == "某模型的 dk=64。" and texts[at + 2].startswith("2.\t")


def test_a_word_file_the_teacher_edited_is_never_replaced(tmp_path: Path) -> None:
    args = ["exam", "--modules", "2", "--seed", "3", "--parts", "short:2x10", "--docx", "--source", str(SOURCE)]
    first = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    paper = next(tmp_path.glob("*/paper.docx"))
    again = runner.invoke(app, [*args, "--out", str(tmp_path)])  # as written: rebuilt in place
    assert again.exit_code == 0, again.output
    record = json.loads((paper.parent / ".paperkit-written.json").read_text(encoding="utf-8"))
    assert set(record) >= {"paper.docx", "key.docx"}
    document = Document(str(paper))
    document.add_paragraph("老师加的一道题")
    document.save(str(paper))
    edited = paper.read_bytes()
    refused = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {paper} changed since paperkit wrote it (the teacher's edits are kept); write the exam elsewhere "
        "with --out DIR, or move the edited file away first"
    )
    assert paper.read_bytes() == edited


# -- the handbook's 练习 as Word (`handbook --exercises end --docx`) ------------------------------------------------


@pytest.fixture(scope="module")
def exercises_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exercises") / "handbook.pdf"
    argv = ["handbook", "--source", str(SOURCE), "--modules", "2", "--exercises", "end", "--docx", "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out), str(out.with_name("handbook-exercises.docx"))]
    return out.with_name("handbook-exercises.docx")


def test_the_handbooks_exercises_in_word_are_the_pdfs_numbered_with_their_answers(exercises_built: Path) -> None:
    from paperkit.source import open_handbook

    handbook = open_handbook(SOURCE)
    module = next(m for m in handbook.modules if m.id == 2)
    practice = [x for s in module.sections for x in s.practice]
    document = Document(str(exercises_built))
    texts = [p.text for p in document.paragraphs]
    assert texts[0].endswith("练习") and any(t.startswith("模块 2") for t in texts)
    numbered = [t for t in texts if re.match(r"^\d+\.\t", t)]
    # each exercise once among the questions, and the non-compact ones again with their answers
    assert {int(t.split(".")[0]) for t in numbered} == set(range(1, len(practice) + 1))
    assert "练习答案" in texts
    # the 题号 | 答案 rows of the answers: each letter is the item's own (the handbook prints options as written)
    by_kind = {name: [x for s in module.sections for x in s.practice if x.kind == name] for name in ("choice",)}
    rows = [[c.text for c in row.cells] for table in document.tables for row in table.rows][1:]
    choice_rows = [r for r in rows if r[0].isdigit() and int(r[0]) <= len(by_kind["choice"])]
    assert choice_rows and all(r[1] == x.answer for r, x in zip(choice_rows, by_kind["choice"], strict=False))


def test_the_exercises_docx_opens_in_libreoffice(exercises_built: Path, tmp_path: Path) -> None:
    (printed,) = converted_to_pdf([exercises_built], tmp_path)
    text = "".join(page.extract_text() for page in PdfReader(printed).pages)
    assert "练习答案" in text and "模块 2" in text


def test_an_edited_exercises_docx_is_kept_and_nothing_is_written(exercises_built: Path) -> None:
    folder = exercises_built.parent
    edited = exercises_built.read_bytes() + b"teacher"
    exercises_built.write_bytes(edited)
    pdf_before = (folder / "handbook.pdf").read_bytes()
    argv = ["handbook", "--source", str(SOURCE), "--modules", "2", "--exercises", "end", "--docx"]
    result = runner.invoke(app, [*argv, "--out", str(folder / "handbook.pdf")])
    assert result.exit_code == 1
    assert "changed since paperkit wrote it" in result.stderr and len(result.stderr.splitlines()) == 1
    assert exercises_built.read_bytes() == edited
    assert (folder / "handbook.pdf").read_bytes() == pdf_before


def test_docx_on_a_handbook_without_its_exercises_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["handbook", "--source", str(SOURCE), "--docx", "--out", str(tmp_path / "h.pdf")])
    assert result.exit_code == 2
    assert result.stderr == "error: --docx writes the handbook's 练习 as a Word file: give it with --exercises end\n"
    assert list(tmp_path.iterdir()) == []
