"""Handbook models to template contexts: the handbook (with its answer mode) and the one-page checklist."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from paperkit.content.models import Example, Handbook, Module, Section
from paperkit.handbook.options import HandbookOptions, check_answers
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.bank import ExamQuestion, Question, group_leads, material_leads, printed_numbers
from paperkit.questions.kind import Layout
from paperkit.questions.registry import kind_of, part_kinds
from paperkit.render.assemble import PART_LINK
from paperkit.render.page import PT_PER_MM, PageGeometry
from paperkit.source import select_modules
from paperkit.text.markup import plain_text

GENERATOR = "paperkit"

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def outline_text(text: str) -> str:
    """A content text as a PDF bookmark or title: markup removed, simple powers as superscripts (S^2 → S²)."""
    text = plain_text(text)
    text = re.sub(r"\^\{?([0-9]+)\}?", lambda m: m.group(1).translate(_SUPERSCRIPTS), text)
    return re.sub(r"\s+", " ", text).strip()


# A link from one part of a handbook laid out in parts to an anchor in another: WeasyPrint drops an internal
# link whose target is not in its document, so it is written as this URL and turned back into one when the
# parts are joined (assemble.join_parts).


@dataclass(frozen=True)
class Refs:
    """Where the handbook's links and page references point: all within the document, which counts its pages
    (the default); or, for a part laid out on its own, within it or to anchors of other parts, every page
    number given (a part's own page counter is not the handbook's)."""

    here: frozenset[str] | None = None  # the anchors of this part; None: every anchor is here
    pages: Mapping[str, int] = field(default_factory=dict)  # anchor → its page number in the handbook

    def elsewhere(self, target: str) -> bool:
        """Whether `target` is in another part."""
        return self.here is not None and target not in self.here

    def href(self, target: str) -> str:
        """The link to `target`: #target, or a part link."""
        return f"{PART_LINK}{target}" if self.elsewhere(target) else f"#{target}"

    def page(self, target: str) -> str:
        """The page number to print for `target` in a part ('' in the whole document: the engine counts it)."""
        return "" if self.here is None else str(self.pages.get(target, 0))


def anchor(kind: str, ident: str | int) -> str:
    """An HTML id for a module (m), section (s), question (q) or answer (a); content ids are already unique."""
    return f"{kind}-{ident}"


def _example(example: Example, number: int) -> dict[str, Any]:
    return {
        "label": f"{number}",
        "q": example.q,
        "a": example.a,
        "q_anchor": anchor("q", example.id),
        "a_anchor": anchor("a", example.id),
    }


def _section(section: Section) -> dict[str, Any]:
    return {
        "id": section.id,
        "anchor": anchor("s", section.id),
        "title": section.title,
        "bookmark": f"{section.id} {outline_text(section.title)}",
        "overview": section.overview,
        "must_know": section.must_know,
        "tips": section.tips,
        "pitfalls": section.pitfalls,
        "examples": [_example(e, n) for n, e in enumerate(section.examples, start=1)],
    }


def _module(module: Module) -> dict[str, Any]:
    return {
        "id": module.id,
        "anchor": anchor("m", module.id),
        "title": module.title,
        "label": module.label,
        "bookmark": f"{module.id} {outline_text(module.title)}",
        "running": f"{module.id}　{outline_text(module.title)}",
        "objective": module.objective,
        "sections": [_section(s) for s in module.sections],
    }


# A contents page never holds fewer entries than this: the last ones are kept together.
TOC_TAIL = 5


def toc_blocks(modules: list[dict[str, Any]], appendix: str | None, sections: bool) -> list[list[dict[str, Any]]]:
    """The contents as unbreakable blocks of entries: a module with its first section, then one section each.

    The last blocks are merged until the final one has TOC_TAIL entries, so a page break can never
    leave a page holding only the last entry or two.
    """
    blocks: list[list[dict[str, Any]]] = []
    for module in modules:
        head = {"kind": "module", "href": module["anchor"], "num": module["id"], "title": module["title"]}
        entries = [
            {"kind": "section", "href": s["anchor"], "num": s["id"], "title": s["title"]} for s in module["sections"]
        ]
        if not sections:
            blocks.append([head])
            continue
        blocks.append([head, *entries[:1]])
        blocks.extend([entry] for entry in entries[1:])
    if appendix is not None:
        blocks.append([{"kind": "module", "href": "appendix", "num": label("appendix_mark"), "title": appendix}])
    while len(blocks) > 1 and len(blocks[-1]) < TOC_TAIL:
        last = blocks.pop()
        blocks[-1] = blocks[-1] + last
    return blocks


