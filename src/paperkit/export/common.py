"""What every export format shares: the bank in handbook order, content text as platform HTML, typed answers,
Moodle-style grades per option and category paths (pure)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from html import escape
from types import MappingProxyType

from paperkit.content.models import Handbook, Module
from paperkit.labels import label
from paperkit.questions.bank import Question, question_bank
from paperkit.questions.kind import Interaction, Item
from paperkit.questions.registry import kind_of
from paperkit.questions.rules import DEFAULT_RULES, Rules
from paperkit.text.figures import KEPT, figure_image
from paperkit.text.markup import (  # the same parse as the PDF: a formula there is a formula here
    inline_tokens,
    plain_text,
)
from paperkit.text.tables import Table, split_tables


@dataclass(frozen=True)
class ExportOptions:
    """Which items go out (a pool: practice, exam or all) and the 多选 rule their grades follow."""

    pool: str = "practice"
    rules: Rules = DEFAULT_RULES


DEFAULT_EXPORT = ExportOptions()


def sections(
    handbook: Handbook, modules: Sequence[Module], pool: str = "practice"
) -> Iterator[tuple[Module, int, list[Question]]]:
    """Each chosen module's sections as (module, section index, its items of `pool` in source order): the items
    students may see (practice), those held back for exams (exam), or all. A 组合题 goes out as its
    sub-questions, each a question of its own that opens with the group's stem (no format here has groups)."""
    bank = question_bank(handbook, exercises=True)
    for module in modules:
        for index, section in enumerate(module.sections):
            yield (
                module,
                index,
                [standalone(q) for q in bank[module.id] if q.section_id == section.id and in_pool(q, pool)],
            )


def standalone(question: Question) -> Question:
    """A 组合题's sub-question as a question of its own: the group's stem, then 「（2）」 and its own stem."""
    group = question.item.group
    if group is None:
        return question
    stem = f"{group.q}\n\n{label('sub_head', sub=question.item.sub)}{question.item.q}"
    return replace(question, item=replace(question.item, q=stem))


def in_pool(question: Question, pool: str) -> bool:
    """Whether an item is in a pool: practice (the handbook's), exam (held back) or all."""
    return pool == "all" or (question.item.use == "exam") == (pool == "exam")


def interaction(item: Item) -> Interaction:
    """The item as its kind hands it to a platform."""
    return kind_of(item.kind).interaction(item)


_LINE_BREAKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def inline_html(text: str) -> str:
    """A content text as HTML for a platform: **bold**, `code`, line breaks; $TeX$ as \\(TeX\\), a figure as an
    image carrying its bytes (a data: URL), a pipe table as a <table>; all else escaped."""
    pieces = split_tables(text)
    if len(pieces) > 1 or not isinstance(pieces[0], str):
        return "".join(_table_html(piece) if isinstance(piece, Table) else inline_html(piece) for piece in pieces)
    if "![" in text and KEPT.search(text):
        html, start = [], 0
        for match in KEPT.finditer(text):
            html += [_tokens_html(text[start : match.start()]), _figure_html(match)]
            start = match.end()
        return "".join([*html, _tokens_html(text[start:])])
    return _tokens_html(text)


def _figure_html(match: re.Match[str]) -> str:
    image = figure_image(match["src"]) or b""
    mime = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg"}[match["src"].rsplit(".", 1)[1]]
    data = base64.b64encode(image).decode("ascii")
    return f'<img src="data:{mime};base64,{data}" alt="{escape(match["caption"])}" />'


def _table_html(table: Table) -> str:
    def row(cells: tuple[str, ...], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag}>{inline_html(cell)}</{tag}>" for cell in cells) + "</tr>"

    return f"<table>{row(table.header, 'th')}{''.join(row(cells, 'td') for cells in table.rows)}</table>"


def _tokens_html(text: str) -> str:
    out: list[str] = []
    for token in inline_tokens(text):
        kind = token.type
        if kind in ("text", "text_special"):
            # A `|` block keeps its line breaks, as in the PDF: a blank line stays a blank line.
            out.append(
                _LINE_BREAKS.sub(
                    lambda m: "<br /><br />" if m.group(0).count("\n") > 1 else "<br />",
                    escape(token.content, quote=False),
                )
            )
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "code_inline":
            out.append(f"<code>{escape(token.content, quote=False)}</code>")
        elif kind == "math_inline":
            out.append(f"\\({escape(token.content.strip(), quote=False)}\\)")
        elif kind in ("strong_open", "strong_close") and token.markup == "**":
            out.append("<strong>" if kind == "strong_open" else "</strong>")
        else:
            out.append(escape(token.markup or token.content, quote=False))
    return "".join(out)


