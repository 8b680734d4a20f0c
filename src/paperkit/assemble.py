"""Parts of one document, each a tagged PDF from WeasyPrint, joined into one tagged PDF.

pypdf joins pages, outlines and named destinations, but not what WeasyPrint's tagging adds: each part has
its own structure tree, whose parent tree numbers its pages (/StructParents) and its link annotations
(/StructParent) from 0. Here the parts' trees become one Document element's children and the numbers are
shifted part by part. Links from one part to another (handbook.PART_LINK URLs) become links to the named
destination, which the joined file holds. Each shipped face is embedded once (pdf.SharedFonts).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import Any

from .handbook import PART_LINK


def join_parts(parts: Sequence[bytes]) -> bytes:
    """One PDF from the parts in order: pages, outline, named destinations, links, one tag tree, shared fonts;
    the catalog's settings and the metadata of the first part; a /ID derived from the parts' bytes."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject

    from .pdf import SharedFonts

    readers = [PdfReader(io.BytesIO(data)) for data in parts]
    writer = PdfWriter()
    fonts = SharedFonts(writer)
    elements: list[Any] = []  # the children of the joined Document element
    numbers: list[Any] = []  # the joined parent tree: key, value, key, value, …
    closed: list[bool] = []  # whether each top-level bookmark, in order, is closed (pypdf opens them all)
    offset = 0
    for reader in readers:
        fonts.take(reader)
        closed += [int(item.get("/Count", 0)) < 0 for item in _top_level(reader.trailer["/Root"])]
        offset = _append(writer, reader, offset, elements, numbers)
    first: Any = readers[0]
    catalog = first.trailer["/Root"]
    root: Any = writer._root_object
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo"):
        if key in catalog:
            root[NameObject(key)] = catalog[key].clone(writer)
    root[NameObject("/StructTreeRoot")] = _tag_tree(writer, catalog["/StructTreeRoot"].get_object(), elements, numbers)
    _close(writer, closed)
    writer.add_metadata({k: v for k, v in (first.metadata or {}).items() if isinstance(v, str)})
    fonts.finish()
    identifier = hashlib.sha256(b"".join(parts)).hexdigest()[:32].encode()
    writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])
    writer.pdf_header = first.pdf_header
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _append(writer: Any, reader: Any, offset: int, elements: list[Any], numbers: list[Any]) -> int:
    """Append a part's pages with their links, its Document element's children to `elements` and its parent
    tree to `numbers`, keys shifted by `offset`; return the offset for the next part."""
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    start = len(writer.pages)
    # Annotations are copied here, not by pypdf: it keeps a link to a named destination only if a part already
    # appended holds that name, and links go forwards too.
    writer.append(reader, import_outline=True, excluded_fields=["/Annots"])
    for page, source in zip(writer.pages[start:], reader.pages, strict=True):
        if "/Annots" in source:
            page[NameObject("/Annots")] = ArrayObject(_link(a.clone(writer)) for a in source["/Annots"])
        if "/StructParents" in source:  # pypdf drops it
            page[NameObject("/StructParents")] = NumberObject(int(source["/StructParents"]) + offset)
        for annotation in page.get("/Annots", ()):
            _shift(annotation.get_object(), "/StructParent", offset)
    tree = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    # Cloned without /P: each element's parent is set once the joined tree stands (_set_parents); following /P
    # would copy the part's own root and parent tree.
    elements += [kid.clone(writer, ignore_fields=("/P",)) for kid in tree["/K"][0].get_object()["/K"]]
    keys = tree["/ParentTree"].get_object()["/Nums"]
    for index in range(0, len(keys), 2):
        numbers += [NumberObject(int(keys[index]) + offset), keys[index + 1].clone(writer, ignore_fields=("/P",))]
    return offset + 1 + max((int(keys[i]) for i in range(0, len(keys), 2)), default=-1)


def _tag_tree(writer: Any, tree: Any, elements: list[Any], numbers: list[Any]) -> Any:
    """The joined structure tree root: one Document element (the first part's) over every part's elements."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

    joined = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    reference = writer._add_object(joined)
    document = tree["/K"][0].get_object()
    element = DictionaryObject(
        {k: v.clone(writer, ignore_fields=("/P",)) for k, v in document.items() if k not in ("/K", "/P")}
    )
    element[NameObject("/K")] = ArrayObject(elements)
    element[NameObject("/P")] = reference
    element_reference = writer._add_object(element)
    _set_parents(element_reference, element)
    joined[NameObject("/K")] = ArrayObject([element_reference])
    joined[NameObject("/ParentTree")] = writer._add_object(
        DictionaryObject({NameObject("/Nums"): ArrayObject(numbers)})
    )
    joined[NameObject("/ParentTreeNextKey")] = NumberObject(int(numbers[-2]) + 1 if numbers else 0)
    if "/Namespaces" in tree:
        joined[NameObject("/Namespaces")] = tree["/Namespaces"].clone(writer)
    return reference


def _link(reference: Any) -> Any:
    """A link annotation to another part (a PART_LINK URL) made a link to its named destination."""
    from pypdf.generic import NameObject, TextStringObject

    annotation = reference.get_object()
    action = annotation.get("/A")
    target = str(action.get_object().get("/URI", "")) if action is not None else ""
    if target.startswith(PART_LINK):
        name = TextStringObject(target.removeprefix(PART_LINK))
        del annotation["/A"]
        annotation[NameObject("/Dest")] = name
        if "/Contents" in annotation:
            annotation[NameObject("/Contents")] = name
    return reference


def _top_level(catalog: Any) -> list[Any]:
    """The top-level outline items of a catalog, in order."""
    outlines = catalog.get("/Outlines")
    item = outlines.get_object().get("/First") if outlines is not None else None
    items = []
    while item is not None:
        items.append(item.get_object())
        item = items[-1].get("/Next")
    return items


def _close(writer: Any, closed: Sequence[bool]) -> None:
    """Close the joined outline's top-level items that were closed in their parts, and count what shows."""
    from pypdf.generic import NameObject, NumberObject

    shown = 0
    for item, is_closed in zip(_top_level(writer._root_object), closed, strict=True):
        children = abs(int(item.get("/Count", 0)))
        if children:
            item[NameObject("/Count")] = NumberObject(-children if is_closed else children)
        shown += 1 + (0 if is_closed else children)
    if "/Outlines" in writer._root_object:
        writer._root_object["/Outlines"].get_object()[NameObject("/Count")] = NumberObject(shown)


def _shift(dictionary: Any, key: str, offset: int) -> None:
    from pypdf.generic import NameObject, NumberObject

    if key in dictionary:
        dictionary[NameObject(key)] = NumberObject(int(dictionary[key]) + offset)


def _set_parents(reference: Any, element: Any) -> None:
    """Give each structure element under `element` its /P (cloned without it, so as not to copy the parts' roots)."""
    from pypdf.generic import NameObject

    stack = [(reference, element)]
    while stack:
        parent_ref, parent = stack.pop()
        kids = parent.get("/K")
        if kids is None:
            continue
        for kid in kids if isinstance(kids, list) else [kids]:
            if not hasattr(kid, "get_object"):
                continue  # a marked-content id
            child = kid.get_object()
            if isinstance(child, dict) and child.get("/Type", "/StructElem") == "/StructElem" and "/S" in child:
                child[NameObject("/P")] = parent_ref
                stack.append((kid, child))
