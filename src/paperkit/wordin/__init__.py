"""A teacher's Word 题库 (.docx) into the content format: read the document (docxread), lay its paragraphs out
as questions (layout), make items of them (items), write them as YAML (yamltext), all checked before writing
(job)."""

from __future__ import annotations

from paperkit.errors import WordError
from paperkit.wordin.job import Imported, ImportOptions, UnplacedError, import_word

__all__ = ["ImportOptions", "Imported", "UnplacedError", "WordError", "import_word"]
