"""A produced PDF's text as a reader checks it: each page's text, and text with whitespace squashed away
(pypdf breaks CJK lines wherever the layout did, so comparisons ignore whitespace)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader


def squash(text: str) -> str:
    """The text without any whitespace."""
    return re.sub(r"\s+", "", text)


def page_texts(source: Path | bytes) -> list[str]:
    """The text of every page of a PDF file (or its bytes), as pypdf extracts it."""
    reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
    return [page.extract_text() for page in reader.pages]


def pdf_text(source: Path | bytes) -> str:
    """The text of a whole PDF, whitespace squashed away."""
    return squash("".join(page_texts(source)))
