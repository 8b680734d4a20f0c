"""选择题 (choice) and 多项选择题 (multi): options lettered A, B, …; the key is one letter, or several."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from paperkit.errors import CellProblem
from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.kind import (
    LETTERS,
    Interaction,
    Item,
    Kind,
    Layout,
    Rules,
    SheetField,
    common_view,
    letters_of,
    normal_text,
    normal_text_formula,
    shown,
    substituted,
    text_width,
)

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

MIN_OPTIONS, MAX_OPTIONS = 2, 8


def _check_options(item: Item, multi: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    options = item.options
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        problems.append(
            (
                "options",
                _("expected {least} to {most} options, got {count}").format(
                    least=MIN_OPTIONS, most=MAX_OPTIONS, count=len(options)
                ),
            )
        )
    seen: dict[str, int] = {}
    for index, option in enumerate(options):
        key = re.sub(r"\s+", "", option)
        if key in seen:
            problems.append(
                (
                    f"options[{index}]",
                    _("the same as option {letter}; options must differ").format(letter=LETTERS[seen[key]]),
                )
            )
        seen.setdefault(key, index)
    valid = LETTERS[: len(options)]
    letters = letters_of(item.answer)
    span = f"{valid[0]}–{valid[-1]}" if valid else _("none")
    if not letters or any(ch not in valid for ch in letters):
        expected = (
            _("expected letters of the options ({span}), got '{answer}'")
            if multi
            else _("expected one letter of the options ({span}), got '{answer}'")
        )
        problems.append(("answer", expected.format(span=span, answer=item.answer)))
    elif len(set(letters)) != len(letters):
        problems.append(("answer", _("'{answer}' names an option twice").format(answer=item.answer)))
    elif not multi and len(letters) != 1:
        problems.append(
            ("answer", _("a choice item has one answer, got '{answer}'; use kind: multi").format(answer=item.answer))
        )
    elif multi and len(letters) < 2:
        problems.append(
            (
                "answer",
                _("a multi item has two or more answers, got '{answer}'; use kind: choice").format(answer=item.answer),
            )
        )
    elif multi and len(letters) == len(options):
        problems.append(("answer", _("every option is keyed correct; a multi item needs at least one wrong option")))
    for index, pin in enumerate(item.pinned):
        if letters_of(pin) not in valid or len(letters_of(pin)) != 1:
            problems.append(
                (
                    f"pinned[{index}]",
                    _("expected one letter of the options ({span}), got '{answer}'").format(span=span, answer=pin),
                )
            )
    return problems


def keyed(item: Item) -> tuple[int, ...]:
    """The indexes of the options the answer letters name, in order."""
    return tuple(sorted(LETTERS.index(ch) for ch in letters_of(item.answer) if ch in LETTERS[: len(item.options)]))


# -- the paper -----------------------------------------------------------------------------------------------


OPTION_INDENT = 1.9  # em: kinds.css.j2's .options margin, under the stem
# em: the letter's box (1.5), the gap after an option (1) and slack for the measurement (text_width is within
# 0.15 em of the laid-out width on the tested papers, but leaves out the quarter-em spaces between Chinese and
# a formula: half an em more)
OPTION_ROOM = 3.0


def option_columns(options: tuple[str, ...], chars_per_line: int) -> int:
    """4, 2 or 1 options a row, as exam papers set them: the most columns the widest option fits."""
    # The options start under the stem (1.9 em in); each takes its letter (1.5 em), a 1 em gap after it and a
    # little slack. Widths are measured from the faces (text_width), as exam-zh measures its boxes: the old
    # estimate (a Latin letter half an em, a text formula three more) was up to 2.7 em off either way.
    widest = max((text_width(o) for o in options), default=0) + OPTION_ROOM
    for columns in (4, 2):
        if (len(options) % columns == 0 or columns == 2) and widest * columns <= chars_per_line - OPTION_INDENT:
            return columns
    return 1


def printed_order(q: ExamQuestion) -> tuple[int, ...]:
    """The original index of each option as printed on this paper (shuffled per variant, or as written)."""
    return q.order or tuple(range(len(q.question.item.options)))


def printed_letters(item: Item, order: tuple[int, ...]) -> str:
    """The key letters as a paper with this option order prints them (`order` () = as written)."""
    order = order or tuple(range(len(item.options)))
    right = set(keyed(item))
    return "".join(LETTERS[position] for position, original in enumerate(order) if original in right)


def printed_answer(q: ExamQuestion) -> str:
    """The key letters as printed on this paper: where the keyed options landed after shuffling."""
    return printed_letters(q.question.item, q.order)


def _paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    options = [item.options[i] for i in printed_order(q)]
    return {
        **common_view(q, CHOICE if item.kind == CHOICE.name else MULTI),
        "options": [{"letter": LETTERS[i], "text": text} for i, text in enumerate(options)],
        "columns": option_columns(item.options, layout.chars_per_line),
    }


def _choice_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    view = _paper(q, layout)
    view.update(answer=printed_answer(q), rule="")
    return view


def _multi_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    view = _paper(q, layout)
    view.update(answer=printed_answer(q), rule=_multi_rule(layout.rules))
    return view


# -- answers and scoring -----------------------------------------------------------------------------------


def _keyed_options(item: Item) -> tuple[str, ...]:
    return tuple(item.options[i] for i in keyed(item))


def _stem_and_options(item: Item) -> tuple[str, ...]:
    return (item.q, *item.options)


def _interaction(item: Item) -> Interaction:
    pinned = tuple(LETTERS.index(letters_of(p)) for p in item.pinned)
    return Interaction("options", item.q, item.options, keyed(item), multiple=item.kind == MULTI.name, pinned=pinned)


def _takes_letters(item: Item) -> bool:
    return True


# Separators a teacher types between letters (、 before ASC: it has a half-width katakana form, not an ASCII one).
_SEPARATORS = (",", "/", ";")


def _normalise(text: str, item: Item, order: tuple[int, ...]) -> str:
    """Typed letters in their canonical form: half-width capitals in order, separators and spaces gone."""
    letters = normal_text(text.replace("、", ""))
    for separator in _SEPARATORS:
        letters = letters.replace(separator, "")
    valid = LETTERS[: len(order or item.options)]
    if not letters or any(ch not in valid for ch in letters) or len(set(letters)) != len(letters):
        raise CellProblem(
            _("{value} is neither points nor option letters ({first}–{last})").format(
                value=shown(text), first=valid[0], last=valid[-1]
            )
        )
    if item.kind == CHOICE.name and len(letters) > 1:
        raise CellProblem(_("{value}: a single-choice question takes one letter").format(value=shown(text)))
    return "".join(sorted(letters))


def _normal_formula(cell: str) -> str:
    return substituted(normal_text_formula(f'SUBSTITUTE({cell},"、","")'), tuple((s, "") for s in _SEPARATORS))


def _judge(answer: str, key: str, points: int, rules: Rules) -> float:
    return option_points(set(answer), set(key), points, len(key) > 1, rules)


def option_points(chosen: set[str], key: set[str], points: int, multi: bool, rules: Rules) -> float:
    """The points for a set of chosen letters against the keyed ones, under the paper's 多选 rule."""
    if chosen == key:
        return float(points)
    if not multi or not chosen or not chosen < key:
        return 0.0
    if rules.multi == "per-option":  # 新高考: each correct option its share, to half points
        return int(2 * points * len(chosen) / len(key)) / 2
    return float(points // 2)  # 部分选对得一半分（向下取整）


def _judge_formula(answer: str, key: str, points: int, rules: Rules, options: int) -> str:
    # Letters are unique (a repeated letter is refused), so with no wrong letter the answer is a subset of the key
    # and its length says how many right ones it has.
    wrong = "+".join(f'ISNUMBER(FIND("{ch}",{answer}))*ISERROR(FIND("{ch}",{key}))' for ch in LETTERS[:options])
    partial = f"INT(2*{points}*LEN({answer})/LEN({key}))/2" if rules.multi == "per-option" else str(points // 2)
    partial = f"IF(LEN({key})>1,{partial},0)"
    # A character that is not an option letter (「Z」, a letter twice) is refused by paperkit; here it earns nothing,
    # never the half marks its length would suggest.
    found = "+".join(f'ISNUMBER(FIND("{ch}",{answer}))' for ch in LETTERS[:options])
    return f"IF(OR({wrong}>0,{found}<>LEN({answer})),0,IF(LEN({answer})=LEN({key}),{points},{partial}))"


def _sheet_field(item: Item, order: tuple[int, ...], points: int) -> SheetField:
    letters = tuple((letter, letter) for letter in LETTERS[: len(item.options)])
    return SheetField(bubbles=letters, single=item.kind == CHOICE.name)


def _printed_key(item: Item, order: tuple[int, ...]) -> str:
    return printed_letters(item, order)


def _multi_rule(rules: Rules) -> str:
    return label("multi_rule_per_option") if rules.multi == "per-option" else label("multi_rule")


OPTION_FIELDS = ("options", "answer", "pinned", "points", "difficulty", "follows")

CHOICE = Kind(
    "choice",
    required=("options", "answer"),
    allowed=OPTION_FIELDS,
    check=lambda item: _check_options(item, multi=False),
    paper_view=_paper,
    key_view=_choice_key,
    answer_texts=_keyed_options,
    shown_texts=_stem_and_options,
    interaction=_interaction,
    sheet_field=_sheet_field,
    printed_key=_printed_key,
    takes_answer=_takes_letters,
    normalise=_normalise,
    normal_formula=_normal_formula,
    sheet_key=_printed_key,
    judge=_judge,
    judge_formula=_judge_formula,
    lettered=True,
    compact_key=True,
    objective=True,
)
MULTI = Kind(
    "multi",
    required=("options", "answer"),
    allowed=OPTION_FIELDS,
    check=lambda item: _check_options(item, multi=True),
    paper_view=_paper,
    key_view=_multi_key,
    answer_texts=_keyed_options,
    shown_texts=_stem_and_options,
    interaction=_interaction,
    sheet_field=_sheet_field,
    printed_key=_printed_key,
    takes_answer=_takes_letters,
    normalise=_normalise,
    normal_formula=_normal_formula,
    sheet_key=_printed_key,
    judge=_judge,
    judge_formula=_judge_formula,
    lettered=True,
    compact_key=True,
    objective=True,
    rule_label=_multi_rule,
)
