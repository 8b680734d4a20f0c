"""Plain-text reports on a handbook for the terminal: the validate summary, the module list, the bank check."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

from paperkit.content.models import Handbook, Module
from paperkit.errors import UsageError
from paperkit.i18n import _, ngettext
from paperkit.questions.lint import as_json as bank_json
from paperkit.questions.lint import check_bank, entries, summary
from paperkit.questions.registry import KINDS, as_item


def _width(text: str) -> int:
    """How many terminal columns `text` takes (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _right(text: str, width: int) -> str:
    """`text` right-aligned in `width` terminal columns."""
    return " " * max(0, width - _width(text)) + text


def _left(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns."""
    return text + " " * max(0, width - _width(text))


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
    modules, sections, questions = len(handbook.modules), len(handbook.sections), len(handbook.examples)
    line = _("{modules}, {sections}, {questions}").format(
        modules=ngettext("{count} module", "{count} modules", modules).format(count=modules),
        sections=ngettext("{count} section", "{count} sections", sections).format(count=sections),
        questions=ngettext("{count} question", "{count} questions", questions).format(count=questions),
    )
    if handbook.exercises:
        kinds = kind_counts(handbook.modules)
        line += _("; exam items: {kinds}").format(kinds=", ".join(f"{count} {kind}" for kind, count in kinds.items()))
        groups = len({x.group.id for x in handbook.exercises if x.group is not None})
        if groups:
            line += ngettext(
                " ({parts} of them in {count} group)", " ({parts} of them in {count} groups)", groups
            ).format(parts=sum(x.group is not None for x in handbook.exercises), count=groups)
        held = sum(x.use == "exam" for x in handbook.exercises)
        if held:
            line += _(" ({count} held back for exams)").format(count=held)
    return line


def summary_line(handbook: Handbook) -> str:
    """The one line `paperkit validate` prints for good content."""
    return _("{source}: {counts} — OK").format(source=handbook.source, counts=counts_line(handbook))


def module_table(handbook: Handbook) -> list[str]:
    """One row per module (id, sections, worked questions, items by kind, how many are held back for exams,
    title), then the totals."""
    head = "".join(f"  {kind:>{max(len(kind), 5)}}" for kind in KINDS)
    rows = [
        "  ".join([_right(_("module"), 6), _right(_("sections"), 8), _right(_("questions"), 9)])
        + head
        + "  "
        + "  ".join([_right(_("held back"), 9), _("title")])
    ]
    for module in handbook.modules:
        kinds = kind_counts([module])
        cells = "".join(f"  {kinds[kind]:>{max(len(kind), 5)}}" for kind in KINDS)
        held = sum(x.use == "exam" for s in module.sections for x in s.exercises)
        rows.append(
            f"{module.id:>6}  {len(module.sections):>8}  {module.question_count:>9}{cells}  {held:>9}  {module.title}"
        )
    rows.append(_("{source}: {counts}").format(source=handbook.source, counts=counts_line(handbook)))
    return rows


def bank_report(
    handbook: Handbook, modules: Sequence[int] | None = None, *, as_json: bool = False, strict: bool = False
) -> tuple[list[str], bool]:
    """`paperkit bank check`: a line per finding, a table per rule and a closing line (or JSON); and whether
    `--strict` fails."""
    known = [m.id for m in handbook.modules]
    unknown = [m for m in modules or () if m not in known]
    if unknown:
        raise UsageError(
            _("--modules: unknown module {module}; modules are {known}").format(
                module=unknown[0], known=", ".join(map(str, known))
            )
        )
    findings = check_bank(handbook, modules)
    checked = sum(1 for e in entries(handbook) if modules is None or e.module.id in modules)
    if as_json:
        return [json.dumps(bank_json(findings, checked), ensure_ascii=False, indent=2)], strict and bool(findings)
    lines = [str(f) for f in findings]
    rows = summary(findings)
    width = max(len(row[0]) for row in rows)
    lines += ["", "  ".join([_left(_("rule"), width), _right(_("findings"), 8), _("what it checks")])]
    lines += [f"{rule:<{width}}  {count:>8}  {text}" for rule, count, text in rows]
    verdict = _("strict: failed") if strict and findings else _("OK") if not findings else _("warnings only")
    lines.append(
        ngettext(
            "{source}: {count} finding in {checked} items — {verdict}",
            "{source}: {count} findings in {checked} items — {verdict}",
            len(findings),
        ).format(source=handbook.source, count=len(findings), checked=checked, verdict=verdict)
    )
    return lines, strict and bool(findings)
