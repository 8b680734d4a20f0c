"""TeX formulas into Office Math (OMML) elements for a Word document: all of them in one pandoc run.

pandoc (shipped inside the pypandoc-binary wheel) reads a small Markdown text, one paragraph per formula, each
marked with its index, and writes a .docx to its standard output; each paragraph's `m:oMath` element is the
formula as Word's equation editor holds it. One run takes about 0.1 s whatever the number of formulas (a
formula alone would cost as much), so a set of documents converts its formulas together, and every result is
kept for the rest of the process. A formula pandoc cannot read stays None: the document sets it as plain text.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml

from paperkit.i18n import _

PANDOC_TIMEOUT = 120  # seconds for one run (a paper's few dozen formulas take about 0.1 s)
_MARK = re.compile(r"F(\d+):")
_CONVERTED: dict[str, Any] = {}  # TeX → its m:oMath element (None: pandoc could not read it)
_KEPT = 10_000  # formulas remembered per process (a whole handbook has a few hundred)
# What a missing, broken or killed pandoc raises here (a bad .docx out of it included): every formula stays text.
_PANDOC_FAILURES = (
    OSError,
    RuntimeError,
    ValueError,
    KeyError,
    SyntaxError,
    subprocess.SubprocessError,
    zipfile.BadZipFile,
)


@dataclass(frozen=True)
class Formulas:
    """Formulas as OMML: each TeX's `m:oMath` element (copy it to insert it), or None where it stays text;
    `problem` says why pandoc did not run at all ('' when it did)."""

    omml: Mapping[str, Any]
    problem: str = ""


def convert_formulas(texs: Iterable[str]) -> Formulas:
    """Every formula (TeX without its $…$) as an OMML element, converted in one pandoc run; never raises."""
    asked = list(dict.fromkeys(texs))
    wanted = [tex for tex in asked if tex not in _CONVERTED]
    problem = ""
    if wanted:
        try:
            found = _run_pandoc(wanted)
        except _PANDOC_FAILURES as error:
            found, problem = {}, _problem(error)
        if not problem:
            if len(_CONVERTED) > _KEPT:
                _CONVERTED.clear()
            _CONVERTED.update({tex: found.get(index) for index, tex in enumerate(wanted)})
    return Formulas({tex: _CONVERTED.get(tex) for tex in asked}, problem)


def _problem(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _markdown(texs: list[str]) -> str:
    # Markdown's $…$ must not open or close on a space, and a blank line would end the formula's paragraph.
    return "\n\n".join(f"F{index}: ${' '.join(tex.split())}$" for index, tex in enumerate(texs))


def _run_pandoc(texs: list[str]) -> dict[int, Any]:
    """The m:oMath element of each formula pandoc read, by its index in `texs`."""
    import pypandoc  # type: ignore[import-untyped]  # only where formulas are converted: it probes for pandoc

    command = [pypandoc.get_pandoc_path(), "--sandbox", "--from=commonmark+tex_math_dollars", "--to=docx", "-o", "-"]
    done = subprocess.run(command, input=_markdown(texs).encode(), capture_output=True, timeout=PANDOC_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(
            _("pandoc exited with {code}: {output}").format(
                code=done.returncode, output=done.stderr.decode(errors="replace")
            )
        )
    document = zipfile.ZipFile(io.BytesIO(done.stdout)).read("word/document.xml")
    found: dict[int, Any] = {}
    for paragraph in parse_xml(document).iter(qn("w:p")):
        mark = _MARK.match("".join(t.text or "" for t in paragraph.iter(qn("w:t"))))
        math = paragraph.find(qn("m:oMath"))
        if mark is not None and math is not None and int(mark.group(1)) < len(texs):
            found[int(mark.group(1))] = math
    return found
