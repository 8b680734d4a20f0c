"""GIFT, Moodle's text format: a $CATEGORY line per module and section, then each item in the form of its shape."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from paperkit.content.models import Handbook, Module
from paperkit.export.common import (
    DEFAULT_EXPORT,
    ExportOptions,
    answer_html,
    blank_answers,
    blanks_html,
    category_path,
    inline_html,
    interaction,
    moodle_answer,
    option_fractions,
    paragraph,
    sections,
    typed_answers,
)
from paperkit.questions.kind import Interaction, Item
from paperkit.questions.rules import DEFAULT_RULES, Rules
from paperkit.text.markup import plain_text

_SPECIAL = re.compile(r"([\\~=#{}:])")


def escape_gift(text: str) -> str:
    """Text for GIFT: a backslash before \\ ~ = # { } :, and a line break as \\n (a blank line ends a question)."""
    return _SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", "\\n")


# Three more things qformat_gift reads in an answer, none of which has an escape: `%n%` at its start is its credit
# ($giftanswerweightregex), `[html]` (or moodle, plain, markdown) at its start its text format, and an answer
# block holding both an unescaped = and -> is a matching question. The writers steer round them.
_CREDIT = re.compile(r"%-*[0-9]{1,2}\.?[0-9]*%")
_FORMAT = re.compile(r"\[(?:moodle|html|plain|markdown)\]")


def gift_answer(text: str, credit: str | None = None) -> str:
    """An escaped answer as it follows its ~ or =, so Moodle reads back this text: a text that starts like a
    format gets an explicit [html] first; one that starts like a credit gets the answer's own `credit` first
    (None where the mark before it already settles the credit)."""
    if _FORMAT.match(text):
        return f"[html]{text}"  # the first [format] is taken; the rest is text
    if credit is not None and _CREDIT.match(text):
        return f"%{credit}%{text}"  # the first %n% is taken; the rest is text
    return text


def _head(item: Item, html: str) -> str:
    return f"::{escape_gift(item.id)}::[html]{escape_gift(html)}"


def _feedback(html: str) -> str:
    """General feedback: after #### inside the answer block, the last thing before its }."""
    return f"####{escape_gift(html)}" if html else ""


def _options(item: Item, shape: Interaction, rules: Rules) -> str:
    lines = [_head(item, paragraph(shape.stem)) + "{"]
    for option, fraction in zip(shape.options, option_fractions(shape, rules), strict=True):
        # After = or ~%n% the credit is settled; after a bare ~ Moodle still looks for one.
        mark = f"~%{fraction}%" if shape.multiple else "=" if fraction == "100" else "~"
        credit = "0" if mark == "~" else None
        lines.append(f"\t{mark}{gift_answer(escape_gift(inline_html(option)), credit)}")
    return "\n".join([*lines, "}"])


def _statement(item: Item, shape: Interaction, rules: Rules) -> str:
    mark = "T" if shape.truth else "F"
    feedback = _feedback(paragraph(shape.feedback) if shape.feedback else "")
    return _head(item, paragraph(shape.stem)) + f"{{{mark}{feedback}}}"


def _short_answers(typed: list[str]) -> str | None:
    """A blank's answer block, `{=a =b}`; None when GIFT cannot hold it (an answer with -> among several)."""
    answers = [escape_gift(moodle_answer(a)) for a in typed]
    if not any("->" in a for a in answers):
        return "{" + " ".join(f"={gift_answer(a, '100')}" for a in answers) + "}"
    if len(answers) == 1:
        # Without an = the block is no matching question; Moodle reads a lone answer as full credit.
        return "{" + gift_answer(answers[0], "100") + "}"
    return None


def _blanks(item: Item, shape: Interaction, rules: Rules) -> str:
    segments = shape.segments
    found = blank_answers(shape)
    if len(found) == 1:
        # The missing-word form: the answer block stands where the blank is, and Moodle draws _____ there. A
        # blank compared by value is a numerical answer, its range as GIFT writes one ({#low..high}).
        number = shape.ranges[0] if shape.ranges else None
        block = f"{{#{number.low}..{number.high}}}" if number else _short_answers(typed_answers(found[0]))
        if block is not None:
            body = "".join(escape_gift(inline_html(text)) if text else block for text, _ in segments)
            return f"::{escape_gift(item.id)}::[html]<p>{body}</p>"
        why = 'an answer holds "->" beside others, which GIFT reads as a matching question'
        instead = "short answer"
    else:
        why = f"{len(found)} blanks; GIFT grades one blank a question"
        instead = "Cloze"
    # What GIFT cannot grade stays one question (its id, its place) as an essay with its blanks drawn and the key
    # as feedback; Moodle XML exports it as a question that grades every blank.
    numbers = iter(range(1, len(found) + 1))
    drawn = (f"（{next(numbers)}）_____" if len(found) > 1 else "_____" for _ in found)
    html = "<p>" + "".join(inline_html(text) if text else next(drawn) for text, _ in segments) + "</p>"
    note = f"// {item.id}: {why}: an essay here (Moodle XML: {instead})"
    return f"{note}\n{_head(item, html)}{{{_feedback(blanks_html(shape))}}}"


def _essay(item: Item, shape: Interaction, rules: Rules) -> str:
    # GIFT essays have no grader information: the reference answer becomes the general feedback.
    return _head(item, paragraph(shape.stem)) + f"{{{_feedback(answer_html(shape))}}}"


WRITERS: Mapping[str, Callable[[Item, Interaction, Rules], str]] = MappingProxyType(
    {"options": _options, "statement": _statement, "blanks": _blanks, "essay": _essay}
)


def gift_question(item: Item, rules: Rules = DEFAULT_RULES) -> str:
    """One item in GIFT, without the blank line that ends it."""
    shape = interaction(item)
    return WRITERS[shape.shape](item, shape, rules)


def gift_text(handbook: Handbook, modules: Sequence[Module], options: ExportOptions = DEFAULT_EXPORT) -> str:
    """GIFT: a $CATEGORY line per module and per section, then each item; blocks separated by a blank line."""
    blocks = [f"// {' '.join(plain_text(handbook.title).split())} ({handbook.date}): question bank, paperkit export"]
    last_module = None
    for module, index, questions in sections(handbook, modules, options.pool):
        # Category lines are not GIFT-escaped: Moodle reads them raw (a \: would stay in the category's name).
        if module is not last_module:
            blocks.append(f"$CATEGORY: {category_path(handbook, module)}")
            last_module = module
        blocks.append(f"$CATEGORY: {category_path(handbook, module, index)}")
        blocks.extend(gift_question(q.item, options.rules) for q in questions)
    return "\n\n".join(blocks) + "\n"
