"""Check a loaded handbook beyond its shape: ids, markup, TeX and glyph coverage, as located problems."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Sequence

from paperkit.content.models import Example, Exercise, Handbook, Origin, Section
from paperkit.errors import Problem
from paperkit.i18n import _
from paperkit.text.fonts import covered_characters, in_subset_blocks
from paperkit.text.markup import inline_problems, math_spans, visible_text
from paperkit.text.math import draw_ahead

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def iter_texts(handbook: Handbook) -> Iterator[tuple[Origin, str, str]]:
    """Every text field of the handbook as (origin of its owner, field name, text)."""
    for name in ("title", "subtitle", "author", "coverage", "usage", "checklist_title", "checklist_note"):
        yield handbook.origin, name, getattr(handbook, name)
    for module in handbook.modules:
        for name in ("title", "short_title", "objective"):
            yield module.origin, name, getattr(module, name) or ""
        for section in module.sections:
            for name in ("title", "overview"):
                yield section.origin, name, getattr(section, name)
            for name in ("must_know", "tips", "pitfalls"):
                for index, item in enumerate(getattr(section, name)):
                    yield section.origin, f"{name}[{index}]", item
            for example in section.examples:
                yield example.origin, "q", example.q
                yield example.origin, "a", example.a
                for index, point in enumerate(example.rubric):
                    yield example.origin, f"rubric[{index}]", point.point
            for item in section.exercises:
                if item.group is not None and item.sub == 1:  # a 组合题's shared stem, once
                    yield item.group.origin, "q", item.group.q
                for name in ("q", "why", "a", "material"):
                    yield item.origin, name, getattr(item, name)
                for index, option in enumerate(item.options):
                    yield item.origin, f"options[{index}]", option
                for index, point in enumerate(item.rubric):
                    yield item.origin, f"rubric[{index}]", point.point


def located(origin: Origin, name: str, message: str) -> Problem:
    """A problem of one field of a value, at the field's file, line, column and path."""
    return Problem(origin.file, origin.line_of(name), origin.field_path(name), message, origin.column_of(name))


def _items(section: Section) -> tuple[Example | Exercise, ...]:
    """A section's worked examples and exercises, in order."""
    return (*section.examples, *section.exercises)


def check_ids(handbook: Handbook) -> list[Problem]:
    """Module, section and question ids: unique, and each prefixed by its parent's id."""
    problems: list[Problem] = []
    modules: dict[int, str] = {}
    sections: dict[str, str] = {}
    questions: dict[str, str] = {}
    for module in handbook.modules:
        if module.id in modules:
            problems.append(
                located(
                    module.origin,
                    "id",
                    _("{id} is used by {where} too").format(id=module.id, where=modules[module.id]),
                )
            )
        modules.setdefault(module.id, module.origin.file)
        for section in module.sections:
            if not re.fullmatch(rf"{module.id}\.\d+", section.id):
                problems.append(
                    located(
                        section.origin,
                        "id",
                        _("expected '{module}.<number>' (the module id {module}, a dot, a number), got '{id}'").format(
                            module=module.id, id=section.id
                        ),
                    )
                )
            if section.id in sections:
                problems.append(
                    located(
                        section.origin,
                        "id",
                        _("'{id}' is used by {where} too").format(id=section.id, where=sections[section.id]),
                    )
                )
            sections.setdefault(section.id, f"{section.origin.file}:{section.origin.line_of('id')}")
            for example in _items(section):
                if not example.id.startswith(f"{section.id}.") or not _QUESTION_ID.match(example.id):
                    problems.append(
                        located(
                            example.origin,
                            "id",
                            _("expected '{section}.<name>' (e.g. '{section}.q1'), got '{id}'").format(
                                section=section.id, id=example.id
                            ),
                        )
                    )
                if example.id in questions:
                    problems.append(
                        located(
                            example.origin,
                            "id",
                            _("'{id}' is used by {where} too").format(id=example.id, where=questions[example.id]),
                        )
                    )
                questions.setdefault(example.id, f"{example.origin.file}:{example.origin.line_of('id')}")
    return problems


def check_front_matter(handbook: Handbook) -> list[Problem]:
    """The date is YYYY-MM-DD and the language a language tag."""
    problems = []
    if not _DATE.match(handbook.date):
        problems.append(
            located(
                handbook.origin, "date", _("expected a date like 2026-01-18, got '{value}'").format(value=handbook.date)
            )
        )
    if not _LANGUAGE.match(handbook.language):
        problems.append(
            located(
                handbook.origin,
                "language",
                _("expected a language tag like zh-CN, got '{value}'").format(value=handbook.language),
            )
        )
    return problems


_POINT = re.compile(r"^(?:(?P<section>\d+\.\d+)/)?(?P<list>k|tip|pit)(?P<number>[1-9]\d*)$")
_POINT_LISTS = {"k": "must_know", "tip": "tips", "pit": "pitfalls"}


def knowledge_point(reference: str, section_id: str) -> tuple[str, str, int] | None:
    """A `tests` reference (`k2`, `tip1`, `pit1`, `2.1/k2`) as (section id, list field, 1-based number), or None."""
    match = _POINT.match(reference.strip())
    if match is None:
        return None
    return match["section"] or section_id, _POINT_LISTS[match["list"]], int(match["number"])


