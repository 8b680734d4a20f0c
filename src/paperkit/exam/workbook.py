"""A spreadsheet a teacher hands paperkit (.xlsx, or CSV text) into rows, bounded before anything is built and
refused in one line naming the file when it is damaged, hostile or too large.

openpyxl trusts a workbook. In read-only mode it pads every row to the sheet's declared dimension (A1:XFD20000 in
a 9 KB file took 2.6 GB), it holds a whole row, and every element of a part it does not know, as Python objects
(10 MB of `<a b="1"/>` took 384 MB), and it leaves entities to the XML parser (defusedxml is not installed). So
every part of the zip is first streamed through expat, counted and refused on a DOCTYPE or past a limit; only
then does openpyxl read it, with a dimension larger than the cells it bounds set aside.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from paperkit.errors import WorkbookError
from paperkit.i18n import _

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384  # the largest sheet there is, A1:XFD1048576
CELL_ELEMENTS = 16  # XML elements one cell may take: itself, its value or formula, an inline string's runs
STRING_ELEMENTS = 1_000  # XML elements one shared string may take (a rich text of many runs)
MAX_PARTS = 1_000  # files in the zip (a workbook has tens)
CHUNK = 1 << 16
_REF = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)")
_OLE = b"\xd0\xcf\x11\xe0"  # an .xls file, or an .xlsx with a password to open (both OLE containers)


@dataclass(frozen=True)
class Limits:
    """What a reader accepts; `noun` names the document in messages ("a roster" or "a score sheet": see `_noun`)."""

    noun: str
    rows: int
    columns: int
    cells: int  # per sheet: cell elements, and cells once each row is padded to its last
    unpacked: int  # bytes, every part of the zip together
    file: int  # bytes of the file itself
    # Per part, XML elements outside rows and shared strings: openpyxl keeps each one (some 300 bytes), and a
    # styles.xml bloated by copying between workbooks holds a few hundred thousand.
    elements: int = 500_000


def _damaged(where: str, detail: str) -> WorkbookError:
    return WorkbookError(_("{where}: cannot read this workbook ({detail})").format(where=where, detail=detail))


def _noun(limits: Limits) -> str:
    """The document `limits` reads, in the current language (a noun the readers do not pass stays as it is)."""
    return {"a roster": _("a roster"), "a score sheet": _("a score sheet")}.get(limits.noun, limits.noun)


def _megabytes(size: int) -> int:
    return math.ceil(size / 2**20)


def _column(letters: str) -> int:
    """A column's number from its letters (A → 1, XFD → 16384); past XFD the size hardly matters."""
    if len(letters) > 3:
        return EXCEL_COLUMNS + 1
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Part:
    """One XML part of the zip as expat streams it: refused on a DOCTYPE or at the first count past a limit."""

    def __init__(self, where: str, name: str, limits: Limits) -> None:
        self.where, self.name, self.limits = where, name, limits
        self.depth = 0
        self.open = 0  # the depth of the open <row> or <si>, 0 when none is
        self.string = False  # whether the open one is an <si>
        self.inside = self.width = self.last = 0  # the open row's elements, last column, last cell's column
        self.next_row = 1  # openpyxl numbers a <row> without r as the one after the previous
        self.rows = self.cells = self.padded = self.strings = self.other = 0

    def read(self, stream: IO[bytes]) -> None:
        """Stream the part through expat; malformed XML in an .xml or .rels part is refused too."""
        parser = expat.ParserCreate(namespace_separator="}")  # as ElementTree parses, so both fail alike
        parser.StartDoctypeDeclHandler = self.doctype
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        try:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as error:
            # Images and binary parts are not XML, and openpyxl stops where expat does: only the parts it
            # parses as XML must be well-formed.
            if self.name.lower().endswith((".xml", ".rels")):
                raise _damaged(
                    self.where, _("{part}: malformed XML, {error}").format(part=self.name, error=error)
                ) from None

    def doctype(self, *_args: object) -> None:
        # Entities live in a DOCTYPE (billion laughs, external files); no spreadsheet program writes one.
        raise _damaged(self.where, _("{part} has a DOCTYPE, which no workbook has").format(part=self.name))

    def beyond(self, found: str, limit: str) -> WorkbookError:
        return WorkbookError(
            _("{where}: {found}; {noun} has at most {limit}").format(
                where=self.where, found=found, noun=_noun(self.limits), limit=limit
            )
        )

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        namespace, _sep, local = name.rpartition("}")
        limits = self.limits
        if self.open:
            self.inside += 1
            if self.string and self.inside > STRING_ELEMENTS:
                raise _damaged(
                    self.where,
                    _("{part}: a string of over {most} XML elements").format(part=self.name, most=STRING_ELEMENTS),
                )
            if not self.string and self.inside > limits.columns * CELL_ELEMENTS:
                raise self.beyond(
                    _("a row holds over {most} XML elements").format(most=limits.columns * CELL_ELEMENTS),
                    _columns(limits.columns),
                )
            if local == "c" and namespace == MAIN_NS:
                self.cell(attributes.get("r", ""))
        elif local == "row" and namespace == MAIN_NS:
            self.row(attributes.get("r", ""))
        elif local == "si" and namespace == MAIN_NS:
            self.strings += 1
            if self.strings > limits.cells:
                raise self.beyond(
                    _("{part} holds over {most} strings").format(part=self.name, most=limits.cells), f"{limits.cells}"
                )
            self.open, self.inside, self.string = self.depth, 0, True
        else:
            self.other += 1
            if self.other > limits.elements:
                raise self.beyond(
                    _("{part} holds over {most} XML elements besides its cells").format(
                        part=self.name, most=limits.elements
                    ),
                    f"{limits.elements}",
                )
            if local in ("mergeCell", "hyperlink") and namespace == MAIN_NS:
                self.span(attributes.get("ref", ""))

    def end(self, _name: str) -> None:
        if self.depth == self.open:
            self.open = 0
            self.padded += self.width
            if self.padded > self.limits.cells:
                raise self.beyond(
                    _("a sheet spans over {most} cells").format(most=self.limits.cells), _cells(self.limits.cells)
                )
        self.depth -= 1

    def row(self, ref: str) -> None:
        limits = self.limits
        self.rows += 1
        number = int(ref) if ref.isascii() and ref.isdigit() and len(ref) < 10 else self.next_row
        if number > EXCEL_ROWS:
            raise _damaged(
                self.where,
                _("{part}: row {row} is past the last row there is, {last}").format(
                    part=self.name, row=ref, last=EXCEL_ROWS
                ),
            )
        if number > limits.rows or self.rows > limits.rows:
            raise self.beyond(
                _("a sheet reaches row {row}").format(row=max(number, self.rows)), _rows_limit(limits.rows)
            )
        self.next_row = number + 1
        self.open, self.inside, self.string = self.depth, 0, False
        self.width = self.last = 0

    def cell(self, ref: str) -> None:
        limits = self.limits
        found = _REF.fullmatch(ref)
        column = _column(found.group(1)) if found else self.last + 1
        if column > EXCEL_COLUMNS:
            raise _damaged(
                self.where,
                _("{part}: cell {cell} is outside A1:XFD{last}").format(part=self.name, cell=ref, last=EXCEL_ROWS),
            )
        if column > limits.columns:
            raise self.beyond(
                _("a sheet reaches column {column}").format(column=found.group(1) if found else column),
                _columns(limits.columns),
            )
        self.cells += 1
        if self.cells > limits.cells:
            raise self.beyond(_("a sheet holds over {most} cells").format(most=limits.cells), _cells(limits.cells))
        self.last, self.width = column, max(self.width, column)

    def span(self, ref: str) -> None:
        # openpyxl outside read-only mode makes a cell for every cell a merge or a link covers.
        found = _REF.fullmatch(ref.rpartition(":")[2])
        if found and int(found.group(2)) > self.limits.rows:
            raise self.beyond(
                _("a sheet reaches row {row} ({ref})").format(row=found.group(2), ref=ref),
                _rows_limit(self.limits.rows),
            )
        if found and _column(found.group(1)) > self.limits.columns:
            raise self.beyond(
                _("a sheet reaches column {column} ({ref})").format(column=found.group(1), ref=ref),
                _columns(self.limits.columns),
            )