def pairs(items: list[Any]) -> list[list[Any]]:
    """Items two to a row (the front-matter checklist table has two modules per row, as in the original)."""
    return [items[i : i + 2] for i in range(0, len(items), 2)]


def _exercises(module: Module, view: str, layout: Layout) -> list[dict[str, Any]]:
    """A module's exercises by kind, as on a paper: each kind's heading (单项选择题, 多项选择题…) and its questions
    as the kind sets them (paper_view or key_view), numbered 1… through the module. `compact` says the kind's
    answers are a 题号 | 答案 row (the answers appendix then prints no stems or options for them)."""
    groups, number, position = [], 0, 0
    bank = [Question(x.id, module.id, s.id, s.title, x) for s in module.sections for x in s.practice]
    for name in part_kinds():
        items = [q for q in bank if q.part_kind == name]
        if not items:
            continue
        kind = kind_of(name)
        shown = printed_numbers(items)  # a 组合题 is one number, its sub-questions (1)(2)… under it
        placed = [
            ExamQuestion(position + n, 0, q, printed=number + printed, sub=sub)
            for n, (q, (printed, sub)) in enumerate(zip(items, shown, strict=True), start=1)
        ]
        number += shown[-1][0]
        position += len(items)
        leads = material_leads(placed) if view == "paper_view" else {}
        heads = group_leads(placed)
        questions = [
            {"why": "", **getattr(kind_of(q.question.kind), view)(q, layout), **leads.get(i, {}), **heads.get(i, {})}
            for i, q in enumerate(placed)
        ]
        groups.append({"heading": kind.part_name, "compact": kind.compact_key, "kind": name, "questions": questions})
    return groups


def exercises_document(handbook: Handbook, answers: str, chars_per_line: int) -> dict[str, Any]:
    """The handbook's 练习 as one document (`--exercises end --docx`): each module's exercises by kind as the PDF
    numbers them, then (unless answers are left out) their answers; plain data for the Word writer."""
    layout = Layout(chars_per_line)
    practised = [m for m in handbook.modules if any(s.practice for s in m.sections)]
    title = f"{handbook.title}\u3000{label('exercises')}"
    return {
        "title": title,
        "modules": [
            {"heading": label("module_heading", id=m.id, title=m.title), "groups": _exercises(m, "paper_view", layout)}
            for m in practised
        ],
        "answers_title": label("exercise_answers") if answers != "none" else "",
        "answers": [
            {"heading": label("module_heading", id=m.id, title=m.title), "groups": _exercises(m, "key_view", layout)}
            for m in practised
        ]
        if answers != "none"
        else [],
    }


