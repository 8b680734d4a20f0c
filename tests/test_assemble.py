"""Parts joined into one PDF: one tag tree, links across the parts, the outline as one process makes it, fonts once.

Three modules with the answers at the end, in two parts and the front matter: the contents link forwards, each
question to its answer in the last part and each answer back, so every kind of link crosses a part.
"""

from __future__ import annotations

import dataclasses
import io
from collections import Counter
from typing import Any

import pytest
from pypdf import PdfReader

from conftest import SOURCE
from paperkit.handbook.context import PART_LINK
from paperkit.handbook.job import render_handbook, render_handbook_in_parts
from paperkit.handbook.options import HandbookOptions
from paperkit.render.page import geometry_for
from paperkit.source import open_handbook
from pdftext import squash

pytestmark = pytest.mark.slow  # lays out three modules twice

SMALL = dataclasses.replace(open_handbook(SOURCE), modules=open_handbook(SOURCE).modules[:3])
A4 = geometry_for("A4")


@pytest.fixture(scope="module")
def joined_pdf() -> bytes:
    return render_handbook_in_parts(SMALL, HandbookOptions(A4, "end"), 2).pdf


@pytest.fixture(scope="module")
def joined(joined_pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(joined_pdf))


@pytest.fixture(scope="module")
def single() -> PdfReader:
    return PdfReader(io.BytesIO(render_handbook(SMALL, HandbookOptions(A4, "end")).pdf))


def outline(reader: PdfReader) -> list[tuple[str, int, int]]:
    """(title, page index, /Count) of every bookmark, depth first."""
    found: list[tuple[str, int, int]] = []

    def visit(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item), int(item.get("/Count", 0))))

    visit(reader.outline)
    return found


def test_every_page_reads_as_in_one_process(joined: PdfReader, single: PdfReader) -> None:
    assert len(joined.pages) == len(single.pages) > 10
    for number, (ours, theirs) in enumerate(zip(joined.pages, single.pages, strict=True), start=1):
        assert squash(ours.extract_text()) == squash(theirs.extract_text()), number


def test_the_outline_is_one_process_s_with_the_modules_closed(joined: PdfReader, single: PdfReader) -> None:
    ours = [(title, page, count < 0) for title, page, count in outline(joined)]
    assert ours == [(title, page, count < 0) for title, page, count in outline(single)]
    assert sum(closed for _, _, closed in ours) == 3  # the three modules
    assert joined.trailer["/Root"]["/Outlines"]["/Count"] == single.trailer["/Root"]["/Outlines"]["/Count"]


def test_every_link_goes_to_a_named_destination_on_its_page(
    joined: PdfReader, single: PdfReader, joined_pdf: bytes
) -> None:
    assert joined.named_destinations.keys() == single.named_destinations.keys()
    for name, destination in joined.named_destinations.items():
        assert joined.get_destination_page_number(destination) == single.get_destination_page_number(
            single.named_destinations[name]
        ), name
    targets: Counter[str] = Counter()
    for page in joined.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            assert "/A" not in annotation, annotation  # no PART_LINK URL is left
            targets[str(annotation["/Dest"])] += 1
            assert str(annotation["/Contents"]) == str(annotation["/Dest"])
    assert set(targets) <= joined.named_destinations.keys()
    examples = [e for m in SMALL.modules for s in m.sections for e in s.examples]
    assert {f"a-{e.id}" for e in examples} | {f"q-{e.id}" for e in examples} <= set(targets)
    assert PART_LINK.encode() not in joined_pdf


def test_one_tag_tree_numbers_every_page_and_link(joined: PdfReader) -> None:
    root = joined.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "zh-CN"
    tree = root["/StructTreeRoot"]
    [document] = tree["/K"]
    assert document["/S"] == "/Document" and document.raw_get("/P").idnum == tree.indirect_reference.idnum
    nums = tree["/ParentTree"]["/Nums"]
    entries = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    assert len(entries) == len(nums) // 2 and int(tree["/ParentTreeNextKey"]) > max(entries)
    pages = {page.indirect_reference.idnum: page for page in joined.pages}
    keys = [int(page["/StructParents"]) for page in joined.pages]
    assert len(set(keys)) == len(keys) == len(joined.pages)
    for page in joined.pages:
        for element in entries[int(page["/StructParents"])]:
            assert element.get_object().raw_get("/Pg").idnum == page.indirect_reference.idnum
        for annotation in page.get("/Annots") or []:
            link = entries[int(annotation.get_object()["/StructParent"])].get_object()
            kids = link["/K"] if isinstance(link["/K"], list) else [link["/K"]]
            assert any(
                k.get_object().get("/Type") == "/OBJR" and k.get_object().raw_get("/Obj") == annotation for k in kids
            )

    # Every element's parent is the element that lists it, down from the one Document; /Pg is a page here.
    stack = [(document.indirect_reference, document)]
    seen = 0
    while stack:
        reference, element = stack.pop()
        kids = element.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            child = kid.get_object()
            if isinstance(child, dict) and "/S" in child:
                seen += 1
                assert child.raw_get("/P").idnum == reference.idnum
                assert "/Pg" not in child or child.raw_get("/Pg").idnum in pages
                stack.append((kid, child))
    assert seen > 1000


def fonts_of(resources: Any) -> list[Any]:
    """The fonts of a resource dictionary and of its form XObjects (the page-number stamp)."""
    found = list(resources.get("/Font", {}).values())
    for form in resources.get("/XObject", {}).values():
        form = form.get_object()
        if form.get("/Subtype") == "/Form" and "/Resources" in form:
            found += fonts_of(form["/Resources"])
    return found


def test_each_face_is_embedded_once(joined: PdfReader) -> None:
    programs: dict[str, set[int]] = {}
    for page in joined.pages:
        for font in fonts_of(page["/Resources"]):
            font = font.get_object()
            face = str(font["/BaseFont"]).split("+")[-1]
            descriptor = font["/DescendantFonts"][0]["/FontDescriptor"]
            key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
            programs.setdefault(face, set()).add(descriptor.raw_get(key).idnum)
    assert {"PK-Serif", "PK-Sans", "PK-Sans-Bold"} <= programs.keys()
    assert all(len(ids) == 1 for ids in programs.values()), programs


def test_every_page_but_the_cover_is_numbered_by_a_stamp_marked_as_an_artifact(
    joined: PdfReader, single: PdfReader
) -> None:
    for number, (ours, theirs) in enumerate(zip(joined.pages, single.pages, strict=True), start=1):
        text = squash(ours.extract_text())
        assert text.endswith(str(number)) == (number > 1) == squash(theirs.extract_text()).endswith(str(number))
        # The page's own content in its own graphics state, then the number as an artifact (not read aloud).
        content = ours.get_contents().get_data()
        assert content.startswith(b"q\n") and content.rstrip().endswith(
            b"/Artifact BMC\nq\n/PKPageNumber%d Do\nQ\nEMC" % number
        )


def test_the_metadata_is_the_handbook_s(joined: PdfReader, single: PdfReader) -> None:
    assert joined.metadata == single.metadata
    assert joined.pdf_header == single.pdf_header
    assert joined.trailer["/ID"][0] == joined.trailer["/ID"][1] != single.trailer["/ID"][0]