def _rows_limit(count: int) -> str:
    return _("{count} rows").format(count=count)


def _columns(count: int) -> str:
    return _("{count} columns").format(count=count)


def _cells(count: int) -> str:
    return _("{count} cells").format(count=count)


def check_xlsx(data: bytes, where: str, limits: Limits) -> None:
    """Refuse a workbook, before any of it is parsed into objects, that is no zip, unpacks past the limit, has a
    DOCTYPE or malformed XML, or whose sheets reach past the limits' rows, columns or cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        if data.startswith(_OLE):
            raise _damaged(
                where, _("an .xls file, or one with a password to open; save it as .xlsx without one")
            ) from None
        raise _damaged(where, _("not an .xlsx file: {error}").format(error=error)) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise WorkbookError(
                _("{where}: the zip holds {count} files; a workbook has at most {most}").format(
                    where=where, count=len(parts), most=MAX_PARTS
                )
            )
        # zipfile unpacks no part past the size it declares, so the declared sizes bound the whole read.
        unpacked = sum(part.file_size for part in parts)
        if unpacked > limits.unpacked:
            raise WorkbookError(
                _("{where}: unpacks to {size} MB; {noun} unpacks to at most {most} MB").format(
                    where=where, size=_megabytes(unpacked), noun=_noun(limits), most=_megabytes(limits.unpacked)
                )
            )
        for part in parts:
            if part.is_dir():
                continue
            try:
                with archive.open(part) as stream:
                    _Part(where, part.filename, limits).read(stream)
            except WorkbookError:
                raise
            except Exception as error:  # zipfile: a bad CRC, an unknown compression, a password
                raise _damaged(where, f"{part.filename}: {type(error).__name__}: {error}") from None


def read_xlsx(
    data: bytes, where: str, limits: Limits, *, data_only: bool, sheets: Sequence[str] = ()
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows (values; formulas as text unless data_only) of each named worksheet the workbook has, in the
    workbook's order, or of its first worksheet when none are named; bounded by check_xlsx first."""
    from openpyxl import load_workbook

    check_xlsx(data, where, limits)
    found: dict[str, list[tuple[Any, ...]]] = {}
    reading = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips; not the user's
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
            try:
                if not book.worksheets:
                    raise _damaged(where, _("no worksheet in it"))
                wanted = [s for s in book.worksheets if s.title in sheets] if sheets else book.worksheets[:1]
                for sheet in wanted:
                    reading = _("sheet {sheet}: ").format(sheet=sheet.title)
                    found[sheet.title] = _rows(sheet, limits)
            finally:
                book.close()
    except WorkbookError:
        raise
    except Exception as error:  # openpyxl raises many types for a damaged part
        detail = " ".join(str(error).split())[:200]
        raise _damaged(where, f"{reading}{type(error).__name__}: {detail}") from None
    return found