def paragraph(text: str) -> str:
    """A content text as one HTML paragraph."""
    return f"<p>{inline_html(text)}</p>"


def typed_answers(alternatives: Iterable[str]) -> list[str]:
    """A blank's accepted answers as a student types them (formulas as plain text), without repeats.

    `[[$O(S^2)$|O(S^2)|二次]]` accepts `O(S^2)` and `二次`: a platform compares typed text, never TeX.
    """
    seen: set[str] = set()
    typed: list[str] = []
    for answer in alternatives:
        text = plain_text(answer).strip()
        if text and text.casefold() not in seen:  # every platform here compares case-insensitively
            seen.add(text.casefold())
            typed.append(text)
    return typed


def moodle_answer(typed: str) -> str:
    """A typed answer for a Moodle short answer: a bare * there is a wildcard; the bank means a star."""
    return typed.replace("*", "\\*")


# Moodle accepts only grades from its list (question_bank::fraction_options_full); 100/k for k = 1–8 is in it,
# and options are 2–8 with at least one right and one wrong.
_MOODLE_SHARE = MappingProxyType(
    {1: "100", 2: "50", 3: "33.33333", 4: "25", 5: "20", 6: "16.66667", 7: "14.28571", 8: "12.5"}
)


def option_fractions(shape: Interaction, rules: Rules = DEFAULT_RULES) -> list[str]:
    """Each option's Moodle grade in percent: single choice 100 or 0. Multiple: the right ones share +100; under
    the per-option rule each wrong one is −100 (any wrong option scores 0, as the paper's rule says), else the
    wrong ones share −100, so ticking everything scores 0 (the paper's half rule is not a Moodle rule)."""
    keyed = set(shape.correct)
    if not shape.multiple:
        return ["100" if i in keyed else "0" for i in range(len(shape.options))]
    right = _MOODLE_SHARE[len(keyed)]
    wrong = "100" if rules.multi == "per-option" else _MOODLE_SHARE[len(shape.options) - len(keyed)]
    return [right if i in keyed else f"-{wrong}" for i in range(len(shape.options))]


def item_points(item: Item) -> int | None:
    """The item's own points, or its rubric's sum; None when the source sets neither."""
    return item.points or sum(p.points for p in item.rubric) or None


def answer_html(shape: Interaction) -> str:
    """An essay's reference answer and scoring points, as HTML for the grader."""
    parts = [f"<p>{label('reference_answer')}{inline_html(shape.reference)}</p>"]
    if shape.rubric:
        points = "".join(f"<li>{inline_html(p.point)}{label('points', points=p.points)}</li>" for p in shape.rubric)
        parts.append(f"<p>{label('rubric')}</p><ul>{points}</ul>")
    return "".join(parts)


def blank_answers(shape: Interaction) -> list[tuple[str, ...]]:
    """Each blank's accepted answers, in order."""
    return [answers for text, answers in shape.segments if not text]


def blanks_html(shape: Interaction) -> str:
    """Every blank's answer and its accepted alternatives, as HTML (for a key a platform cannot grade)."""
    rows = []
    for number, answers in enumerate(blank_answers(shape), start=1):
        accepted = label("accepted", alternatives="；".join(inline_html(a) for a in answers[1:]))
        row = f"{label('blank_number', number=number)}：{inline_html(answers[0])}"
        rows.append(f"<p>{row}{accepted if answers[1:] else ''}</p>")
    return "".join(rows)


def _category_name(text: str) -> str:
    # Moodle's category paths: a / inside a name is written //, and a name may not start or end with one.
    name = " ".join(plain_text(text).split()).replace("/", "//")
    return f" {name}" if name.startswith("/") else f"{name} " if name.endswith("/") else name


def category_path(handbook: Handbook, module: Module, section_index: int | None = None) -> str:
    """`$course$/top/<handbook>/<module id> <title>[/<section id> <title>]`, Moodle's category path."""
    names = [handbook.title, f"{module.id} {module.title}"]
    if section_index is not None:
        section = module.sections[section_index]
        names.append(f"{section.id} {section.title}")
    return "/".join(["$course$", "top", *map(_category_name, names)])
