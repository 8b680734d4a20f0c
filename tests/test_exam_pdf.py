"""The exam job end to end: PDFs read back with pypdf, manifests, rosters, and the CLI's bad-input messages."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE, same_build
from paperkit.cli import app
from paperkit.errors import UsageError
from paperkit.exam.job import build_exam
from paperkit.exam.manifest import ManifestError
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.paper import paper_code
from paperkit.exam.plan import ExamPlan, plan_exam, plan_from_manifest, student_file
from paperkit.text.markup import visible_text as _visible
from pdftext import page_texts as _text
from pdftext import squash as _flat

runner = CliRunner()


def visible_text(text: str) -> str:
    # markup.visible_text leaves the HTML entities of formulas (&lt;); the PDF shows the characters.
    return html.unescape(_visible(text))


def _build(out: Path, **options: str) -> tuple[ExamPlan, list[Path]]:
    flags = ExamFlags(**{"modules": "2,3,8", "seed": "7", **options})  # type: ignore[arg-type]
    plan = plan_exam(parse_exam_flags(flags), SOURCE, out)
    return plan, build_exam(plan)


@pytest.fixture(scope="session")
def standard(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExamPlan, Path]:
    out = tmp_path_factory.mktemp("exams")
    plan, _ = _build(out)
    return plan, plan.out_dir


@pytest.fixture(scope="session")
def variants(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExamPlan, Path]:
    plan, _ = _build(tmp_path_factory.mktemp("variants"), variants="3", count="7", seal_line=True)
    return plan, plan.out_dir


def test_outputs_and_manifest(standard) -> None:
    _, folder = standard
    assert folder.name == "m2-3-8_s7_n10"
    assert sorted(p.name for p in folder.iterdir()) == ["key.pdf", "manifest.json", "paper.pdf"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    golden = json.loads((Path(__file__).parent / "golden" / "exam-m2-3-8-s7.json").read_text(encoding="utf-8"))
    assert manifest["papers"] == {"A": {"questions": golden["variants"]["A"], "points": [10] * 10}}
    assert (manifest["seed"], manifest["modules"], manifest["count"], manifest["variants"]) == (7, [2, 3, 8], 10, ["A"])
    assert len(manifest["bank_hash"]) == 64


def test_paper_is_a4_small_and_footed(standard) -> None:
    _, folder = standard
    reader = PdfReader(folder / "paper.pdf")
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    assert (folder / "paper.pdf").stat().st_size <= 250_000
    pages = len(reader.pages)
    for number, text in enumerate(_text(folder / "paper.pdf"), start=1):
        assert f"第 {number} 页 共 {pages} 页" in text
        assert f"{paper_code('m2-3-8_s7_n10')} · A 卷" in text  # a short code, not the exam id (issue 30)
        assert "m2-3-8_s7_n10" not in text
    assert reader.metadata["/Keywords"] == "m2-3-8_s7_n10"  # the full id stays with the file
    for number, text in enumerate(_text(folder / "key.pdf"), start=1):
        assert f"{paper_code('m2-3-8_s7_n10')} · A 卷" in text and f"第 {number} 页" in text


def test_paper_header(standard) -> None:
    _, folder = standard
    first = _text(folder / "paper.pdf")[0]
    for piece in (
        "姓名：",
        "学号：",
        "班级：",
        "考生须知",
        "题号",
        "得分",
        "总分",
        "满分：100 分",
        "考试时长：120 分钟",
    ):
        assert piece in _flat(first) or piece in first
    assert _flat("一、简答题（共 10 小题，每小题 10 分，共 100 分）") in _flat(first)


def _numbered(text: str) -> list[tuple[int, int]]:
    return [(int(n), int(p)) for n, p in re.findall(r"(\d+)\.（(\d+)分）", _flat(text))]


@pytest.mark.parametrize("which", ["standard", "variants"])
def test_paper_and_key_agree_question_by_question(which: str, request: pytest.FixtureRequest) -> None:
    plan, folder = request.getfixturevalue(which)
    for variant, exam in plan.exams.items():
        name = "{}.pdf" if len(plan.exams) == 1 else "{}-" + variant + ".pdf"
        paper = "".join(_text(folder / name.format("paper")))
        key = "".join(_text(folder / name.format("key")))
        expected = [(q.number, q.points) for q in exam.questions]
        assert _numbered(paper) == expected == _numbered(key)
        assert sum(p for _, p in expected) == plan.options.total_points
        for q in exam.questions:
            prompt = _flat(visible_text(q.question.item.q))
            assert prompt in _flat(paper) and prompt in _flat(key)
            assert _flat(visible_text(q.question.item.a)) in _flat(key)
            assert _flat(f"出自 {q.question.section_id} {visible_text(q.question.section_title)}") in _flat(key)
        assert "答案与评分参考（教师用）" in key


def _answer_fragments(plan: ExamPlan) -> set[str]:
    """4-character Chinese runs of the answers that no question text contains (so finding one means a leak)."""
    questions = "".join(_flat(visible_text(q.question.item.q)) for e in plan.exams.values() for q in e.questions)
    fragments = set()
    for exam in plan.exams.values():
        for q in exam.questions:
            for run in re.findall(r"[\u4e00-\u9fff]{4,}", visible_text(q.question.item.a)):
                fragments.update(run[i : i + 4] for i in range(len(run) - 3))
    return {f for f in fragments if f not in questions}


@pytest.mark.parametrize("which", ["standard", "variants"])
def test_no_answer_text_in_any_paper(which: str, request: pytest.FixtureRequest) -> None:
    plan, folder = request.getfixturevalue(which)
    fragments = _answer_fragments(plan)
    assert len(fragments) > 100  # enough to mean something
    for paper in folder.glob("paper*.pdf"):
        text = _flat("".join(_text(paper)))
        assert [f for f in sorted(fragments) if f in text] == []
        for exam in plan.exams.values():
            for q in exam.questions:
                assert _flat(visible_text(q.question.item.a)) not in text


def test_seal_line_on_every_page(variants) -> None:
    # The binding edge: the front of each sheet carries the seal and its fields, the back the 装订线.
    _, folder = variants
    for number, text in enumerate(_text(folder / "paper-B.pdf"), start=1):
        if _flat(text) == "本页无试题":  # padding to whole duplex sheets carries no seal
            continue
        assert ("密封线内不要答题" if number % 2 else "装订线") in _flat(text)
    assert "密封线内不要答题" not in _flat("".join(_text(folder / "key-B.pdf")))


def test_variants_differ_and_are_named(variants) -> None:
    plan, folder = variants
    assert re.fullmatch(r"m2-3-8_s7_n7_v3_h[0-9a-f]{6}", folder.name)  # _h…: the seal line prints differently
    assert [p.name for p in sorted(folder.glob("*.pdf"))] == [f"{k}-{v}.pdf" for k in ("key", "paper") for v in "ABC"]
    ids = [tuple(q.question.id for q in e.questions) for e in plan.exams.values()]
    assert len(set(ids)) == 3
    assert f"{paper_code(folder.name)} · C 卷" in _text(folder / "paper-C.pdf")[0]
    assert "第1–5题每小题14分，第6–7题每小题15分" in _flat(_text(folder / "paper-A.pdf")[0])


def test_same_seed_gives_identical_bytes_other_seed_differs(standard, tmp_path: Path) -> None:
    _, folder = standard
    again, _ = _build(tmp_path / "again")
    for name in ("paper.pdf", "key.pdf", "manifest.json"):
        assert same_build(again.out_dir / name, folder / name), name
    other, _ = _build(tmp_path / "other", seed="8")
    assert other.out_dir.name == "m2-3-8_s8_n10"
    assert _text(other.out_dir / "paper.pdf") != _text(folder / "paper.pdf")


def test_rebuild_from_manifest_is_identical(standard, tmp_path: Path) -> None:
    _, folder = standard
    plan = plan_from_manifest(folder / "manifest.json", SOURCE, tmp_path)
    assert plan.warnings == ()
    build_exam(plan)
    for name in ("paper.pdf", "key.pdf", "manifest.json"):
        assert same_build(plan.out_dir / name, folder / name), name


def _edited_source(tmp_path: Path, old: str, new: str) -> Path:
    source = tmp_path / "source"
    shutil.copytree(SOURCE, source)
    module = source / "modules" / "02-transformer.yaml"
    text = module.read_text(encoding="utf-8")
    assert old in text
    module.write_text(text.replace(old, new, 1), encoding="utf-8")
    return source


def test_manifest_warns_when_the_bank_changed(standard, tmp_path: Path) -> None:
    _, folder = standard
    source = _edited_source(tmp_path, "q: GQA 相比标准 MHA 的主要节省来自哪里？", "q: GQA 相比 MHA 省在哪里？")
    plan = plan_from_manifest(folder / "manifest.json", source, tmp_path / "out")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith(
        f"the question bank of modules 2,3,8 has changed since {folder / 'manifest.json'} was written "
        f"(hash {manifest['bank_hash'][:12]} → "
    )


def test_manifest_warns_when_only_an_answer_changed(standard, tmp_path: Path) -> None:
    # The key prints the answer: correcting it must not reprint silently from an old manifest.
    _, folder = standard
    old = "a: 减少 K/V 的头数（组共享），从而降低 KV cache 与带宽开销。"
    source = _edited_source(tmp_path, old, "a: 减少 K/V 头数（多个 Q 头共享一组 K/V），降低 KV cache 与带宽开销。")
    plan = plan_from_manifest(folder / "manifest.json", source, tmp_path / "out")
    assert len(plan.warnings) == 1 and "has changed since" in plan.warnings[0]


def test_a_reprint_with_a_new_header_is_applied_recorded_and_kept_apart(standard, tmp_path: Path) -> None:
    _, folder = standard
    flags = ExamFlags(
        title="期中考试（补考）", date="2026-12-09", paper="B5", course="高一", duration="90", seal_line=True
    )
    plan = plan_from_manifest(folder / "manifest.json", SOURCE, tmp_path, flags)
    build_exam(plan)
    assert plan.out_dir.name.startswith("m2-3-8_s7_n10_r") and plan.out_dir.parent == tmp_path
    manifest = json.loads((plan.out_dir / "manifest.json").read_text(encoding="utf-8"))
    original = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reprint"] == {
        "of": "m2-3-8_s7_n10",
        "changed": ["--title", "--course", "--date", "--duration", "--paper", "--seal-line"],
    }
    assert (manifest["title"], manifest["date"], manifest["paper"], manifest["duration"]) == (
        "期中考试（补考）",
        "2026-12-09",
        "B5",
        90,
    )
    assert manifest["papers"] == original["papers"]
    reader = PdfReader(plan.out_dir / "paper.pdf")
    width_mm = float(reader.pages[0].mediabox.width) * 25.4 / 72
    assert round(width_mm) == 176  # B5
    text = _flat(reader.pages[0].extract_text())
    assert "期中考试（补考）" in text and "2026-12-09" in text and "90分钟" in text and "高一" in text
    assert "密" in _flat("".join(_text(plan.out_dir / "paper.pdf")))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (ExamFlags(count="3"), "--from-manifest reprints the recorded questions; leave out --count"),
        (ExamFlags(date="2026-02-30"), "--date 2026-02-30: no such day; expected a real date like 2026-06-20"),
        (ExamFlags(paper="A5"), "--paper A5: unknown paper size; choose one of A4, B5, Letter"),
    ],
)
def test_a_reprint_refuses_what_it_cannot_apply(standard, tmp_path: Path, flags: ExamFlags, message: str) -> None:
    _, folder = standard
    with pytest.raises(UsageError) as caught:
        plan_from_manifest(folder / "manifest.json", SOURCE, tmp_path, flags)
    assert str(caught.value).startswith(message)


def test_manifest_names_questions_that_are_gone(standard, tmp_path: Path) -> None:
    _, folder = standard
    source = _edited_source(tmp_path, "id: 2.3.es1", "id: 2.3.es9")
    with pytest.raises(ManifestError) as caught:
        plan_from_manifest(folder / "manifest.json", source, tmp_path / "out")
    assert str(caught.value) == (
        f"{folder / 'manifest.json'}: the question bank under {source}/ no longer has 2.3.es1; cannot rebuild this exam"
    )


# -- rosters ------------------------------------------------------------------------------------

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"]


def _sheets(folder: Path, student: object) -> int:
    """The pages a student's paper takes in the print file: its own pages, padded to whole sheets."""
    pages = len(PdfReader(folder / student_file(student)).pages)  # type: ignore[arg-type]
    return pages + pages % 2