def _rows(sheet: Any, limits: Limits) -> list[tuple[Any, ...]]:
    """A read-only sheet's rows as values, each padded to the declared dimension when that is within limits."""
    rows, columns = sheet.max_row or 0, sheet.max_column or 0
    if rows > limits.rows or columns > limits.columns or rows * columns > limits.cells:
        # A declared size past the limits that the cells do not fill (check_xlsx bounded the cells): read the
        # cells as they are instead of padding every row to it.
        sheet.reset_dimensions()
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def read_file(path: Path, limits: Limits) -> bytes:
    """A file's bytes, refused unread when it is larger than the limit."""
    try:
        size = path.stat().st_size
        if size > limits.file:
            raise WorkbookError(
                _("{path}: {size} MB; {noun} is at most {most} MB").format(
                    path=path, size=_megabytes(size), noun=_noun(limits), most=_megabytes(limits.file)
                )
            )
        return path.read_bytes()
    except OSError as error:
        raise WorkbookError(_("{path}: cannot read it ({reason})").format(path=path, reason=error.strerror)) from None


def decode_text(data: bytes, where: str, advice: str) -> str:
    """CSV bytes as text: UTF-16 by its BOM or, without one, by the zero bytes its ASCII characters carry; else
    UTF-8; else GB18030 (a superset of GBK). Anything else is refused with `advice`."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise WorkbookError(
                _("{where}: damaged UTF-16 text at byte {byte}").format(where=where, byte=error.start)
            ) from None
    if data.count(0) * 10 >= len(data) > 0:
        # No UTF-8 or GB18030 text has zero bytes; UTF-16 without a BOM (some exporters) has one beside every
        # digit, comma and line break: after it (little-endian) or before it (big-endian).
        encoding = "utf-16-le" if data[1::2].count(0) >= data[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            line = data[: error.start].decode(encoding, "replace").count("\n") + 1
            raise _undecodable(where, line, advice) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise _undecodable(where, data[: utf8_error.start].count(b"\n") + 1, advice) from None


def _undecodable(where: str, line: int, advice: str) -> WorkbookError:
    return WorkbookError(
        _("{where}:{line}: neither UTF-8, GB18030/GBK nor UTF-16 text; {advice}").format(
            where=where, line=line, advice=advice
        )
    )


def csv_rows(text: str, where: str, limits: Limits, delimiter: str = ",") -> list[list[str]]:
    """The rows of CSV text (line ends CRLF, LF or CR alone; a line break inside quotes stays in its field)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(rows) == limits.rows:
                raise WorkbookError(
                    _("{where}: over {count} rows; {noun} has at most {count}").format(
                        where=where, count=limits.rows, noun=_noun(limits)
                    )
                )
            if len(row) > limits.columns:
                raise WorkbookError(
                    _("{where}:{line}: {count} columns; {noun} has at most {most}").format(
                        where=where, line=reader.line_num, count=len(row), noun=_noun(limits), most=limits.columns
                    )
                )
            rows.append(row)
    except csv.Error as error:
        raise WorkbookError(
            _("{where}:{line}: cannot read this CSV ({error})").format(where=where, line=reader.line_num, error=error)
        ) from None
    return rows
