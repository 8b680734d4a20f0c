"""填空题 (fill): a stem with [[answer|alternative]] blanks, each printed as an underline on the paper.

A typed answer matches a blank as a teacher reads it: full-width forms, spaces and case do not matter, and a
formula may be typed as it prints (`−∞` for `$-\\infty$`). A plain number matches as written; an answer that says
how close is close enough compares by value — within a tolerance (`15.7±0.1`, `15.7±1%`) or within half a unit of
its last significant figure (`9.80 sf`: 9.795 ≤ x < 9.805) — and a unit after it (`0.8±0.05 m/s^2`) may be typed
or left out. paperkit and the score sheet's formulas score by this one rule (value_range, _judge_value).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from paperkit.i18n import _
from paperkit.labels import label
from paperkit.questions.kind import (
    Interaction,
    Item,
    Kind,
    Layout,
    NumberRange,
    Rules,
    SheetField,
    common_view,
    normal_text_formula,
    substituted,
    text_width,
)
from paperkit.text.markup import plain_text

if TYPE_CHECKING:
    from paperkit.questions.bank import ExamQuestion

MIN_BLANK_EM = 4.0
UNIFORM_BLANK_EM = 6.0  # the shortest blank of a part whose blanks are one length

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
                problems.append(_("a [[blank]] inside $…$; put the blank outside the math: $x=$ [[1]]"))
            index = _math_end(q, index)
        elif q.startswith("[[", index):
            close = index + 2
            while close < len(q) and not q.startswith("]]", close):
                close = _math_end(q, close) if q[close] == "$" else close + 1
            if close >= len(q):
                problems.append(_("a [[ without its ]]; blanks are written [[answer]]"))
                break
            segments.append((q[text_start:index], ()))
            segments.append(("", split_alternatives(q[index + 2 : close])))
            index = text_start = close + 2
        elif q.startswith("]]", index):
            problems.append(_("a ]] without its [[; blanks are written [[answer]]"))
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


def _check(item: Item) -> list[tuple[str, str]]:
    segments, problems = scan_blanks(item.q)
    found = [answers for text, answers in segments if not text]
    result = [("q", message) for message in problems]
    if not found and not problems:
        result.append(("q", _("a fill-in item needs at least one blank, written [[answer]] outside $…$")))
    for number, answers in enumerate(found, start=1):
        if any(not answer for answer in answers):
            result.append(
                (
                    "q",
                    _("blank {number} has an empty answer; write [[answer]] or [[answer|alternative]]").format(
                        number=number
                    ),
                )
            )
        for answer in answers:
            if answer and prints_nothing(answer):
                message = _(
                    "blank {number}'s answer '{answer}' is only spacing; write [[answer]] or [[answer|alternative]]"
                ).format(number=number, answer=answer)
                result.append(("q", message))
    return result


# TeX that sets only space (\, \; \quad ~ \hspace{…} \phantom{…}…); what is left may be empty groups.
_TEX_SPACE = re.compile(
    r"\\(?:[,:;!> ]|q?quad(?![A-Za-z])|(?:en|em|thin|med|thick|negthin|negmed|negthick)space(?![A-Za-z])"
    r"|[hv]?phantom\s*\{[^{}]*\}|hspace\*?\s*\{[^{}]*\}|m?kern\s*[-+]?[\d.]+\s*[a-z]{2})|~"
)
_EMPTY_GROUPS = re.compile(r"(?:\\[A-Za-z]+\s*)?\{\s*\}")  # `\text{ }` once its space is gone


def _unspaced_math(match: re.Match[str]) -> str:
    inner = _TEX_SPACE.sub("", match.group(0)[1:-1])
    while _EMPTY_GROUPS.search(inner):
        inner = _EMPTY_GROUPS.sub("", inner)
    return f"${inner}$" if inner.strip() else ""


def prints_nothing(answer: str) -> bool:
    """Whether an accepted answer is empty once its formulas' TeX spacing is dropped and it is normalised as a
    typed answer is (`$\\,$`, `$\\quad$`, a full-width or zero-width space): nothing a student could type."""
    text = normal_answer(plain_text(_MATH.sub(_unspaced_math, answer)))
    return not any(unicodedata.category(ch) != "Cf" for ch in text)  # zero-width spaces and joiners are Cf


# -- the paper and the key -----------------------------------------------------------------------------------


def _paper(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    # Every blank of a part is one length: sized each to its answer, a short line said 「a short word」 and a long
    # one 「a sentence」. The length is what the longest answer of the part needs in handwriting (twice its
    # printed width), between 6 em and half a line. Without a part (the handbook's 练习, `--blanks answer`) each
    # is sized to its own answer.
    alike = [a for other in layout.part if other.question.kind == FILL.name for a in blanks(other.question.item.q)]
    width = _blank_em(alike, layout.chars_per_line) if alike else None
    segments = [
        {"text": text, "blank": bool(answers), "width": _em(width or _blank_em([answers], None)) if answers else ""}
        for text, answers in blank_segments(q.question.item.q)
    ]
    return {**common_view(q, FILL), "segments": segments}


def _em(width: float) -> str:
    return f"{width:.1f}em"


def _blank_em(answers: list[tuple[str, ...]], chars_per_line: int | None) -> float:
    """The length of a blank (em) that holds the longest of these answers handwritten."""
    needed = max(2 * text_width(a[0]) for a in answers)
    if chars_per_line is None:
        return max(MIN_BLANK_EM, needed)
    return min(max(UNIFORM_BLANK_EM, needed), chars_per_line / 2)


def _key(q: ExamQuestion, layout: Layout) -> dict[str, Any]:
    view = _paper(q, layout)
    found = blanks(q.question.item.q)
    view["blanks"] = [
        {
            "label": label("blank_number", number=n) + "：" if len(found) > 1 else label("reference_answer"),
            "answer": key_text(answers[0]),
            "accepted": _shown_alternatives(answers),
        }
        for n, answers in enumerate(found, start=1)
    ]
    return view


def key_text(answer: str) -> str:
    """An accepted answer as a key prints it: `19.6 sf` as 「19.6（3 位有效数字）」, any other as written."""
    found = numeric(answer)
    if found is None or not found.figures:
        return answer
    return re.sub(r"\s*sf", "", answer, count=1).strip() + label("significant_figures", figures=found.figures)


def _shown_alternatives(answers: tuple[str, ...]) -> list[str]:
    """The alternatives a key prints: not one that reads as the answer itself (`[[128|$128$]]` printed
    「128（也可答：128）」), nor one twice."""
    seen = {re.sub(r"\s+", "", plain_text(answers[0]))}
    shown = []
    for alternative in answers[1:]:
        looks = re.sub(r"\s+", "", plain_text(alternative))
        if looks not in seen:
            seen.add(looks)
            shown.append(alternative)
    return shown


# -- answers and scoring -----------------------------------------------------------------------------------

_DASH_PAIRS = (("−", "-"), ("–", "-"), ("—", "-"), ("～", "~"), ("×", "x"), ("·", "."))
_DASHES = str.maketrans(dict(_DASH_PAIRS))


def normal_answer(text: str) -> str:
    """An answer as compared: NFKC (full-width forms), dashes and minus signs alike, no spaces, case folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(_DASHES)).casefold()


