"""Font subsets with HarfBuzz, cut the way WeasyPrint cuts the fonts it embeds (glyph ids kept).

A print file of a whole class shares one font program per face: the union of what every student's paper
uses, subset from the shipped font file. HarfBuzz does it in milliseconds where fontTools takes seconds.
WeasyPrint already needs libharfbuzz-subset (scripts/setup-system.sh installs it); its Python bindings do
not expose building a face from bytes, so the few calls needed are declared here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

_DECLARATIONS = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_codepoint_t;
typedef uint32_t hb_tag_t;
typedef enum { HB_MEMORY_MODE_DUPLICATE = 0 } hb_memory_mode_t;
hb_blob_t *hb_blob_create(const char *data, unsigned int length, hb_memory_mode_t mode, void *user_data, void *destroy);
void hb_blob_destroy(hb_blob_t *blob);
const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
void hb_face_destroy(hb_face_t *face);
hb_blob_t *hb_face_reference_blob(hb_face_t *face);
void hb_set_add(hb_set_t *set, hb_codepoint_t codepoint);
hb_tag_t hb_tag_from_string(const char *str, int len);
hb_subset_input_t *hb_subset_input_create_or_fail(void);
void hb_subset_input_destroy(hb_subset_input_t *input);
hb_set_t *hb_subset_input_glyph_set(hb_subset_input_t *input);
hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned value);
hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
"""
# hb-subset.h (as WeasyPrint's text/ffi.py declares them): the flags and set types WeasyPrint uses for the fonts it
# embeds. 0x8, 0x10 and 0x80 here were other flags (legacy names, overlaps, glyph names): the shared subsets kept
# their subroutines, 27 KB more of the handbook's Serif face than WeasyPrint's own.
_NO_HINTING = 0x00000001
_RETAIN_GIDS = 0x00000002
_DESUBROUTINIZE = 0x00000004
_PASSTHROUGH_UNRECOGNIZED = 0x00000020
_NOTDEF_OUTLINE = 0x00000040
_DROP_TABLE_TAG = 3
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")


@functools.lru_cache(maxsize=1)
def _libraries() -> tuple[Any, Any, Any]:
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(_DECLARATIONS)
    return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")


def subset_font(font: bytes, glyphs: Iterable[int]) -> bytes:
    """`font` cut to `glyphs` (and .notdef) with glyph ids kept, desubroutinized and unhinted: as WeasyPrint
    embeds fonts (its default drops hinting), so a page draws exactly as in its own PDF."""
    ffi, hb, sub = _libraries()
    blob = hb.hb_blob_create(font, len(font), 0, ffi.NULL, ffi.NULL)
    face = hb.hb_face_create(blob, 0)
    wanted = sub.hb_subset_input_create_or_fail()
    try:
        glyph_set = sub.hb_subset_input_glyph_set(wanted)
        for gid in sorted({0, *glyphs}):
            hb.hb_set_add(glyph_set, gid)
        drop = sub.hb_subset_input_set(wanted, _DROP_TABLE_TAG)
        for tag in _DROPPED_TABLES:
            hb.hb_set_add(drop, hb.hb_tag_from_string(tag, -1))
        sub.hb_subset_input_set_flags(
            wanted, _NO_HINTING | _RETAIN_GIDS | _PASSTHROUGH_UNRECOGNIZED | _DESUBROUTINIZE | _NOTDEF_OUTLINE
        )
        result = sub.hb_subset_or_fail(face, wanted)
        if result == ffi.NULL:
            raise ValueError("HarfBuzz could not subset the font")
        out = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = hb.hb_blob_get_data(out, length)
        subset = bytes(ffi.buffer(data, length[0]))
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(result)
        return subset
    finally:
        sub.hb_subset_input_destroy(wanted)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)
