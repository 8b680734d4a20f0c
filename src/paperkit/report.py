"""Plain-text reports on a handbook for the terminal: the validate summary and the module list."""

from __future__ import annotations

from .models import Handbook


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def counts_line(handbook: Handbook) -> str:
    """`14 modules, 65 sections, 130 questions`."""
    return ", ".join(
        [
            _plural(len(handbook.modules), "module"),
            _plural(len(handbook.sections), "section"),
            _plural(len(handbook.examples), "question"),
        ]
    )


def summary_line(handbook: Handbook) -> str:
    """The one line `paperkit validate` prints for good content."""
    return f"{handbook.source}: {counts_line(handbook)} — OK"


def module_table(handbook: Handbook) -> list[str]:
    """One row per module (id, sections, questions, title), then the totals."""
    rows = [f"{'module':>6}  {'sections':>8}  {'questions':>9}  title"]
    for module in handbook.modules:
        rows.append(f"{module.id:>6}  {len(module.sections):>8}  {module.question_count:>9}  {module.title}")
    rows.append(f"{handbook.source}: {counts_line(handbook)}")
    return rows