def answer_forms(answer: str) -> set[str]:
    """Every way a student may write an accepted answer: as written in the source and as it prints."""
    return {normal_answer(answer), normal_answer(plain_text(answer))}


_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMERIC = re.compile(rf"^(?P<value>{_NUMBER})(?:±(?P<tolerance>{_NUMBER})(?P<percent>%)?|(?P<sf>sf))?(?P<unit>.*)$")


@dataclass(frozen=True)
class Numeric:
    """A numeric answer: its value, how far off a typed one may be, and an optional unit."""

    value: Decimal
    tolerance: Decimal = Decimal(0)
    figures: int = 0  # significant figures to compare at (0: compare by value within the tolerance)
    unit: str = ""


def numeric(answer: str) -> Numeric | None:
    """An accepted answer as a number (with its tolerance, figures and unit), or None if it is not one."""
    match = _NUMERIC.match(normal_answer(plain_text(answer)))
    if match is None:
        return None
    value = Decimal(match["value"])
    unit = match["unit"]
    if unit and (not re.fullmatch(r"[^\d.+\-:/].*", unit) or re.match(r"[×*^·(（]|x\d", unit)):
        return None  # "3:4", "1/2", "3×10^8": not a number with a unit
    if match["sf"]:
        digits = re.split("[eE]", match["value"])[0].lstrip("+-").replace(".", "").lstrip("0") or "0"
        return Numeric(value, figures=len(digits), unit=unit)
    if match["tolerance"] is None:
        return Numeric(value, unit=unit)
    tolerance = abs(Decimal(match["tolerance"]))
    if match["percent"]:
        tolerance = abs(value) * tolerance / 100
    return Numeric(value, tolerance, unit=unit)


def _typed_number(typed: str, unit: str) -> Decimal | None:
    said = normal_answer(typed)
    if unit and said.endswith(unit):
        said = said[: -len(unit)]
    try:
        return Decimal(said) if re.fullmatch(_NUMBER, said) else None
    except InvalidOperation:
        return None


