"""Parts of one document, each a tagged PDF from WeasyPrint, joined into one tagged PDF (with pikepdf).

What WeasyPrint's tagging adds is joined by hand: each part has its own structure tree, whose parent tree
numbers its pages (/StructParents) and its link annotations (/StructParent) from 0. Here the parts' trees
become one Document element's children and the numbers are shifted part by part. Links from one part to
another (PART_LINK URLs) become links to the named destination, which the joined file holds; the
named destinations, the outline (with each bookmark's open or closed state) and the catalog's settings are
the parts' own. Each shipped face is embedded once.

pikepdf (qpdf) copies objects between files in C++ and writes object streams: pypdf took 1.35 s for the
bundled handbook's join and wrote 2.1 MB, pikepdf takes 0.23 s and writes 1.0 MB (one process: 0.93 MB).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

# A link to an anchor laid out in another part: the join turns it into a link to the named destination.
PART_LINK = "paperkit-part:"


def join_parts(parts: Sequence[bytes], page_numbers: bytes | None = None) -> bytes:
    """One PDF from the parts in order: pages, outline, named destinations, links, one tag tree, shared fonts;
    the catalog's settings, metadata and PDF version of the first part; a /ID derived from the content. With
    `page_numbers` (a PDF of as many pages), each of its pages is stamped on the joined page (stamp_page_numbers)."""
    import pikepdf

    out = pikepdf.Pdf.new()
    sources = [pikepdf.Pdf.open(io.BytesIO(data)) for data in parts]
    elements: list[Any] = []  # the children of the joined Document element
    numbers: list[Any] = []  # the joined parent tree: key, value, key, value, …
    destinations: list[tuple[bytes, Any, Any]] = []  # (sort key, name, destination)
    bookmarks: list[Any] = []  # the top-level outline items, in order
    offset = 0
    for source in sources:
        start = len(out.pages)
        with warnings.catch_warnings():
            # pikepdf warns that named destinations are not carried over: they are, below.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            out.pages.extend(source.pages)
        for page in out.pages[start:]:
            _shift(page.obj, "/StructParents", offset)
            for annotation in page.obj.get("/Annots", []):
                _shift(annotation, "/StructParent", offset)
                _link(annotation)
        tree = source.Root.StructTreeRoot
        elements += [out.copy_foreign(kid) for kid in tree.K[0].K]
        keys = tree.ParentTree.Nums
        for index in range(0, len(keys), 2):
            numbers += [int(keys[index]) + offset, _copy(out, keys[index + 1])]
        offset += 1 + max((int(keys[i]) for i in range(0, len(keys), 2)), default=-1)
        names = source.Root.Names.get("/Dests") if "/Names" in source.Root else None
        if names is not None:
            flat = names.Names
            destinations += [(bytes(flat[i]), flat[i], _copy(out, flat[i + 1])) for i in range(0, len(flat), 2)]
        if "/Outlines" in source.Root and "/First" in source.Root.Outlines:
            item = out.copy_foreign(source.Root.Outlines.First)
            bookmarks.append(item)
            while "/Next" in item:
                item = item.Next
                bookmarks.append(item)
    first = sources[0]
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
        if key in first.Root:
            out.Root[key] = _copy(out, first.Root[key])
    out.Root.StructTreeRoot = _tag_tree(out, first.Root.StructTreeRoot, elements, numbers, offset)
    if destinations:
        flat_names = pikepdf.Array()
        for _, name, destination in sorted(destinations, key=lambda d: d[0]):  # a name tree is sorted
            flat_names.extend([name, destination])
        out.Root.Names = pikepdf.Dictionary(Dests=out.make_indirect(pikepdf.Dictionary(Names=flat_names)))
    if bookmarks:
        out.Root.Outlines = _outline(out, bookmarks)
    for key, value in first.docinfo.items():
        out.docinfo[key] = value
    if page_numbers is not None:
        # Kept open with the parts until the save: qpdf reads a copied stream's data from its source then.
        sources.append(pikepdf.Pdf.open(io.BytesIO(page_numbers)))
        stamp_page_numbers(out, sources[-1])
    share_fonts(out, out.pages)
    data = io.BytesIO()
    out.save(
        data,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        deterministic_id=True,  # the /ID is a hash of the content: the same parts, the same bytes
        min_version=first.pdf_version,
    )
    return data.getvalue()


def stamp_page_numbers(out: Any, numbers: Any) -> None:
    """Draw each page of `numbers` over the page of `out` with its index, as an artifact (a page number is not
    content a screen reader reads), after the page's own content, which is kept in its own graphics state."""
    import pikepdf

    if len(numbers.pages) != len(out.pages):
        raise ValueError(f"{len(numbers.pages)} pages of page numbers for {len(out.pages)} pages")
    for index, (page, number) in enumerate(zip(out.pages, numbers.pages, strict=True), start=1):
        form = out.copy_foreign(number.as_form_xobject())
        # A name per page: a part's pages share one resource dictionary. Not pikepdf's prefix, which adds a
        # random suffix (the same build would differ byte by byte).
        name = page.add_resource(form, pikepdf.Name.XObject, name=pikepdf.Name(f"/PKPageNumber{index}"))
        page.contents_add(pikepdf.Stream(out, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(out, b"\nQ\n/Artifact BMC\nq\n" + bytes(name) + b" Do\nQ\nEMC\n"))


def _copy(out: Any, value: Any) -> Any:
    """`value` of another PDF, copied into `out` (qpdf copies indirect objects only; direct ones by hand)."""
    import pikepdf

    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copy(out, item) for item in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copy(out, item) for key, item in value.items()})
    return value


