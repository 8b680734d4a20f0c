"""The handbook PDF, read back with pypdf: content, outline, contents page numbers, paper, fonts, metadata."""

from __future__ import annotations

import io
import itertools
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from bundled.test_errata import ERRATA, Erratum
from conftest import HANDBOOK_VARIANTS, SOURCE
from layout import classes, glyphs, page_lines, walk
from paperkit.cache import write_cached
from paperkit.cli import app
from paperkit.content.models import Handbook
from paperkit.errors import UsageError
from paperkit.handbook.context import handbook_context, outline_text
from paperkit.handbook.job import Rendered, build_handbook, render_handbook, render_handbook_in_parts
from paperkit.handbook.options import HandbookOptions, check_answers
from paperkit.handbook.parts import Part, hint_key, split
from paperkit.render.page import PT_PER_MM, geometry_for
from paperkit.source import open_handbook
from paperkit.text.markup import render_math, visible_text
from pdftext import squash

pytestmark = pytest.mark.slow  # renders whole handbooks

runner = CliRunner()

VARIANTS = HANDBOOK_VARIANTS
CLOSING = "，。、；：？！）」』》〉”’】〕"
OPENING = "（「『《〈“‘【〔"


@pytest.fixture(scope="session")
def handbook() -> Handbook:
    return open_handbook(SOURCE)


@pytest.fixture(scope="session")
def rendered(rendered_handbooks: dict[str, Rendered]) -> dict[str, Rendered]:
    return rendered_handbooks


@pytest.fixture(scope="session")
def in_parts(handbook: Handbook, rendered: dict[str, Rendered]) -> dict[str, Rendered]:
    """The same variants laid out in two parts and the front matter on worker processes, then joined; each
    starts from the page numbers of the one-process layout, as a build after a build does (a cold start and a
    wrong hint give the same bytes: test_parts)."""
    made = {}
    for answers, paper in VARIANTS.items():
        if answers not in IN_PARTS:
            continue
        options = HandbookOptions(geometry_for(paper), answers)
        key = hint_key(str(SOURCE), options, 2)
        write_cached("handbook-parts", key, hint_from(rendered[answers], split(handbook, 2)))
        made[answers] = render_handbook_in_parts(handbook, options, runs=2, hint=key)
    return made


def hint_from(one: Rendered, parts: list[Part]) -> bytes:
    """The page numbers a build in `parts` would have left, read off the one-process layout."""
    anchors: dict[str, int] = {}
    for number, page in enumerate(one.document.pages, start=1):
        for name in page.anchors:
            anchors.setdefault(name, number)
    starts = [1] + [anchors[f"m-{part.modules[0]}"] for part in parts[1:]] + [one.pages + 1]
    counts = [b - a for a, b in itertools.pairwise(starts)]
    return json.dumps({"counts": counts, "anchors": anchors}).encode()


PATHS = ["one process", "in parts"]
# The variants also laid out in parts: the answers inline (A4) and at the end (Letter, an appendix that crosses
# parts). The student edition joins the same way; laying it out a sixth time cost the suite 10 s.
IN_PARTS = ("inline", "end")


@pytest.fixture(scope="session")
def texts() -> dict[tuple[str, str], list[str]]:
    """Page texts by (path, answers), each extracted once for the session (it takes seconds a handbook)."""
    return {}


