"""The question bank into what learning platforms import (Moodle XML, GIFT, a QTI 2.1 package) or a Word file.

Every format gets the same bank `paperkit exam --parts` draws from (each section's worked examples as short
answers, then its exercises), in handbook order: module, section, item. Formulas stay TeX inside `\\( … \\)`,
which Moodle's MathJax filter (and most QTI players) typeset; nothing is drawn as an image. One module per
format; each writes the four interaction shapes (questions/kind.py), so a new kind needs no exporter change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path

from paperkit.content.models import Handbook, Module
from paperkit.errors import UsageError
from paperkit.export.bankdocx import bank_docx
from paperkit.export.common import DEFAULT_EXPORT, ExportOptions
from paperkit.export.gift import gift_text
from paperkit.export.moodle import moodle_xml
from paperkit.export.qti import qti_package
from paperkit.i18n import _
from paperkit.output import check_output, write_atomic
from paperkit.source import open_handbook, select_modules

__all__ = ["DEFAULT_EXPORT", "ExportFormat", "ExportOptions", "build_export", "export_bank", "parse_format"]


class ExportFormat(Enum):
    """The formats `paperkit export` writes."""

    MOODLE = "moodle"
    GIFT = "gift"
    QTI = "qti"
    DOCX = "docx"  # a Word 题库 in the layout `paperkit import` reads back

    @property
    def filename(self) -> str:
        """The default output file name (GIFT as .txt: the extension Moodle's importer offers)."""
        names = {"moodle": "bank-moodle.xml", "gift": "bank-gift.txt", "qti": "bank-qti.zip", "docx": "bank.docx"}
        return names[self.value]


def parse_format(text: str) -> ExportFormat:
    """`moodle`, `gift` or `qti` into its ExportFormat; anything else is a UsageError listing the choices."""
    try:
        return ExportFormat(text.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in ExportFormat)
        raise UsageError(
            _("--format {value}: unknown format; choose one of {choices}").format(value=text, choices=choices)
        ) from None


WRITERS: Mapping[ExportFormat, Callable[[Handbook, Sequence[Module], ExportOptions], bytes]] = {
    ExportFormat.MOODLE: moodle_xml,
    ExportFormat.GIFT: lambda h, m, o: gift_text(h, m, o).encode("utf-8"),
    ExportFormat.QTI: qti_package,
    ExportFormat.DOCX: bank_docx,
}


def export_bank(
    handbook: Handbook,
    fmt: ExportFormat,
    modules: Sequence[int] | None = None,
    options: ExportOptions = DEFAULT_EXPORT,
) -> bytes:
    """The bank of the given modules (all if None) as one file's bytes; the same input gives the same bytes.
    Only the practice items go out unless `options.pool` asks for the held-back ones."""
    return WRITERS[fmt](handbook, select_modules(handbook, modules), options)


def build_export(
    source: Path,
    out: Path,
    fmt: ExportFormat,
    modules: Sequence[int] | None = None,
    options: ExportOptions = DEFAULT_EXPORT,
) -> Path:
    """Validate `source` and write its question bank in an LMS format (Moodle XML, GIFT or QTI); return the file."""
    check_output(out, inputs=[source])
    write_atomic(out, export_bank(open_handbook(source), fmt, modules, options))
    return out
