"""The question-kind registry: for each kind, how it is named on a paper, set on the paper and in the key.

A kind is one `Kind` entry in `KINDS` plus one template `templates/kind-<name>.html.j2` with two macros,
`paper(q)` and `key(q)`. Selection, numbering, points, the manifest and the CLI never look at a kind's
name; they only keep the registry's order (the order of the parts on a paper).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from paperkit.content.models import Example, Exercise
from paperkit.labels import label
from paperkit.text.markup import math_spans, visible_text

if TYPE_CHECKING:
    from paperkit.exam.paper import ExamQuestion

Item = Exercise
View = Callable[["ExamQuestion", "Layout"], dict[str, Any]]
Texts = Callable[[Exercise], tuple[str, ...]]


@dataclass(frozen=True)
class Layout:
    """What a kind's views may know of the page: the body line's length in characters."""

    chars_per_line: int
    space_from_points: bool = False  # blueprint papers: a short answer's space grows with its points


@dataclass(frozen=True)
class Kind:
    """One question kind: its fields and check, its part name (简答题), its template, its paper and key views."""

    name: str
    required: tuple[str, ...]  # fields beyond id, kind and q
    allowed: tuple[str, ...]
    check: Check
    paper_view: View
    key_view: View
    answer_texts: Texts  # what answers the item: no other item on its paper may show these
    shown_texts: Texts  # what a student sees of it: its stem (blanks left out) and options

    @property
    def part_name(self) -> str:
        """The part's name on a paper (选择题), from the labels table."""
        return label(f"part_{self.name}")

    @property
    def instruction(self) -> str:
        """The line under the part's heading on a paper, from the labels table."""
        return label(f"instruction_{self.name}")

    @property
    def template(self) -> str:
        """The template with this kind's `paper(q)` and `key(q)` macros."""
        return f"kind-{self.name}.html.j2"


# -- views shared by every kind ------------------------------------------------------------------


def common_view(q: ExamQuestion, kind: Kind) -> dict[str, Any]:
    """What every kind's paper and key show: number, points (none in a handbook), prompt, its template, its source."""
    return {
        "number": q.number,
        "points": q.points,
        "points_label": label("points", points=q.points) if q.points else "",
        "prompt": q.question.item.q,
        "template": kind.template,
        "section_title": q.question.section_title,
        "source_label": label("source", section=q.question.section_id),
    }


# -- checks shared by the kinds -------------------------------------------------------------------

Check = Callable[["Item"], list[tuple[str, str]]]  # (field, message) pairs
LETTERS = "ABCDEFGH"
MIN_OPTIONS, MAX_OPTIONS = 2, 8
DIFFICULTIES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "易": 2, "中": 3, "难": 4}

_MATH = re.compile(r"(?<!\\)\$(?:\\.|[^$\\])+\$")


def _outside_math(text: str) -> list[tuple[int, int]]:
    """The [start, end) ranges of `text` that are not inside $…$."""
    ranges, last = [], 0
    for match in _MATH.finditer(text):
        ranges.append((last, match.start()))
        last = match.end()
    ranges.append((last, len(text)))
    return ranges


def split_alternatives(inside: str) -> tuple[str, ...]:
    """`a|b|c` into its answers; a `|` inside $…$ (an absolute value) does not split."""
    parts, start = [], 0
    for low, high in _outside_math(inside):
        for index in range(low, high):
            if inside[index] == "|":
                parts.append(inside[start:index].strip())
                start = index + 1
    parts.append(inside[start:].strip())
    return tuple(parts)


def _math_end(text: str, start: int) -> int:
    """The index after the $ that closes the formula opened at `start` (the end of text if none does)."""
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == "$":
            return index + 1
        index += 1
    return len(text)


def scan_blanks(q: str) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """A fill-in prompt as (text, ()) and ("", answers) segments, and the problems of its [[…]] markers.

    A blank opens with [[ outside $…$ math and closes at the next ]] outside math; its answers may hold math.
    """
    segments: list[tuple[str, tuple[str, ...]]] = []
    problems: list[str] = []
    text_start = index = 0
    while index < len(q):
        if q[index] == "$":
            inner = q.find("[[", index, _math_end(q, index))
            if inner != -1:
                problems.append("a [[blank]] inside $…$; put the blank outside the math: $x=$ [[1]]")
            index = _math_end(q, index)
        elif q.startswith("[[", index):
            close = index + 2
            while close < len(q) and not q.startswith("]]", close):
                close = _math_end(q, close) if q[close] == "$" else close + 1
            if close >= len(q):
                problems.append("a [[ without its ]]; blanks are written [[answer]]")
                break
            segments.append((q[text_start:index], ()))
            segments.append(("", split_alternatives(q[index + 2 : close])))
            index = text_start = close + 2
        elif q.startswith("]]", index):
            problems.append("a ]] without its [[; blanks are written [[answer]]")
            index += 2
        else:
            index += 1
    segments.append((q[text_start:], ()))
    return [seg for seg in segments if seg[0] or seg[1]], problems