def handbook_context(
    handbook: Handbook,
    answers: str = "inline",
    exercises: bool = False,
    chars_per_line: int = 40,
    proof: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Everything the handbook template shows, numbered and anchored; `answers` is inline, end or none.

    With `exercises`, each module ends with its 练习 and (unless answers are left out) an appendix gives their answers.
    """
    check_answers(answers)
    layout = Layout(chars_per_line)
    modules = [_module(m) for m in handbook.modules]
    for module, values in zip(handbook.modules, modules, strict=True):
        values["exercises"] = _exercises(module, "paper_view", layout) if exercises else []
        values["exercises_anchor"] = anchor("x", module.id)
    exercise_answers = [
        {"id": m.id, "title": m.title, "answers": _exercises(m, "key_view", layout)}
        for m in handbook.modules
        if exercises and answers != "none" and any(s.practice for s in m.sections)
    ]
    appendix = [s for m in modules for s in m["sections"] if s["examples"]] if answers == "end" else []
    return {
        "title": handbook.title,
        "title_plain": outline_text(handbook.title),
        "subtitle": handbook.subtitle,
        "author": handbook.author,
        "generator": GENERATOR,
        "lang": handbook.language,
        "date": handbook.date,
        "coverage": handbook.coverage,
        "usage": handbook.usage,
        "checklist_title": handbook.checklist_title,
        "checklist_note": handbook.checklist_note,
        # What the checklist prints of a module, and no more: a part's cache key holds it (parts.part_key).
        "checklist_rows": pairs([{"id": m["id"], "label": m["label"]} for m in modules]),
        "toc_overview": toc_blocks(modules, label("answers_appendix") if appendix else None, sections=False),
        "toc_detail": toc_blocks(modules, label("answers_appendix") if appendix else None, sections=True),
        "modules": modules,
        "answers": answers,
        "appendix": appendix,
        "exercise_answers": exercise_answers,
        "edition": label("proof_edition", modules="、".join(map(str, proof))) if proof else _edition(answers),
        "contents_line": label(f"contents_{answers}"),
        "examples_title": label("part_examples") if answers == "inline" else label("examples_no_answers"),
        # The whole handbook in one document; a part laid out on its own replaces these (parts.part_context).
        "front": True,
        "refs": Refs(),
        "numbers_later": False,
    }


def _edition(answers: str) -> str:
    """The cover's edition line: the student edition, or where the answers are ('' with answers inline)."""
    if answers == "none":
        return label("student_edition")
    if answers == "end":
        return label("answers_at_end", title=label("answers_appendix"))
    return ""


@dataclass(frozen=True)
class ChecklistLayout:
    """One way to set the checklist: columns, type size relative to the body, and how sections flow."""

    columns: int
    scale: float
    inline_sections: bool

    @property
    def name(self) -> str:
        """How the layout is named in messages."""
        if self.inline_sections:
            return _("{columns} columns, {scale:.0%} type, sections run on").format(
                columns=self.columns, scale=self.scale
            )
        return _("{columns} columns, {scale:.0%} type, one section a line").format(
            columns=self.columns, scale=self.scale
        )

    @property
    def date_below(self) -> bool:
        """In three or more columns the date line goes under the module's name, which keeps its width."""
        return self.columns >= 3

    @property
    def capacity(self) -> float:
        """Roughly how much content the layout holds, relative to the first (to skip hopeless ones)."""
        run_on = 1.8 if self.inline_sections else 1.0
        return self.columns * run_on / (self.scale * self.scale)


# Room for a pen, on every paper and in every layout: no tick box, type or date line is ever smaller.
MIN_BOX_MM = 3.5
MIN_TEXT_PT = 7.5
MIN_DATE_MM = 26.0


@dataclass(frozen=True)
class ChecklistSizes:
    """The checklist's printed sizes in one layout on one paper, the minimums for a pen applied."""

    module_pt: float
    section_pt: float
    box_mm: float
    module_box_mm: float
    date_mm: float
    section_line_pt: float


def checklist_sizes(layout: ChecklistLayout, page: PageGeometry) -> ChecklistSizes:
    """The type, box and date-line sizes of a layout: its scale of the body size, never below the minimums."""
    module_pt = max(MIN_TEXT_PT, page.body_pt * layout.scale)
    section_pt = max(MIN_TEXT_PT, module_pt * 0.85)
    box_mm = max(MIN_BOX_MM, section_pt * 0.9 / PT_PER_MM)
    return ChecklistSizes(
        module_pt=round(module_pt, 2),
        section_pt=round(section_pt, 2),
        box_mm=round(box_mm, 2),
        module_box_mm=round(max(box_mm + 0.6, module_pt / PT_PER_MM), 2),
        date_mm=round(max(MIN_DATE_MM, 5 * module_pt / PT_PER_MM), 1),
        # A box and a little air above and below it: ticks in neighbouring rows must not touch.
        section_line_pt=round(max(section_pt * 1.4, (box_mm + 0.7) * PT_PER_MM), 2),
    )


# Tried in order until the checklist fits on one page: the largest type and fewest columns first.
CHECKLIST_LAYOUTS = (
    ChecklistLayout(2, 1.0, False),
    ChecklistLayout(2, 0.85, False),
    ChecklistLayout(3, 0.8, False),
    ChecklistLayout(2, 0.85, True),
    ChecklistLayout(3, 0.72, True),
)


def _em_width(text: str) -> float:
    """A text's rough width in em: Chinese characters are square, Latin about half as wide."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in outline_text(text))


def _checklist_geometry(layout: ChecklistLayout, page: PageGeometry) -> tuple[float, float]:
    """The usable column height and column width in pt (mirrors templates/checklist.css.j2)."""
    size = checklist_sizes(layout, page).module_pt
    height = page.height_mm * 0.91 * PT_PER_MM - 9 * size
    gap = 1.6 * size
    column = (page.width_mm * 0.88 * PT_PER_MM - (layout.columns - 1) * gap) / layout.columns
    return height, column


def _module_height(module: Module, layout: ChecklistLayout, page: PageGeometry) -> float:
    """A module's rough height in pt in a layout: its title line(s) and its sections."""
    sizes = checklist_sizes(layout, page)
    size, small, pitch = sizes.module_pt, sizes.section_pt, sizes.section_line_pt
    _, column = _checklist_geometry(layout, page)
    date = 0.0 if layout.date_below else sizes.date_mm * PT_PER_MM
    name_room = column - sizes.module_box_mm * PT_PER_MM - date - 1.2 * size
    used = 1.9 * size * math.ceil((_em_width(module.label) + 1.5) * size / max(name_room, size))
    if layout.date_below:
        used += 1.6 * size
    box = sizes.box_mm * PT_PER_MM + 0.35 * small
    room = column - sizes.module_box_mm * PT_PER_MM
    if layout.inline_sections:
        run = sum(_em_width(f"{s.id} {s.title}") * small + box + 0.8 * small for s in module.sections)
        return used + pitch * math.ceil(run / room)
    for section in module.sections:
        used += pitch * math.ceil((_em_width(f"{section.id} {section.title}") * small + box) / (room - box))
    return used


def split_columns(heights: list[float], columns: int) -> list[int]:
    """How many consecutive items each column takes so that the tallest column is as short as can be."""
    count = len(heights)
    prefix = [0.0]
    for height in heights:
        prefix.append(prefix[-1] + height)
    # best[k][i]: the smallest possible tallest column when the first i items fill k columns.
    best = [[math.inf] * (count + 1) for _ in range(columns + 1)]
    cut = [[0] * (count + 1) for _ in range(columns + 1)]
    best[0][0] = 0.0
    for k in range(1, columns + 1):
        for i in range(count + 1):
            for j in range(i + 1):
                tallest = max(best[k - 1][j], prefix[i] - prefix[j])
                if tallest < best[k][i]:
                    best[k][i], cut[k][i] = tallest, j
    sizes, end = [], count
    for k in range(columns, 0, -1):
        sizes.append(end - cut[k][end])
        end = cut[k][end]
    return sizes[::-1]


def _columns(
    handbook: Handbook, layout: ChecklistLayout, page: PageGeometry, heights: list[float] | None = None
) -> list[list[Module]]:
    """The modules split into the layout's columns, in reading order, balanced by (estimated) height."""
    if heights is None:
        heights = [_module_height(m, layout, page) for m in handbook.modules]
    groups, start = [], 0
    for size in split_columns(heights, layout.columns):
        groups.append(list(handbook.modules[start : start + size]))
        start += size
    return groups


def estimate_checklist_pages(handbook: Handbook, layout: ChecklistLayout, page: PageGeometry) -> float:
    """Roughly how many pages the checklist takes in a layout, to skip hopeless layouts without rendering."""
    # Only the order of magnitude matters: rendering has the last word.
    height, _ = _checklist_geometry(layout, page)
    tallest = max(sum(_module_height(m, layout, page) for m in column) for column in _columns(handbook, layout, page))
    return tallest * 1.05 / height


def checklist_context(
    handbook: Handbook, layout: ChecklistLayout, page: PageGeometry, heights: list[float] | None = None
) -> dict[str, Any]:
    """Everything the checklist template shows for one candidate layout (columns balanced by `heights` if given)."""
    return {
        "title": handbook.checklist_title,
        "title_plain": outline_text(f"{handbook.title} · {handbook.checklist_title}"),
        "handbook_title": handbook.title,
        "author": handbook.author,
        "date": handbook.date,  # the PDF's creation date, as the handbook's: one rule for every document
        "generator": GENERATOR,
        "lang": handbook.language,
        "note": handbook.checklist_note,
        "usage": handbook.usage,
        # Columns are balanced here, not by CSS multi-column layout, which lays the content out
        # again and again to balance it (it was half of the checklist's time).
        "columns": [[_module(m) for m in column] for column in _columns(handbook, layout, page, heights)],
        "layout": layout,
        "sizes": checklist_sizes(layout, page),
    }


@dataclass(frozen=True)
class HandbookDocument:
    """What a handbook renders from: its template, its stylesheets and the context (one place decides them)."""

    template: str
    stylesheets: tuple[str, ...]
    context: dict[str, Any]


def handbook_document(handbook: Handbook, options: HandbookOptions) -> HandbookDocument:
    """The handbook (or a proof of `options.modules`) as the build, the parts and the preview render it."""
    if options.modules is not None:
        handbook = replace(handbook, modules=select_modules(handbook, options.modules))
    context = handbook_context(
        handbook, options.answers, options.exercises, options.page.chars_per_line, proof=options.modules
    )
    # The 练习 are set as on a paper: they need the kinds' styles.
    css = ("handbook.css.j2", "kinds.css.j2") if options.exercises else ("handbook.css.j2",)
    return HandbookDocument("handbook.html.j2", css, context)