def _roster(path: Path, size: int) -> Path:
    rows = ["\ufeff姓名,学号,班级"] + [
        f"{SURNAMES[i % 30]}{GIVEN[i % 13]}{'一二'[i % 2]},2024{i + 1:03d},计科{1 + i % 2}班" for i in range(size)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_forty_student_roster(tmp_path: Path) -> None:
    roster = _roster(tmp_path / "class-1.csv", 40)
    plan, written = _build(tmp_path / "out", variants="2", roster=roster, seal_line=True)
    folder = plan.out_dir
    assert re.fullmatch(r"m2-3-8_s7_n10_v2_h[0-9a-f]{6}_class-1", folder.name)  # _h: the seal line
    assert [p.name for p in written if p.parent == folder] == ["papers-all.pdf", "keys.pdf", "manifest.json"]
    merged = PdfReader(folder / "papers-all.pdf")
    start = 0
    for student in plan.students:
        own = len(PdfReader(folder / student_file(student)).pages)
        first = merged.pages[start].extract_text()
        assert student.name in first and student.student_id in first, student
        assert f"· {student.variant} 卷 · {student.student_id}" in first
        start += own + own % 2  # padded to whole sheets
    assert start == len(merged.pages)
    assert [s.variant for s in plan.students[:4]] == ["A", "B", "A", "B"]
    # One print file for the class: a bookmark per student at their first page, padding pages that say so,
    # each shipped face embedded once, and every page drawn exactly as in the student's own file.
    assert [(o.title, merged.get_destination_page_number(o)) for o in merged.outline][:2] == [
        (f"{plan.students[0].student_id} {plan.students[0].name}（A 卷）", 0),
        (f"{plan.students[1].student_id} {plan.students[1].name}（B 卷）", _sheets(folder, plan.students[0])),
    ]
    assert len(merged.outline) == 40
    padding = [n for n, page in enumerate(merged.pages) if re.sub(r"\s", "", page.extract_text()) == "本页无试题"]
    assert len(padding) == sum(len(PdfReader(folder / student_file(s)).pages) % 2 for s in plan.students)
    descriptors = [
        font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        for page in merged.pages
        for font in (f.get_object() for f in page["/Resources"]["/Font"].values())
    ]
    programs = {id((d.get("/FontFile3") or d["/FontFile2"]).get_object()) for d in descriptors}
    assert len(programs) <= 6  # serif, sans, their bold faces, math upright and italic: once for the whole class
    assert (folder / "papers-all.pdf").stat().st_size <= 1.5e6 * 40 / 45
    import pypdfium2

    whole = pypdfium2.PdfDocument(folder / "papers-all.pdf")
    own_file = pypdfium2.PdfDocument(folder / student_file(plan.students[1]))
    offset = _sheets(folder, plan.students[0])  # the second student's paper starts after the first one's sheets
    for page in range(len(own_file)):
        assert own_file[page].render().to_pil().tobytes() == whole[offset + page].render().to_pil().tobytes()
    keys_outline = [o.title for o in PdfReader(folder / "keys.pdf").outline]
    assert keys_outline == ["A 卷 答案与评分参考", "B 卷 答案与评分参考"]
    keys = _text(folder / "keys.pdf")
    assert sum("答案与评分参考（教师用）" in page for page in keys) == 2
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["students"][0] == {
        "name": plan.students[0].name,
        "student_id": "2024001",
        "class": "计科1班",
        "variant": "A",
    }


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modules", "14"], "error: --modules 14: unknown module 14; modules are 0–13"),
        (
            ["--modules", "2,,x"],
            "error: --modules 2,,x: expected module numbers separated by commas, like 2,3,8 (see `paperkit list`)",
        ),
        (
            ["--modules", "2,3,8", "--count", "0"],
            "error: --count 0: expected a whole number ≥ 1",
        ),
        (
            ["--modules", "2,3,8", "--count", "31"],
            (
                "error: --count 31: expected a whole number from 1 to 15 "
                "(--modules 2,3,8: modules 2,3,8 hold 15 short-answer items held back for exams)"
            ),
        ),
        (["--modules", "2", "--seed", "-3"], "error: --seed -3: expected a whole number from 0 to 999999999999999999"),
        (
            ["--modules", "2", "--seed", "1.5"],
            "error: --seed 1.5: expected a whole number from 0 to 999999999999999999",
        ),
        (
            ["--modules", "2", "--variants", "27"],
            "error: --variants 27: expected a whole number from 1 to 26 (one paper per letter A–Z)",
        ),
        (
            ["--modules", "2", "--paper", "A5"],
            "error: --paper A5: unknown paper size; choose one of A4, B5, Letter, A3, B4, 8K",
        ),
        (
            ["--modules", "2", "--count", "5", "--total-points", "4"],
            "error: --total-points 4: less than one point per question; give at least 5 for 5 questions",
        ),
        (
            ["--modules", "2", "--roster", "missing.csv"],
            "error: --roster missing.csv: no such file; "
            "give a CSV or .xlsx file with columns 姓名,学号 (optional 班级)",
        ),
        (["--seed", "7"], "error: --modules is required, e.g. --modules 2,3,8 (see `paperkit list` for the modules)"),
        (
            ["--from-manifest", "m.json", "--seed", "7"],
            "error: --from-manifest reprints the recorded questions; leave out --seed "
            "(only --title, --course, --date, --duration, --paper and the --seal-* options may change)",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(in_tmp: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["exam", "--source", str(SOURCE), *args])
    assert (result.exit_code, result.output.strip()) == (2, message)
    assert not (in_tmp / "build").exists()


def test_bad_roster_stops_before_writing(in_tmp: Path) -> None:
    (in_tmp / "r.csv").write_bytes("姓名,学号\n张三,1\n李四,1\n".encode())
    result = runner.invoke(app, ["exam", "--source", str(SOURCE), "--modules", "2", "--roster", "r.csv"])
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: r.csv:3: 学号 1 is also on row 2; it must be unique",
    )
    assert not (in_tmp / "build").exists()


def test_cli_prints_the_written_files(in_tmp: Path) -> None:
    result = runner.invoke(
        app, ["exam", "--source", str(SOURCE), "--modules", "3", "--seed", "1", "--count", "3", "--paper", "B5"]
    )
    assert result.exit_code == 0, result.output
    flags = ExamFlags(modules="3", seed="1", count="3", paper="B5")
    folder = Path("build/exams", plan_exam(parse_exam_flags(flags), SOURCE).out_dir.name)
    assert folder.name.startswith("m3_s1_n3_h")
    assert result.output.splitlines() == [
        str(folder / "paper.pdf"),
        str(folder / "key.pdf"),
        str(folder / "manifest.json"),
    ]
    box = PdfReader(io.BytesIO((in_tmp / folder / "paper.pdf").read_bytes())).pages[0].mediabox
    assert round(float(box.width) * 25.4 / 72) == 176


# -- names: GBK rosters, rare characters, never a system font (issue 12) ---------------------------------------


def test_rare_names_print_in_the_shipped_fonts(tmp_path: Path) -> None:
    names = ["李喆", "王堃", "张犇", "赵淼", "陈垚", "刘䶮"]
    roster = tmp_path / "class.csv"
    roster.write_bytes(("姓名,学号\r\n" + "".join(f"{n},{i}\r\n" for i, n in enumerate(names, 1))).encode("gb18030"))
    plan, _ = _build(tmp_path / "out", roster=roster, count="3")
    shipped = {"PK-Serif", "PK-Serif-Bold", "PK-Sans", "PK-Sans-Bold", "PK-Serif-Extra", "PK-Sans-Extra", "PK-Math"}
    shipped.add("PK-Math-Italic")
    for student in plan.students:
        reader = PdfReader(plan.out_dir / student_file(student))
        assert student.name in reader.pages[0].extract_text()
        fonts = {
            str(font["/BaseFont"]).split("+")[-1]: font
            for page in reader.pages
            for font in (page["/Resources"].get("/Font") or {}).values()
        }
        assert set(fonts) <= shipped, fonts  # the shipped faces only
        if (
            student.name[1] in "喆堃犇垚"
        ):  # outside GB 2312 (淼 is in it): drawn from the serif fallback face, as its own font
            assert "PK-Serif-Extra" in fonts


def test_a_name_the_fonts_lack_is_one_clear_error_and_nothing_is_written(in_tmp: Path) -> None:
    (in_tmp / "r.csv").write_bytes("姓名,学号,班级\r\n张三,1,一班\r\n王㐂,2,一班\r\n".encode("gb18030"))
    result = runner.invoke(
        app, ["exam", "--source", str(SOURCE), "--modules", "2", "--roster", "r.csv", "--course", "物理𝒜"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "--course: character '𝒜' (U+1D49C, mathematical script capital a) is not in the shipped fonts; "
        "write it another way",
        "r.csv:3: 姓名 王㐂: character '㐂' (U+3402, cjk unified ideograph-3402) is not in the shipped fonts; "
        "add it with scripts/build_fonts.py --extra-chars '㐂' (then run paperkit again)",
        "2 errors in r.csv; nothing was built.",
    ]
    assert not (in_tmp / "build").exists()


def test_the_seal_lines_dashes_are_strokes_not_a_rectangle_a_dash(variants) -> None:
    # About 200 filled rectangles a page before (a dashed top border is drawn one rectangle per dash): 16 % of a
    # class's print file.
    import pikepdf

    _, folder = variants
    with pikepdf.open(folder / "paper-B.pdf") as paper:
        for page, text in zip(paper.pages, _text(folder / "paper-B.pdf"), strict=True):
            operators = [(str(op), operands) for operands, op in pikepdf.parse_content_stream(page.obj)]
            dashed = [tuple(round(float(x) * 0.75, 2) for x in o[0]) for op, o in operators if op == "d" and len(o[0])]
            assert sum(op == "re" for op, _ in operators) < 60
            if _flat(text) != "本页无试题":  # padding to whole duplex sheets carries no seal
                # Each stretch of the cut line between its characters: dashes of about 1.8 pt, as the border's were.
                assert sum(1.6 <= d[0] <= 2.0 and d[0] == d[1] for d in dashed) >= 8