# Every test of the PDF runs on both paths: one process, and the parts joined (issue 16).
@pytest.fixture(scope="session", params=PATHS)
def readers(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> dict[str, PdfReader]:
    made = rendered if request.param == "one process" else request.getfixturevalue("in_parts")
    return Readers(request.param, {answers: PdfReader(io.BytesIO(r.pdf)) for answers, r in made.items()})


class Readers(dict):
    """The readers of one path's variants, by answer mode; `path` says which path made them."""

    def __init__(self, path: str, readers: dict[str, PdfReader]) -> None:
        super().__init__(readers)
        self.path = path


def texts_of(texts: dict[tuple[str, str], list[str]], path: str, readers: dict[str, PdfReader]) -> dict[str, list[str]]:
    for answers, reader in readers.items():
        if (path, answers) not in texts:
            texts[path, answers] = [squash(page.extract_text()) for page in reader.pages]
    return {answers: texts[path, answers] for answers in readers}


@pytest.fixture(scope="session")
def page_texts(readers: Readers, texts: dict[tuple[str, str], list[str]]) -> dict[str, list[str]]:
    """Each page's text with all whitespace removed (line breaks and justification spaces vary)."""
    return texts_of(texts, readers.path, readers)


def fragments(text: str) -> list[str]:
    """The pieces of a text a reader sees in the text fonts; formulas drawn as SVG split it (they hold no text)."""
    marked = re.sub(r"(?<!\\)\$([^$]+)\$", lambda m: "\ue000" if render_math(m.group(1)).is_svg else m.group(0), text)
    return [squash(piece) for piece in visible_text(marked).split("\ue000") if squash(piece)]


def longest(text: str) -> str:
    return max(fragments(text), key=len)


def outline(reader: PdfReader) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """(title, page, [(section title, page)]) per top-level entry; pages count from 1."""
    entries: list[tuple[str, int, list[tuple[str, int]]]] = []
    for item in reader.outline:
        if isinstance(item, list):
            children = entries[-1][2]
            for child in item:
                assert not isinstance(child, list), "the outline is two levels deep, no more"
                children.append((child.title, reader.get_destination_page_number(child) + 1))
        else:
            entries.append((item.title, reader.get_destination_page_number(item) + 1, []))
    return entries


def test_every_section_title_question_and_answer_is_in_the_text(
    handbook: Handbook, page_texts: dict[str, list[str]]
) -> None:
    text = "".join(page_texts["inline"])
    for section in handbook.sections:
        for piece in fragments(section.title):
            assert piece in text, (section.id, piece)
        for example in section.examples:
            for piece in fragments(example.q) + fragments(example.a):
                assert piece in text, (example.id, piece)


def test_the_student_edition_has_the_questions_but_no_answers(
    handbook: Handbook, page_texts: dict[str, list[str]]
) -> None:
    if "none" not in page_texts:
        pytest.skip("the student edition is laid out in one process only (IN_PARTS)")
    text = "".join(page_texts["none"])
    for example in handbook.examples:
        for piece in fragments(example.q):
            assert piece in text, (example.id, piece)
        answer = longest(example.a)
        if len(answer) >= 6:  # shorter pieces ("128") also occur in other texts
            assert answer not in text, example.id
    assert "A1" not in text


def test_answers_at_the_end_are_in_the_appendix_in_section_order(
    handbook: Handbook, readers: dict[str, PdfReader], page_texts: dict[str, list[str]]
) -> None:
    titles = [title for title, _, _ in outline(readers["end"])]
    assert titles[-1] == "例题答案"
    appendix_page = outline(readers["end"])[-1][1]
    body = "".join(page_texts["end"][: appendix_page - 1])
    appendix = "".join(page_texts["end"][appendix_page - 1 :])
    position = 0
    for example in handbook.examples:
        answer = longest(example.a)
        found = appendix.find(answer, position)
        assert found >= 0, example.id
        position = found
        if len(answer) >= 6:
            assert answer not in body, example.id
        for piece in fragments(example.q):
            assert piece in body, (example.id, piece)


def test_questions_and_answers_link_to_each_other(handbook: Handbook, readers: dict[str, PdfReader]) -> None:
    targets = set()
    for page in readers["end"].pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link" and "/Dest" in annotation:
                targets.add(str(annotation["/Dest"]))
    assert targets <= readers["end"].named_destinations.keys()
    for example in handbook.examples:
        assert {f"q-{example.id}", f"a-{example.id}"} <= targets, example.id
    assert {f"s-{s.id}" for s in handbook.sections} <= targets


def test_the_outline_has_a_module_entry_with_its_sections_and_nothing_deeper(
    handbook: Handbook, readers: dict[str, PdfReader]
) -> None:
    entries = outline(readers["inline"])
    assert [title for title, _, _ in entries] == [f"{m.id} {outline_text(m.title)}" for m in handbook.modules]
    assert len(entries) == 14
    assert sum(len(sections) for _, _, sections in entries) == 65
    for (_, _, sections), module in zip(entries, handbook.modules, strict=True):
        assert [title for title, _ in sections] == [f"{s.id} {outline_text(s.title)}" for s in module.sections]
    assert entries[9][2][0][0] == "9.1 长上下文瓶颈：O(S²) 与 lost-in-the-middle"


@pytest.mark.parametrize("answers", list(VARIANTS))
def test_contents_page_numbers_are_the_pages_sections_start_on(
    answers: str, handbook: Handbook, readers: dict[str, PdfReader]
) -> None:
    if answers not in readers:
        pytest.skip(f"{answers} is laid out in one process only (IN_PARTS)")
    reader = readers[answers]
    starts = {title.split(" ")[0]: page for _, _, sections in outline(reader) for title, page in sections}
    contents = next(n for n, page in enumerate(reader.pages) if "详细目录" in page.extract_text())
    printed: dict[str, int] = {}
    pending = ""
    for page in reader.pages[contents : contents + 4]:
        for line in page.extract_text().splitlines():
            pending += line
            match = re.match(r"\s*(\d+\.\d+)\s.*?(\d+)\s*$", pending)
            if re.search(r"\d\s*$", pending):
                if match:
                    printed[match.group(1)] = int(match.group(2))
                pending = ""
    assert printed == starts
    assert len(printed) == 65


@pytest.mark.parametrize("answers", list(VARIANTS))
def test_every_page_has_the_paper_size(answers: str, readers: dict[str, PdfReader]) -> None:
    if answers not in readers:
        pytest.skip(f"{answers} is laid out in one process only (IN_PARTS)")
    page = geometry_for(VARIANTS[answers])
    for pdf_page in readers[answers].pages:
        assert float(pdf_page.mediabox.width) == pytest.approx(page.width_mm * PT_PER_MM, abs=0.5)
        assert float(pdf_page.mediabox.height) == pytest.approx(page.height_mm * PT_PER_MM, abs=0.5)


def test_every_font_is_a_shipped_face_and_embedded(readers: dict[str, PdfReader]) -> None:
    for answers, reader in readers.items():
        for page in reader.pages:
            for font in (page["/Resources"].get("/Font") or {}).values():
                font = font.get_object()
                name = str(font["/BaseFont"]).split("+")[-1]
                assert name.startswith("PK-"), f"{answers}: fallback font {name} (a missing glyph)"
                descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                descriptor = descendant["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), name


def test_metadata_and_tags(handbook: Handbook, readers: dict[str, PdfReader]) -> None:
    reader = readers["inline"]
    assert reader.metadata.title == handbook.title
    assert reader.metadata["/Creator"] == "paperkit"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "zh-CN"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root


def test_the_parts_read_as_one_process_page_by_page(
    rendered: dict[str, Rendered], in_parts: dict[str, Rendered], texts: dict[tuple[str, str], list[str]]
) -> None:
    one, parts = (
        texts_of(texts, path, {a: PdfReader(io.BytesIO(r.pdf)) for a, r in made.items()})
        for path, made in zip(PATHS, (rendered, in_parts), strict=True)
    )
    for answers in IN_PARTS:
        assert len(parts[answers]) == len(one[answers]) == in_parts[answers].pages
        for number, (ours, theirs) in enumerate(zip(parts[answers], one[answers], strict=True), start=1):
            assert ours == theirs, (answers, number)


def test_the_parts_share_each_face_cut_as_weasyprint_cuts_its_own(in_parts: dict[str, Rendered]) -> None:
    # With HarfBuzz flags of the wrong values the shared subsets kept their subroutines (27 KB more of the Serif
    # face) and set the math glyphs' overlap flag (their edges drew differently from a one-process build's).
    import pikepdf
    from fontTools.ttLib import TTFont

    checked = set()
    with pikepdf.open(io.BytesIO(in_parts["inline"].pdf)) as pdf:
        for obj in pdf.objects:
            if not (isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"):
                continue
            key = "/FontFile3" if "/FontFile3" in obj else "/FontFile2"
            face = TTFont(io.BytesIO(obj[key].read_bytes()))
            if "CFF " in face:
                cff = face["CFF "].cff
                assert len(cff.GlobalSubrs) == 0, obj.FontName  # desubroutinized
                fonts = cff.topDictIndex[0].FDArray
                assert all(len(getattr(fd.Private, "Subrs", [])) == 0 for fd in fonts), obj.FontName
            else:
                glyphs = face["glyf"]
                simple = [glyphs[name] for name in face.getGlyphOrder() if glyphs[name].numberOfContours > 0]
                assert simple and not any(glyph.flags[0] & 0x40 for glyph in simple), obj.FontName  # no overlap flag
            checked.add(str(obj.FontName).split("+")[-1])
    assert {"PK-Serif", "PK-Sans", "PK-Math", "PK-Math-Italic"} <= checked


def test_the_cover_has_no_page_number_and_the_others_do(page_texts: dict[str, list[str]]) -> None:
    pages = page_texts["inline"]
    assert not pages[0].endswith("1")
    for number, text in enumerate(pages[1:], start=2):
        assert text.endswith(str(number)) or text.startswith(str(number)), number


def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(rendered: dict[str, Rendered]) -> None:
    from weasyprint.formatting_structure import boxes

    def lines(box):
        if isinstance(box, boxes.LineBox):
            yield box
        for child in getattr(box, "children", ()):
            yield from lines(child)

    def text(box) -> str:
        if isinstance(box, boxes.TextBox):
            return box.text
        if isinstance(box, boxes.InlineReplacedBox):
            return "\ufffc"
        return "".join(text(child) for child in getattr(box, "children", ()))

    bad = []
    for answers, result in rendered.items():
        for number, page in enumerate(result.document.pages, start=1):
            for line in lines(page._page_box):
                shown = text(line).strip()
                if shown and (shown[0] in CLOSING or shown[-1] in OPENING):
                    bad.append((answers, number, shown))
    assert bad == []


def test_html_is_written_beside_the_pdf_on_request(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "hb.pdf"
    assert build_handbook(tiny_source, out, HandbookOptions(geometry_for("B5"), "end"), html=True) == [
        out,
        out.with_suffix(".html"),
    ]
    assert out.read_bytes().startswith(b"%PDF-")
    assert '<html lang="zh-CN">' in out.with_suffix(".html").read_text(encoding="utf-8")


def test_the_handbook_command_writes_the_pdf(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "hb.pdf"
    result = runner.invoke(app, ["handbook", "--source", str(tiny_source), "--out", str(out), "--answers", "none"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert len(PdfReader(out).pages) >= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--paper", "A3"], "error: --paper A3: unknown paper size; choose one of A4, B5, Letter\n"),
        (["--answers", "later"], "error: --answers later: unknown answer mode; choose one of inline, end, none\n"),
    ],
)
def test_unknown_options_are_usage_errors_and_write_nothing(
    args: list[str], message: str, tiny_source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hb.pdf"
    result = runner.invoke(app, ["handbook", "--source", str(tiny_source), "--out", str(out), *args])
    assert result.exit_code == 2
    assert result.stderr == message
    assert not out.exists()


def test_a_failed_build_keeps_the_last_good_pdf(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "hb.pdf"
    out.write_bytes(b"%PDF- last good")
    (tiny_source / "handbook.yaml").write_text("title: [broken\n", encoding="utf-8")
    result = runner.invoke(app, ["handbook", "--source", str(tiny_source), "--out", str(out)])
    assert result.exit_code == 1
    assert out.read_bytes() == b"%PDF- last good"


def test_the_context_numbers_questions_and_anchors_answers(tiny_source: Path) -> None:
    context = handbook_context(open_handbook(tiny_source), answers="end")
    example = context["modules"][0]["sections"][0]["examples"][0]
    assert example == {"label": "1", "q": "问题一？", "a": "答案一。", "q_anchor": "q-1.1.q1", "a_anchor": "a-1.1.q1"}
    assert [s["id"] for s in context["appendix"]] == ["1.1"]
    assert context["modules"][0]["sections"][0]["bookmark"] == "1.1 第一节"


def test_check_answers_names_the_modes() -> None:
    with pytest.raises(UsageError) as error:
        check_answers("both")
    assert str(error.value) == "--answers both: unknown answer mode; choose one of inline, end, none"


@pytest.fixture(scope="module")
def with_exercises(handbook: Handbook) -> Rendered:
    """The handbook with its 练习 and both answer appendices (A4), laid out once for the tests below."""
    return render_handbook(handbook, HandbookOptions(geometry_for("A4"), answers="end", exercises=True))


def test_exercises_at_the_end_show_every_item_and_its_answer(handbook: Handbook, with_exercises: Rendered) -> None:
    from paperkit.questions.fill import blanks

    rendered = with_exercises
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages))
    outline = [entry.title for entry in PdfReader(io.BytesIO(rendered.pdf)).outline if not isinstance(entry, list)]
    assert "练习答案" in outline
    for item in handbook.exercises:
        if item.use == "exam":  # held back for exams: never printed in a handbook
            stem = re.sub(r"\s+", "", visible_text(re.sub(r"\[\[.*?\]\]", "", item.q)))
            assert stem[:16] not in text, item.id
            continue
        stem = re.sub(r"\s+", "", visible_text(re.sub(r"\[\[.*?\]\]", "", item.q)))
        runs = re.findall(r"[\u4e00-\u9fff]{4,}", stem)
        assert all(run in text for run in runs), item.id
        for option in item.options:
            for run in re.findall(r"[\u4e00-\u9fff]{4,}", visible_text(option)):
                assert run in text, (item.id, option)
        if item.kind == "fill":
            for answers in blanks(item.q):
                for run in re.findall(r"[\u4e00-\u9fff]{2,}", answers[0]):
                    assert run in text, (item.id, answers)


# ---- print quality on the laid-out pages (issue 14) ----------------------------------------------------------

PAIR_FIRST = "）」』》〉】〕”’，。、；："
PAIR_SECOND = "）」』》〉】〕”’，。、；：？！（「『《〈【〔“‘"


def test_no_section_heading_in_the_last_three_lines_of_a_page(rendered: dict[str, Rendered]) -> None:
    stranded, headings = [], 0
    for answers, result in rendered.items():
        for number, page in enumerate(result.document.pages, start=1):
            lines = page_lines(page)
            for index, line in enumerate(lines):
                if "section-title" in line.classes:
                    headings += 1
                    if len(lines) - index - 1 < 3:
                        stranded.append((VARIANTS[answers], number, line.text))
                if {"part-title", "callout-title"} & line.classes and index == len(lines) - 1:
                    stranded.append((VARIANTS[answers], number, line.text))
    assert headings >= 3 * 65
    assert stranded == []


def test_no_list_leaves_its_first_item_alone_at_the_foot_of_a_page(rendered: dict[str, Rendered]) -> None:
    alone = []
    for answers, result in rendered.items():
        for number, page in enumerate(result.document.pages, start=1):
            lines = page_lines(page)
            if not lines:
                continue
            items = [e for e in lines[-1].elements if e.tag == "li"]
            if not items:
                continue
            item = items[-1]
            parent = lines[-1].elements[lines[-1].elements.index(item) - 1]
            siblings = [e for e in parent if e.tag == "li"]
            on_page = [line for line in lines if item in line.elements]
            whole = len(on_page) == len([line for line in lines if item in line.elements])
            if (
                siblings[0] is item
                and len(siblings) > 1
                and whole
                and not any(siblings[1] in line.elements for line in lines)
            ):
                alone.append((VARIANTS[answers], number, lines[-1].text))
    assert alone == []


def test_no_contents_page_holds_fewer_than_five_entries(rendered: dict[str, Rendered]) -> None:
    for answers, result in rendered.items():
        counts = [
            sum(1 for line in page_lines(page) if "toc-entry" in line.classes and "toc-num" not in line.classes)
            for page in result.document.pages
        ]
        toc_pages = [count for count in counts if count]
        assert len(toc_pages) >= 2, answers  # the overview and the detailed contents
        assert min(toc_pages) >= 5, (answers, toc_pages)


def test_the_last_contents_entries_are_kept_together() -> None:
    from paperkit.handbook.context import TOC_TAIL, toc_blocks

    modules = [
        {
            "id": m,
            "anchor": f"m-{m}",
            "title": f"M{m}",
            "sections": [{"id": f"{m}.{s}", "anchor": "", "title": ""} for s in (1, 2, 3)],
        }
        for m in (1, 2)
    ]
    blocks = toc_blocks(modules, "例题答案", sections=True)
    assert [len(b) for b in blocks] == [2, 1, 1, 5]  # M1+1.1, 1.2, 1.3, then M2, 2.1, 2.2, 2.3 and 附 together
    assert len(blocks[-1]) >= TOC_TAIL
    assert [e["num"] for e in blocks[-1]] == [2, "2.1", "2.2", "2.3", "附"]
    assert sum(len(b) for b in toc_blocks(modules, None, sections=False)) == 2


def test_consecutive_punctuation_takes_at_most_one_and_a_half_em(rendered: dict[str, Rendered]) -> None:
    wide, pairs = [], 0
    for answers, result in rendered.items():
        for number, page in enumerate(result.document.pages, start=1):
            for line in page_lines(page):
                text = line.text
                if not any(a in PAIR_FIRST and b in PAIR_SECOND for a, b in itertools.pairwise(text)):
                    continue
                laid = glyphs(line)
                for (a, wa, size), (b, wb, _) in itertools.pairwise(laid):
                    if a in PAIR_FIRST and b in PAIR_SECOND:
                        pairs += 1
                        if wa + wb > 1.5 * size + 0.01:
                            wide.append((VARIANTS[answers], number, a + b, round((wa + wb) / size, 2)))
    assert pairs > 100  # 「）：」「），」「）。」… occur all through the handbook
    assert wide == []


def test_contents_leaders_start_at_an_even_distance_from_the_title(rendered: dict[str, Rendered]) -> None:
    from weasyprint.formatting_structure import boxes

    gaps = []
    for page in rendered["inline"].document.pages[:6]:
        for line in page_lines(page):
            leaders = [b for b in walk(line.box) if getattr(b, "is_leader", False)]
            titles = [b for b in walk(line.box) if "toc-title" in classes(b) and not isinstance(b, boxes.TextBox)]
            if leaders and titles:
                dots = min(d.position_x for d in leaders[0].children)
                size = titles[0].style["font_size"]
                gaps.append((dots - (titles[0].position_x + titles[0].width)) / size)
    assert len(gaps) > 65
    assert min(gaps) >= 0.25 and max(gaps) <= 1.0, (min(gaps), max(gaps))


def test_module_opening_pages_carry_no_running_header(
    readers: dict[str, PdfReader], rendered: dict[str, Rendered]
) -> None:
    from weasyprint.formatting_structure import boxes

    reader, document = readers["inline"], rendered["inline"].document
    openings = {page for _, page, _ in outline(reader)}

    def header(page) -> str:
        margin = [b for b in page._page_box.children if isinstance(b, boxes.MarginBox) and b.at_keyword == "@top-left"]
        return "".join(t.text for m in margin for t in walk(m) if isinstance(t, boxes.TextBox))

    assert len(openings) == 14
    for number in openings:
        assert header(document.pages[number - 1]) == "", number
        assert header(document.pages[number]).startswith(outline(reader)[0][0][:1]) or header(document.pages[number])


def test_the_cover_says_what_each_edition_holds(page_texts: dict[str, list[str]]) -> None:
    covers = {answers: pages[0] for answers, pages in page_texts.items()}
    assert "例题（含答案）" in covers["inline"]
    if "none" in covers:  # laid out in one process only (IN_PARTS)
        assert "含答案" not in covers["none"].replace("不含答案", "")
        assert "本版不含答案" in covers["none"] and "学生版（不含答案）" in covers["none"]
    assert "答案集中在书末" in covers["end"] and "含答案" not in covers["end"]
    for pages in page_texts.values():
        assert not any("第一页用于快速打勾" in page for page in pages)


def test_rules_and_call_outs_survive_black_and_white_printing(rendered: dict[str, Rendered]) -> None:
    """A duplicator is a 1-bit threshold at about 300 dpi: the Q/A rule and both call-outs' borders must remain,
    and the two call-outs must still differ (a bar, against a bar and a frame)."""
    import pypdfium2

    result = rendered["inline"]
    dpi = 300
    scale = dpi / 96  # layout px → image px

    def find(page, name):
        return next((b for b in walk(page._page_box) if name in classes(b) and b.element_tag in ("div", "aside")), None)

    number = next(
        n
        for n, page in enumerate(result.document.pages)
        if all(find(page, name) for name in ("a", "callout-tips", "callout-pitfalls"))
    )
    page = result.document.pages[number]
    image = pypdfium2.PdfDocument(result.pdf)[number].render(scale=dpi / 72).to_pil().convert("L")
    ink = image.point(lambda v: 0 if v < 128 else 255)  # 1-bit: what the duplicator prints
    pixels = ink.load()

    def black(x0: float, y0: float, x1: float, y1: float) -> float:
        """The share of black pixels in a rectangle given in layout px."""
        xs = range(int(x0 * scale), max(int(x1 * scale), int(x0 * scale) + 1))
        ys = range(int(y0 * scale), max(int(y1 * scale), int(y0 * scale) + 1))
        values = [pixels[x, y] for x in xs for y in ys]
        return sum(1 for v in values if v == 0) / len(values)

    answer = find(page, "a")
    top = answer.position_y + answer.margin_top
    left, right = answer.position_x + answer.margin_left, answer.position_x + answer.margin_left + answer.border_width()
    # The dashed rule: a band of 3 px around it is about half ink (dashes and gaps), never blank.
    assert black(left, top - 0.2, right, top + 1.0) > 0.2

    def rule(x0: float, y0: float, x1: float, y1: float, across: str) -> float:
        """The share of rows (across="rows") or columns with some black in a thin band: a line drawn through it."""
        xs = range(int(x0 * scale), int(x1 * scale) + 1)
        ys = range(int(y0 * scale), int(y1 * scale) + 1)
        if across == "rows":
            return sum(1 for y in ys if any(pixels[x, y] == 0 for x in xs)) / len(ys)
        return sum(1 for x in xs if any(pixels[x, y] == 0 for y in ys)) / len(xs)

    def borders(box):
        x0, y0 = box.position_x + box.margin_left, box.position_y + box.margin_top
        x1, y1 = x0 + box.border_width(), y0 + box.border_height()
        return {
            "left": black(x0 + 0.5, y0 + 5, x0 + 2.5, y1 - 5),
            "right": rule(x1 - 1.5, y0 + 5, x1 + 0.3, y1 - 5, "rows"),
            "top": rule(x0 + 6, y0 - 0.3, x1 - 6, y0 + 1.5, "columns"),
        }

    tips, pitfalls = borders(find(page, "callout-tips")), borders(find(page, "callout-pitfalls"))
    assert tips["left"] > 0.9 and pitfalls["left"] > 0.9  # both bars print
    assert pitfalls["right"] > 0.9 and pitfalls["top"] > 0.9  # the pitfalls' frame prints
    assert tips["right"] < 0.1 and tips["top"] < 0.1  # and the tips have none: told apart without colour


def test_a_proof_of_some_modules(tmp_path: Path) -> None:
    out = tmp_path / "proof.pdf"
    result = runner.invoke(app, ["handbook", "--source", str(SOURCE), "--modules", "3,2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    assert [(title, len(sections)) for title, _, sections in outline(reader)] == [
        ("2 Transformer 核心结构", 6),
        ("3 语言建模目标与损失", 4),
    ]
    assert "校样：仅含模块2、3，页码为本校样的页码" in squash(reader.pages[0].extract_text())
    assert len(reader.pages) < 20
    result = runner.invoke(app, ["handbook", "--source", str(SOURCE), "--modules", "2,14", "--out", str(out)])
    assert (result.exit_code, result.stderr) == (2, "error: --modules 2,14: unknown module 14; modules are 0–13\n")


# ---- the errata of docs/errata.md, in the PDF (the handbook laid out above; tests/bundled/test_errata.py has the
# source side) -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def errata_text(rendered: dict[str, Rendered]) -> str:
    """The text of the A4 handbook with answers inline, all whitespace removed (pypdf breaks CJK lines freely)."""
    reader = PdfReader(io.BytesIO(rendered["inline"].pdf))
    return "".join(squash(page.extract_text()) for page in reader.pages)


@pytest.mark.slow
@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: f"{e.section}-{e.field}")
def test_the_correction_is_in_the_handbook_pdf(erratum: Erratum, errata_text: str) -> None:
    for phrase in erratum.shown:
        assert squash(phrase) in errata_text, phrase


@pytest.mark.slow
def test_the_wrong_wording_is_not_in_the_handbook_pdf(errata_text: str) -> None:
    for erratum in ERRATA:
        for wrong in erratum.wrong:
            if "$" not in wrong:
                assert squash(wrong) not in errata_text, (erratum.section, wrong)


def test_the_exercise_numbers_keep_their_space(with_exercises: Rendered) -> None:
    """「9.关于」 in the 练习 (issue 30): the number has its own box, as on a paper."""
    from weasyprint.formatting_structure import boxes

    numbers = [
        b
        for page in with_exercises.document.pages
        for b in walk(page._page_box)
        if isinstance(b, boxes.InlineBlockBox) and "qnum" in classes(b)
    ]
    assert len(numbers) > 50
    for number in numbers:
        assert number.margin_width() >= 1.9 * number.style["font_size"] - 0.5


def test_the_exercises_have_a_heading_per_kind_and_a_compact_answer_appendix(
    handbook: Handbook, with_exercises: Rendered
) -> None:
    """多选 looked like 单选, and the 练习答案 repeated every stem and option (issue 30)."""
    from paperkit.handbook.context import handbook_document

    texts = [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(with_exercises.pdf)).pages]
    start = next(i for i, t in enumerate(texts) if "附录练习答案" in t[:30] or t.startswith("练习答案"))
    body, appendix = "".join(texts[:start]), "".join(texts[start:])
    assert "多项选择题" in body and "判断题" in body
    doc = handbook_document(handbook, HandbookOptions(geometry_for("A4"), answers="end", exercises=True))
    checked = 0
    for module in doc.context["exercise_answers"]:
        for group in module["answers"]:
            for q in group["questions"]:
                stem = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", q["prompt"]))
                if group["compact"] and len(stem) >= 15 and "$" not in q["prompt"]:
                    # a lettered answer is 题号 | 答案 | 说明: the stem is in the 练习 itself, not repeated
                    assert stem not in appendix, stem
                    checked += 1
    assert checked > 50


def test_no_appendix_heading_ends_a_page_with_one_line_under_it(
    rendered: dict[str, Rendered], with_exercises: Rendered
) -> None:
    """A4 --answers end once put 「2.3 …」 and the first one-line answer at the foot of pages 51 and 55 (issue 30)."""
    stranded, headings = [], 0
    for name, result in (("Letter end", rendered["end"]), ("A4 end + 练习", with_exercises)):
        pages = result.document.pages
        for number, page in enumerate(pages, start=1):
            lines = page_lines(page)
            for index, line in enumerate(lines):
                if "appendix-heading" in line.classes:
                    headings += 1
                    after = len(lines) - index - 1
                    # Fewer than three lines under it is fine when the section ends there (a new one starts overleaf).
                    following = page_lines(pages[number]) if number < len(pages) else []
                    continues = bool(following) and "appendix-heading" not in following[0].classes
                    if after < 3 and continues and "module-head" not in following[0].classes:
                        stranded.append((name, number, line.text, after, following[0].text[:20]))
    assert headings >= 65
    assert stranded == []


def _dash_patterns(pdf: bytes) -> tuple[int, list[tuple[float, ...]]]:
    """How many rectangles the pages draw, and the dash pattern of every dashed stroke (in pt)."""
    import pikepdf

    rectangles, patterns = 0, []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for operands, operator in pikepdf.parse_content_stream(page.obj):
                rectangles += str(operator) == "re"
                if str(operator) == "d" and len(operands[0]):
                    patterns.append(tuple(round(float(x) * 0.75, 2) for x in operands[0]))  # px → pt
    return rectangles, patterns


def test_answer_rules_are_dashed_strokes_not_a_rectangle_a_dash(handbook: Handbook, rendered) -> None:
    # A dashed top border is drawn by WeasyPrint as one filled rectangle per dash: 18,161 of them, 85 KB of the
    # handbook's PDF. The rule is now the top half of a box with four dashed sides: one stroke per side.
    rectangles, patterns = _dash_patterns(rendered["inline"].pdf)
    answers = len(handbook.examples)
    assert answers > 100 and rectangles < 1000  # boxes, backgrounds and tick boxes: 741
    assert patterns.count((1.8, 1.8)) == 2 * answers  # its top and (clipped) bottom side: 1.8 pt dashes, as before
    # Out of the flow, it lies where the border lay: over the answer's top edge, as wide as the answer, on the page of
    # the answer's first fragment.
    placed = 0
    for page in rendered["inline"].document.pages:
        for box in walk(page._page_box):
            if "a" in classes(box) and box.element_tag == "div":
                rule = next(b for b in walk(box) if "a-rule" in classes(b))
                assert abs(rule.border_box_x() - box.border_box_x()) < 0.01
                assert abs(rule.border_box_y() - box.border_box_y()) < 0.01
                assert abs(rule.border_width() - box.border_width()) < 0.01 and abs(rule.border_height() - 0.8) < 0.01
                placed += 1
    assert placed == answers


def test_an_answer_rule_stays_on_the_page_of_the_answers_first_line(tmp_path: Path) -> None:
    # A question long enough to run to the foot of a page pushes its answer over: the rule goes with the answer
    # (as a top border did). An in-flow rule block was left alone at the foot of the page.
    from conftest import MODULE_YAML, write_handbook
    from test_figures import png

    question = "'![](figures/f.png){width=101mm}问题开头" + "，这是问题的续行文字" * 240 + "'"
    module = MODULE_YAML.replace("q: 问题一？", f"q: {question}").replace(
        "a: 答案一。", "a: 答案开头" + "，这是答案的续行文字" * 12
    )
    source = write_handbook(tmp_path, {"01-first.yaml": module})
    (source / "figures").mkdir()
    (source / "figures" / "f.png").write_bytes(png(800, 800))
    laid = render_handbook(open_handbook(source), HandbookOptions())
    rule_pages = [
        n for n, page in enumerate(laid.document.pages) for b in walk(page._page_box) if "a-rule" in classes(b)
    ]
    answer_pages = [
        n
        for n, page in enumerate(laid.document.pages)
        for b in walk(page._page_box)
        if "答案开头" in (getattr(b, "text", "") or "")
    ]
    assert len(rule_pages) == 1 and rule_pages == answer_pages[:1]
    first = laid.document.pages[answer_pages[0]]
    assert not any("问题开头" in (getattr(b, "text", "") or "") for b in walk(first._page_box))  # it did move over