def check_points(handbook: Handbook) -> list[Problem]:
    """Each item's `tests`: references to entries that exist (k = 你需要掌握, tip = 工程提示, pit = 常见误区)."""
    sections = {s.id: s for s in handbook.sections}
    problems: list[Problem] = []
    for section in handbook.sections:
        for item in _items(section):
            for index, reference in enumerate(item.tests):
                point = knowledge_point(reference, section.id)
                if point is None:
                    problems.append(
                        located(
                            item.origin,
                            f"tests[{index}]",
                            _(
                                "expected k<n> (你需要掌握 n), tip<n> (工程提示 n) or pit<n> (常见误区 n), "
                                "optionally after a section id (2.1/k2), got '{reference}'"
                            ).format(reference=reference),
                        )
                    )
                    continue
                where, name, number = point
                target = sections.get(where)
                if target is None:
                    problems.append(
                        located(
                            item.origin,
                            f"tests[{index}]",
                            _("no section '{section}' in the handbook").format(section=where),
                        )
                    )
                elif number > len(getattr(target, name)):
                    problems.append(
                        located(
                            item.origin,
                            f"tests[{index}]",
                            _("'{reference}': section {section} has {count} {field} entries").format(
                                reference=reference, section=where, count=len(getattr(target, name)), field=name
                            ),
                        )
                    )
    return problems


def check_texts(handbook: Handbook, covered: frozenset[int]) -> list[Problem]:
    """Markup and TeX in every text field, and that the fonts have every character shown."""
    problems: list[Problem] = []
    for origin, name, text in iter_texts(handbook):
        if not text:
            continue
        problems.extend(located(origin, name, message) for message in inline_problems(text))
        missing = sorted({ch for ch in visible_text(text) if ord(ch) not in covered and not ch.isspace()})
        for ch in missing:
            problems.append(located(origin, name, _missing_glyph(ch)))
    return problems


# TeX for symbols Noto CJK SC does not have: written as math, the math font draws them.
_TEX_FOR = {
    "∼": "\\sim",
    "≪": "\\ll",
    "≫": "\\gg",
    "∇": "\\nabla",
    "∂": "\\partial",
    "ℝ": "\\mathbb{R}",
    "⊙": "\\odot",
    "⊗": "\\otimes",
    "⊕": "\\oplus",
    "∝": "\\propto",
    "≜": "\\triangleq",
    "↦": "\\mapsto",
    "⟨": "\\langle",
    "⟩": "\\rangle",
    "≃": "\\simeq",
    "≅": "\\cong",
    "⊤": "\\top",
    "⊥": "\\perp",
}


def _missing_glyph(ch: str) -> str:
    """What to do about a character the shipped fonts lack: rebuild the fonts, or write it another way."""
    name = unicodedata.name(ch, _("unnamed")).lower()
    if not in_subset_blocks(ch):
        return _(
            "character '{char}' (U+{code:04X}, {name}) is not in the shipped fonts; add it with scripts/build_fonts.py"
        ).format(char=ch, code=ord(ch), name=name)
    tex = _TEX_FOR.get(ch)
    if tex:
        return _(
            "character '{char}' (U+{code:04X}, {name}) is not in the shipped fonts, nor in Noto CJK SC "
            "(rebuilding the fonts cannot add it); write it as math, ${tex}$"
        ).format(char=ch, code=ord(ch), name=name, tex=tex)
    return _(
        "character '{char}' (U+{code:04X}, {name}) is not in the shipped fonts, nor in Noto CJK SC "
        "(rebuilding the fonts cannot add it); write it as TeX inside $…$ or use another character"
    ).format(char=ch, code=ord(ch), name=name)


def check_printed(texts: Sequence[tuple[str, int, str, str]], covered: frozenset[int]) -> list[Problem]:
    """Texts printed as they are (roster names, --title, --course): every character must be in the shipped fonts.

    Each of `texts` is (file, line, field, text); a missing character is one problem naming it and its code point,
    so nothing is ever drawn by whatever font a machine happens to have, or as a tofu box.
    """
    problems: list[Problem] = []
    for file, line, name, text in texts:
        for ch in sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()}, key=text.index):
            problems.append(Problem(file, line, name, _missing_printed(ch)))
    return problems


def _missing_printed(ch: str) -> str:
    name = unicodedata.name(ch, _("unnamed")).lower()
    if in_subset_blocks(ch) or "CJK" in unicodedata.name(ch, ""):
        return _(
            "character '{char}' (U+{code:04X}, {name}) is not in the shipped fonts; "
            "add it with scripts/build_fonts.py --extra-chars '{char}' (then run paperkit again)"
        ).format(char=ch, code=ord(ch), name=name)
    return _("character '{char}' (U+{code:04X}, {name}) is not in the shipped fonts; write it another way").format(
        char=ch, code=ord(ch), name=name
    )


def validate_handbook(handbook: Handbook) -> list[Problem]:
    """Every problem of a loaded handbook, in file and line order."""
    # Validation draws every formula once (that is how it knows the TeX draws): new ones on every core first.
    draw_ahead((tex for _, _, text in iter_texts(handbook) for tex in math_spans(text)), min(os.cpu_count() or 1, 4))
    problems = check_front_matter(handbook) + check_ids(handbook) + check_points(handbook)
    problems += check_texts(handbook, covered_characters())
    return sorted(problems)