def _round_to(value: Decimal, figures: int) -> Decimal:
    if value == 0:
        return value
    exponent = value.adjusted() - figures + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def _numeric_match(typed: str, key: Numeric) -> bool:
    number = _typed_number(typed, key.unit)
    if number is None:
        return False
    return _within(number, *value_range(key))  # the range the score sheet's formula checks too


def _within(number: Decimal, low: Decimal, high: Decimal, low_in: bool, high_in: bool) -> bool:
    return (number >= low if low_in else number > low) and (number <= high if high_in else number < high)


def matches(typed: str, answers: tuple[str, ...]) -> bool:
    """Whether a typed answer is one of a blank's accepted answers: by its written forms, or by value where the
    answer says how close is close enough (a tolerance or significant figures) — the score sheet's rule."""
    said = normal_answer(typed)
    for answer in answers:
        key = numeric(answer) if not _by_form(answer) else None
        if key is not None and _numeric_match(typed, key):
            return True
        if key is None and said in answer_forms(answer):
            return True
    return False


def _blank_answers(item: Item) -> tuple[str, ...]:
    return tuple(answer for answers in blanks(item.q) for answer in answers)


def _stem(item: Item) -> tuple[str, ...]:
    return ("".join(text for text, answers in blank_segments(item.q) if not answers),)


def _interaction(item: Item) -> Interaction:
    segments = tuple(blank_segments(item.q))
    ranges = tuple(_number_range(answers) for text, answers in segments if not text)
    return Interaction("blanks", item.q, segments=segments, ranges=ranges if any(ranges) else ())


def _number_range(answers: tuple[str, ...]) -> NumberRange | None:
    """A blank compared by value as a platform grades a number (a half-open significant-figure range is given
    closed: platforms know no other)."""
    key = _by_value(answers)
    if key is None:
        return None
    low, high, _, _ = value_range(key)
    middle, tolerance = (low + high) / 2, (high - low) / 2
    # the unit as the author wrote it (`N`, not the compared form `n`)
    written = _NUMERIC.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", plain_text(answers[0]))))
    unit = written["unit"] if written else key.unit
    return NumberRange(f"{low:f}", f"{high:f}", f"{middle:f}", f"{tolerance:f}", unit)


def _sheet_field(item: Item, order: tuple[int, ...], points: int) -> SheetField:
    return SheetField(lines=len(blanks(item.q)))  # a line per blank, scored on its strip


def _printed_key(item: Item, order: tuple[int, ...]) -> str:
    return "；".join(key_text(answers[0]) for answers in blanks(item.q))


def _one_blank(item: Item) -> bool:
    # A typed answer is scored the same in paperkit and in the sheet's formulas: by its written forms, or — for
    # a blank whose one answer compares by value (a tolerance or significant figures) — by its value.
    found = blanks(item.q)
    return len(found) == 1 and (all(_by_form(answer) for answer in found[0]) or _by_value(found[0]) is not None)


def _by_form(answer: str) -> bool:
    # By value only where the answer says how close (a tolerance, significant figures): `[[2n]]`, `[[2π]]` or
    # `[[3×10^8 m/s]]` are not 2 or 3 with a unit a student may leave out.
    key = numeric(answer)
    return key is None or (key.tolerance == 0 and not key.figures)


def _by_value(answers: tuple[str, ...]) -> Numeric | None:
    """The blank's answer compared by value, when it is its only accepted answer."""
    return numeric(answers[0]) if len(answers) == 1 and not _by_form(answers[0]) else None


def value_range(key: Numeric) -> tuple[Decimal, Decimal, bool, bool]:
    """The typed values a numeric answer accepts: (low, high, low included, high included). Significant figures
    are the half-unit around the key's last figure, rounding half away from zero (9.80 at 3: [9.795, 9.805))."""
    if not key.figures:
        return key.value - key.tolerance, key.value + key.tolerance, True, True
    rounded = _round_to(key.value, key.figures)
    if rounded == 0:
        return rounded, rounded, True, True
    half = Decimal(5).scaleb(rounded.adjusted() - key.figures)
    return rounded - half, rounded + half, rounded > 0, rounded < 0


# The spreadsheet key of a by-value answer: "#=", 1/0 for each end of the range included, the lowest value,
# "#", the highest, "#", the unit as the sheet normalises text (upper case): `#=1019.55#19.65#N`. One cell, so a
# key corrected on the sheet is still one cell.
VALUE_KEY = "#="  # (no answer written as text starts so: `[[#FF0000]]` stays an answer by its forms)
_TYPED_NUMBER = re.compile(r"[0-9.E+-]+")


def _value_key(key: Numeric) -> str:
    low, high, low_in, high_in = value_range(key)
    return f"#={int(low_in)}{int(high_in)}{low:f}#{high:f}#{key.unit.upper()}"


