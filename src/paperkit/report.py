"""Plain-text reports on a handbook for the terminal: the validate summary, the module list, the bank check."""

from __future__ import annotations

import json
from collections.abc import Sequence

from paperkit.content.models import Handbook, Module
from paperkit.errors import UsageError
from paperkit.questions.lint import as_json as bank_json
from paperkit.questions.lint import check_bank, entries, summary
from paperkit.questions.registry import KINDS, as_item


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def kind_counts(modules: Sequence[Module]) -> dict[str, int]:
    """How many exam items of each registered kind the modules hold (worked examples are short answers)."""
    counts = dict.fromkeys(KINDS, 0)
    for module in modules:
        for section in module.sections:
            for item in (*map(as_item, section.examples), *section.exercises):
                counts[item.kind] += 1
    return counts


def counts_line(handbook: Handbook) -> str:
    """`14 modules, 65 sections, 130 questions`, then the exam items by kind when there are exercises."""
    line = ", ".join(
        [
            _plural(len(handbook.modules), "module"),
            _plural(len(handbook.sections), "section"),
            _plural(len(handbook.examples), "question"),
        ]
    )
    if handbook.exercises:
        kinds = kind_counts(handbook.modules)
        line += f"; exam items: {', '.join(f'{count} {kind}' for kind, count in kinds.items())}"
        held = sum(x.use == "exam" for x in handbook.exercises)
        if held:
            line += f" ({held} held back for exams)"
    return line


def summary_line(handbook: Handbook) -> str:
    """The one line `paperkit validate` prints for good content."""
    return f"{handbook.source}: {counts_line(handbook)} — OK"


def module_table(handbook: Handbook) -> list[str]:
    """One row per module (id, sections, worked questions, items by kind, how many are held back for exams,
    title), then the totals."""
    head = "".join(f"  {kind:>{max(len(kind), 5)}}" for kind in KINDS)
    rows = [f"{'module':>6}  {'sections':>8}  {'questions':>9}{head}  held back  title"]
    for module in handbook.modules:
        kinds = kind_counts([module])
        cells = "".join(f"  {kinds[kind]:>{max(len(kind), 5)}}" for kind in KINDS)
        held = sum(x.use == "exam" for s in module.sections for x in s.exercises)
        rows.append(
            f"{module.id:>6}  {len(module.sections):>8}  {module.question_count:>9}{cells}  {held:>9}  {module.title}"
        )
    rows.append(f"{handbook.source}: {counts_line(handbook)}")
    return rows


def bank_report(
    handbook: Handbook, modules: Sequence[int] | None = None, *, as_json: bool = False, strict: bool = False
) -> tuple[list[str], bool]:
    """`paperkit bank check`: a line per finding, a table per rule and a closing line (or JSON); and whether
    `--strict` fails."""
    known = [m.id for m in handbook.modules]
    unknown = [m for m in modules or () if m not in known]
    if unknown:
        raise UsageError(f"--modules: unknown module {unknown[0]}; modules are {', '.join(map(str, known))}")
    findings = check_bank(handbook, modules)
    checked = sum(1 for e in entries(handbook) if modules is None or e.module.id in modules)
    if as_json:
        return [json.dumps(bank_json(findings, checked), ensure_ascii=False, indent=2)], strict and bool(findings)
    lines = [str(f) for f in findings]
    rows = summary(findings)
    width = max(len(rule) for rule, _, _ in rows)
    lines += ["", f"{'rule':<{width}}  findings  what it checks"]
    lines += [f"{rule:<{width}}  {count:>8}  {text}" for rule, count, text in rows]
    verdict = "strict: failed" if strict and findings else "OK" if not findings else "warnings only"
    lines.append(f"{handbook.source}: {_plural(len(findings), 'finding')} in {checked} items — {verdict}")
    return lines, strict and bool(findings)