def _shift(dictionary: Any, key: str, offset: int) -> None:
    if key in dictionary:
        dictionary[key] = int(dictionary[key]) + offset


def _link(annotation: Any) -> None:
    """A link annotation to another part (a PART_LINK URL) made a link to its named destination."""
    import pikepdf

    action = annotation.get("/A")
    target = str(action.get("/URI", "")) if action is not None else ""
    if target.startswith(PART_LINK):
        name = pikepdf.String(target.removeprefix(PART_LINK))
        del annotation["/A"]
        annotation.Dest = name
        if "/Contents" in annotation:
            annotation.Contents = name  # what WeasyPrint's tagging gives an internal link


def _tag_tree(out: Any, tree: Any, elements: list[Any], numbers: list[Any], next_key: int) -> Any:
    """The joined structure tree root: one Document element (the first part's) over every part's elements."""
    import pikepdf

    root = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot))
    first = tree.K[0]
    document = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=first.S, P=root))
    if "/NS" in first:
        document.NS = _copy(out, first.NS)
    document.K = pikepdf.Array(elements)
    for element in elements:
        element.P = document  # it was the part's Document element, now unreferenced and not written
    root.K = pikepdf.Array([document])
    root.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(numbers)))
    root.ParentTreeNextKey = next_key
    if "/Namespaces" in tree:
        root.Namespaces = _copy(out, tree.Namespaces)
    return root


def _outline(out: Any, bookmarks: list[Any]) -> Any:
    """One outline over the parts' top-level bookmarks (each keeps its children and its open or closed state)."""
    import pikepdf

    outlines = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    shown = 0
    for index, item in enumerate(bookmarks):
        item.Parent = outlines
        for key, other in (("/Prev", index - 1), ("/Next", index + 1)):
            if 0 <= other < len(bookmarks):
                item[key] = bookmarks[other]
            elif key in item:
                del item[key]
        children = int(item.get("/Count", 0))
        shown += 1 + max(children, 0)  # a closed item's count is negative: its children do not show
    outlines.First, outlines.Last, outlines.Count = bookmarks[0], bookmarks[-1], shown
    return outlines


def share_fonts(out: Any, pages: Iterable[Any]) -> None:
    """Point every shipped face's font descriptors on `pages` at one program holding every glyph they use.

    Each document embeds its own subset of each face with the face's glyph ids kept (as WeasyPrint embeds
    fonts), so one program cut from the shipped file serves them all; the programs no longer referenced are
    not written. A font that is not a shipped face is left as it is.
    """
    import pikepdf

    from paperkit.render.hbsubset import subset_font
    from paperkit.render.pdf import embedded_face, face_files

    files = face_files()
    programs: dict[str, Any] = {}
    used: dict[str, set[int]] = {}
    for font in _fonts(pages):
        embedded = embedded_face(font, files)
        if embedded is None:
            continue
        if embedded.face not in programs:
            programs[embedded.face] = out.make_stream(b"")
            if embedded.key == "/FontFile3":
                programs[embedded.face].Subtype = pikepdf.Name.OpenType
        used.setdefault(embedded.face, set()).update(embedded.codes)
        embedded.descriptor[embedded.key] = programs[embedded.face]
    for face, program in programs.items():
        program.write(subset_font(files[face].read_bytes(), used[face]))


def _fonts(pages: Iterable[Any]) -> Iterable[Any]:
    """Every font dictionary the pages use, their form XObjects' (the page-number stamp) included, each once (a
    part's pages share theirs)."""
    seen: set[tuple[int, int]] = set()
    for page in pages:
        stack = [page.obj.get("/Resources")]
        while stack:
            resources = stack.pop()
            if resources is None:
                continue
            for font in resources.get("/Font", {}).values():
                if font.objgen == (0, 0) or font.objgen not in seen:  # (0, 0): a direct object, never shared
                    seen.add(font.objgen)
                    yield font
            forms = resources.get("/XObject", {}).values()
            stack += [form.get("/Resources") for form in forms if form.get("/Subtype") == "/Form"]