def blank_segments(q: str) -> list[tuple[str, tuple[str, ...]]]:
    """A fill-in prompt as (text, ()) and ("", answers) segments, in order."""
    return scan_blanks(q)[0]


def blanks(q: str) -> list[tuple[str, ...]]:
    """The answers of each blank of a fill-in prompt, in order."""
    return [answers for text, answers in blank_segments(q) if not text]


def _letters(answer: str) -> str:
    return re.sub(r"[\s,，、]+", "", answer).upper()


def _check_options(item: Item, multi: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    options = item.options
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        problems.append(("options", f"expected {MIN_OPTIONS} to {MAX_OPTIONS} options, got {len(options)}"))
    seen: dict[str, int] = {}
    for index, option in enumerate(options):
        key = re.sub(r"\s+", "", option)
        if key in seen:
            problems.append((f"options[{index}]", f"the same as option {LETTERS[seen[key]]}; options must differ"))
        seen.setdefault(key, index)
    valid = LETTERS[: len(options)]
    letters = _letters(item.answer)
    shown = f"{valid[0]}–{valid[-1]}" if valid else "none"
    if not letters or any(ch not in valid for ch in letters):
        expected = "letters" if multi else "one letter"
        problems.append(("answer", f"expected {expected} of the options ({shown}), got '{item.answer}'"))
    elif len(set(letters)) != len(letters):
        problems.append(("answer", f"'{item.answer}' names an option twice"))
    elif not multi and len(letters) != 1:
        problems.append(("answer", f"a choice item has one answer, got '{item.answer}'; use kind: multi"))
    elif multi and len(letters) < 2:
        problems.append(("answer", f"a multi item has two or more answers, got '{item.answer}'; use kind: choice"))
    elif multi and len(letters) == len(options):
        problems.append(("answer", "every option is keyed correct; a multi item needs at least one wrong option"))
    for index, pin in enumerate(item.pinned):
        if _letters(pin) not in valid or len(_letters(pin)) != 1:
            problems.append((f"pinned[{index}]", f"expected one letter of the options ({shown}), got '{pin}'"))
    return problems


def _check_choice(item: Item) -> list[tuple[str, str]]:
    return _check_options(item, multi=False)


def _check_multi(item: Item) -> list[tuple[str, str]]:
    return _check_options(item, multi=True)


def _check_truefalse(item: Item) -> list[tuple[str, str]]:
    if item.answer.lower() not in ("true", "false"):
        return [("answer", f"expected true or false, got '{item.answer}'")]
    return []


def _check_fill(item: Item) -> list[tuple[str, str]]:
    segments, problems = scan_blanks(item.q)
    found = [answers for text, answers in segments if not text]
    result = [("q", message) for message in problems]
    if not found and not problems:
        result.append(("q", "a fill-in item needs at least one blank, written [[answer]] outside $…$"))
    for number, answers in enumerate(found, start=1):
        if any(not answer for answer in answers):
            result.append(("q", f"blank {number} has an empty answer; write [[answer]] or [[answer|alternative]]"))
    return result


def _check_short(item: Item) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    total = sum(point.points for point in item.rubric)
    if item.rubric and item.points is not None and total != item.points:
        problems.append(("rubric", f"scoring points add up to {total}, but the item has points: {item.points}"))
    for index, point in enumerate(item.rubric):
        if point.points < 1:
            problems.append((f"rubric[{index}].points", f"expected a whole number ≥ 1, got {point.points}"))
    return problems


# -- short answer (简答题) -------------------------------------------------------------------------
# -- short answer (简答题) -------------------------------------------------------------------------

# Handwriting needs about twice the width of printed body text per character.
HANDWRITING_FACTOR = 2.0
MIN_LINES, MAX_LINES = 2, 10


def formula_width(tex: str) -> int:
    """About how many characters wide a formula prints: each command or symbol one, braces and spaces none."""
    return max(2, len(re.sub(r"[{}\s]", "", re.sub(r"\\[A-Za-z]+", "x", tex))))


def answer_lines(answer: str, chars_per_line: int) -> int:
    """Ruled lines for an answer: its printed length at handwriting size plus one spare, within 2–10."""
    length = len(re.sub(r"\s+", "", visible_text(answer))) + sum(formula_width(tex) for tex in math_spans(answer))
    needed = -(-int(length * HANDWRITING_FACTOR) // chars_per_line) + 1
    return max(MIN_LINES, min(MAX_LINES, needed))


def _short_paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    lines = item.lines or answer_lines(item.a, layout.chars_per_line)
    if layout.space_from_points and not item.lines:
        lines = max(lines, points_lines(q.points))
    return {**common_view(q, SHORT), "lines": lines}


def points_lines(points: int) -> int:
    """Answer lines a short item's points call for: about eight for ten points, 3–14."""
    return max(3, min(14, round(points * 0.8)))


def scaled_rubric(points: tuple[int, ...], total: int) -> list[int]:
    """Rubric points scaled to the points a paper gives (largest remainder; the author's own when they agree)."""
    written = sum(points)
    if not written or written == total:
        return list(points)
    shares = [p * total / written for p in points]
    scaled = [int(share) for share in shares]
    order = sorted(range(len(points)), key=lambda i: (-(shares[i] - scaled[i]), i))
    for i in order[: total - sum(scaled)]:
        scaled[i] += 1
    return scaled


def _short_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    written = tuple(p.points for p in item.rubric)
    values = scaled_rubric(written, q.points) if q.points else list(written)
    rubric = [{"point": p.point, "points": label("points", points=v)} for p, v in zip(item.rubric, values, strict=True)]
    return {**common_view(q, SHORT), "answer": item.a, "rubric": rubric}


# -- choice (单选) and multi (多选) ----------------------------------------------------------------


def option_columns(options: tuple[str, ...], chars_per_line: int) -> int:
    """4, 2 or 1 options a row, as exam papers set them: the most columns the widest option fits."""
    widest = max((_width(o) for o in options), default=0) + 3  # the letter, its dot and a gap
    for columns in (4, 2):
        if (len(options) % columns == 0 or columns == 2) and widest * columns <= chars_per_line:
            return columns
    return 1


def _width(text: str) -> float:
    """A text's width in body characters: CJK square, Latin half, a formula about four."""
    visible = re.sub(r"\s+", "", visible_text(text))
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in visible) + 3 * len(math_spans(text))


def printed_order(q: ExamQuestion) -> tuple[int, ...]:
    """The original index of each option as printed on this paper (shuffled per variant, or as written)."""
    return q.order or tuple(range(len(q.question.item.options)))


def printed_answer(q: ExamQuestion) -> str:
    """The key letters as printed on this paper: where the keyed options landed after shuffling."""
    order = printed_order(q)
    keyed = {LETTERS.index(ch) for ch in _letters(q.question.item.answer)}
    return "".join(LETTERS[position] for position, original in enumerate(order) if original in keyed)


def _choice_paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    options = [item.options[i] for i in printed_order(q)]
    return {
        **common_view(q, kind_of(item.kind)),
        "options": [{"letter": LETTERS[i], "text": text} for i, text in enumerate(options)],
        "columns": option_columns(item.options, layout.chars_per_line),
    }


def _choice_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    view = _choice_paper(q, layout)
    view.update(answer=printed_answer(q), rule=label("multi_rule") if item.kind == "multi" else "")
    return view


# -- true/false (判断) ------------------------------------------------------------------------------


def _truefalse_paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    return common_view(q, TRUEFALSE)


def _truefalse_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    item = q.question.item
    right = item.answer.lower() == "true"
    return {
        **common_view(q, TRUEFALSE),
        "answer": label("true_mark") if right else label("false_mark"),
        "why": item.why,
    }


# -- fill-in (填空) ---------------------------------------------------------------------------------

MIN_BLANK_EM = 4.0


def _fill_paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    # A blank is an underline twice the printed answer's width (handwriting), never shorter than 4 em.
    segments = [
        {"text": text, "blank": bool(answers), "width": _blank_width(answers)}
        for text, answers in blank_segments(q.question.item.q)
    ]
    return {**common_view(q, FILL), "segments": segments}


def _blank_width(answers: tuple[str, ...]) -> str:
    return f"{max(MIN_BLANK_EM, 2 * _width(answers[0])):.1f}em" if answers else ""


def _fill_key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    view = _fill_paper(q, layout)
    found = blanks(q.question.item.q)
    view["blanks"] = [
        {
            "label": label("blank_number", number=n) + "：" if len(found) > 1 else label("reference_answer"),
            "answer": answers[0],
            "accepted": list(answers[1:]),
            "accepted_label": label("accepted", alternatives="；".join(answers[1:])),
        }
        for n, answers in enumerate(found, start=1)
    ]
    return view


def _keyed_options(item: Item) -> tuple[str, ...]:
    return tuple(item.options[LETTERS.index(ch)] for ch in _letters(item.answer) if ch in LETTERS[: len(item.options)])


def _stem_and_options(item: Item) -> tuple[str, ...]:
    return (item.q, *item.options)


def _true_statement(item: Item) -> tuple[str, ...]:
    # A true statement is itself an answer; a false one's correction is printed only in the key.
    return (item.q,) if item.answer.lower() == "true" else ()


def _blank_answers(item: Item) -> tuple[str, ...]:
    return tuple(answer for answers in blanks(item.q) for answer in answers)


def _fill_stem(item: Item) -> tuple[str, ...]:
    return ("".join(text for text, answers in blank_segments(item.q) if not answers),)


def _reference_answer(item: Item) -> tuple[str, ...]:
    return (item.a,)


def _stem(item: Item) -> tuple[str, ...]:
    return (item.q,)


# choice and multi take the same fields; they differ in how many letters the answer may have.
OPTION_FIELDS = ("options", "answer", "pinned", "points", "difficulty", "follows")
CHOICE = Kind(
    "choice",
    ("options", "answer"),
    OPTION_FIELDS,
    _check_choice,
    _choice_paper,
    _choice_key,
    _keyed_options,
    _stem_and_options,
)
MULTI = Kind(
    "multi",
    ("options", "answer"),
    OPTION_FIELDS,
    _check_multi,
    _choice_paper,
    _choice_key,
    _keyed_options,
    _stem_and_options,
)
TRUEFALSE = Kind(
    "truefalse",
    ("answer",),
    ("answer", "why", "points", "difficulty", "follows"),
    _check_truefalse,
    _truefalse_paper,
    _truefalse_key,
    _true_statement,
    _stem,
)
FILL = Kind(
    "fill",
    (),
    ("points", "difficulty", "lines", "follows"),
    _check_fill,
    _fill_paper,
    _fill_key,
    _blank_answers,
    _fill_stem,
)
SHORT = Kind(
    "short",
    ("a",),
    ("a", "rubric", "points", "difficulty", "lines", "follows"),
    _check_short,
    _short_paper,
    _short_key,
    _reference_answer,
    _stem,
)

# The registry, in the order parts appear on a paper.
KINDS: Mapping[str, Kind] = MappingProxyType({kind.name: kind for kind in (CHOICE, MULTI, TRUEFALSE, FILL, SHORT)})


def as_item(example: Example) -> Item:
    """A worked example as the short-answer item it is."""
    return Exercise(
        id=example.id,
        kind="short",
        q=example.q,
        a=example.a,
        rubric=example.rubric,
        points=example.points,
        difficulty=example.difficulty,
        lines=example.lines,
        tests=example.tests,
        origin=example.origin,
    )


COMMON_FIELDS = ("id", "kind", "q", "tests", "use")
USES = ("practice", "exam")


def check_item(item: Item) -> list[tuple[str, str]]:
    """Every problem of one item as (field, message): its kind, the fields its kind uses, the kind's own check."""
    kind = KINDS.get(item.kind)
    if kind is None:
        return [("kind", f"unknown kind '{item.kind}'; expected one of {', '.join(KINDS)}")]
    given = {name.split("[", 1)[0] for name in item.origin.lines}
    problems = [
        (name, f"not used by kind {item.kind} (it takes {', '.join((*COMMON_FIELDS, *kind.allowed))})")
        for name in sorted(given - set(COMMON_FIELDS) - set(kind.allowed))
    ]
    problems += [
        (name, f"missing (required field for kind {item.kind})") for name in kind.required if name not in given
    ]
    if item.difficulty and item.difficulty not in DIFFICULTIES:
        problems.append(("difficulty", f"expected 1–5 or 易/中/难, got '{item.difficulty}'"))
    if item.lines is not None and not 1 <= item.lines <= 30:
        problems.append(("lines", f"expected a whole number from 1 to 30, got {item.lines}"))
    if item.use not in USES:
        problems.append(("use", f"expected practice or exam (held back for exams), got '{item.use}'"))
    if item.points is not None and item.points < 1:
        problems.append(("points", f"expected a whole number ≥ 1, got {item.points}"))
    return problems + kind.check(item)


def kind_of(name: str) -> Kind:
    """The registered kind of this name (a KeyError is a bug: loading accepts only registered kinds)."""
    return KINDS[name]