def _judge_value(answer: str, key: str) -> bool:
    """A normalised typed answer against a value key, exactly as the sheet's formula judges it."""
    fields = key[4:].split("#", 2)
    if len(fields) < 3:  # a key a teacher "corrected" into no range: the sheet's formula errs, and scores 0
        return False
    low_text, high_text, unit = fields
    low_in, high_in = key[2:3] == "1", key[3:4] == "1"
    said = answer[: -len(unit)] if unit and answer.endswith(unit) else answer  # a unit after the number only
    signs = said[1:].replace("E-", "").replace("E+", "")
    if not _TYPED_NUMBER.fullmatch(said) or "-" in signs or "+" in signs or said.count(".") > 1:
        return False
    try:
        number, low, high = Decimal(said), Decimal(low_text), Decimal(high_text)
    except InvalidOperation:
        return False
    if not (low.is_finite() and high.is_finite()):  # NaN or Infinity in a corrected key: no number the sheet reads
        return False
    return _within(number, low, high, low_in, high_in)


def _normalise(text: str, item: Item, order: tuple[int, ...]) -> str:
    return normal_answer(text).upper()


def _normal_formula(cell: str) -> str:
    return substituted(normal_text_formula(cell), tuple((old, new.upper()) for old, new in _DASH_PAIRS))


def _sheet_key(item: Item, order: tuple[int, ...]) -> str:
    found = blanks(item.q)
    by_value = _by_value(found[0]) if len(found) == 1 else None
    if by_value is not None:
        return _value_key(by_value)
    forms = {form.upper() for answer in (found[0] if found else ()) for form in answer_forms(answer)}
    return "|".join(sorted(forms))


def _judge(answer: str, key: str, points: int, rules: Rules) -> float:
    if key.startswith(VALUE_KEY):
        return float(points) if _judge_value(answer, key) else 0.0
    return float(points) if answer in key.split("|") else 0.0


def _judge_formula(answer: str, key: str, points: int, rules: Rules, options: int) -> str:
    by_form = f'IF(ISNUMBER(FIND("|"&{answer}&"|","|"&{key}&"|")),{points},0)'
    return f'IF(LEFT({key},2)="{VALUE_KEY}",IF(IFERROR({_value_formula(answer, key)},FALSE),{points},0),{by_form})'


def _keyed_formula(normal: str, key: str) -> str:
    """The normalised answer with a value key's unit taken off (the helper cell _value_formula reads)."""
    # the unit taken off the end only (CHAR(1) marks the end; CLEAN has taken any out of the typed text)
    marked = f'SUBSTITUTE({normal}&CHAR(1),{_unit(key)}&CHAR(1),"")'
    return f'IF(LEFT({key},2)="{VALUE_KEY}",SUBSTITUTE({marked},CHAR(1),""),{normal})'


def _unit(key: str) -> str:
    # a key corrected into no range has no unit: the answer stays as it is (and the judge's formula gives 0)
    return f'IFERROR(MID({key},FIND("#",{key},FIND("#",{key},5)+1)+1,999),"")'


def _value_formula(said: str, key: str) -> str:
    """_judge_value as a spreadsheet expression of the helper cell (its unit taken off) and the key cell."""
    second = f'FIND("#",{key},5)'
    low = f"VALUE(MID({key},5,{second}-5))"
    high = f'VALUE(MID({key},{second}+1,FIND("#",{key},{second}+1)-{second}-1))'
    rest = said
    for char in "0123456789.E+-":
        rest = f'SUBSTITUTE({rest},"{char}","")'
    # a sign only first or after E: with those taken away, no + or - is left (both searched as -)
    signs = f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(MID({said},2,999),"E-",""),"E+",""),"+","-")'
    number = f"VALUE({said})"
    return (
        f'AND({rest}="",ISERROR(FIND("-",{signs})),'
        f'LEN({said})-LEN(SUBSTITUTE({said},".",""))<2,'
        f'IF(MID({key},3,1)="1",{number}>={low},{number}>{low}),IF(MID({key},4,1)="1",{number}<={high},{number}<{high}))'
    )


FILL = Kind(
    "fill",
    required=(),
    allowed=("points", "difficulty", "lines", "follows"),
    check=_check,
    paper_view=_paper,
    key_view=_key,
    answer_texts=_blank_answers,
    shown_texts=_stem,
    interaction=_interaction,
    sheet_field=_sheet_field,
    printed_key=_printed_key,
    takes_answer=_one_blank,
    normalise=_normalise,
    normal_formula=_normal_formula,
    sheet_key=_sheet_key,
    judge=_judge,
    judge_formula=_judge_formula,
    keyed_formula=_keyed_formula,
    text_answers=True,
)
