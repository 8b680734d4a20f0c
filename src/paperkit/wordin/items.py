"""Drafts of questions into items of the content format (pure): the kind from the layout, the fields it takes,
new ids, difficulty and knowledge points.

The kind is asked of the registry by the shape a platform sees (questions/kind.py's Interaction): options →
one letter or several; a 对/错 answer → a statement; blanks in the stem → blanks; anything else → an essay.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from paperkit.content.models import Exercise
from paperkit.content.validate import knowledge_point
from paperkit.i18n import _
from paperkit.questions.kind import LETTERS, Kind
from paperkit.questions.registry import COMMON_FIELDS, DIFFICULTIES, KINDS
from paperkit.wordin.layout import ANSWER, DIFFICULTY, EXPLANATION, POINTS, Draft, Unplaced, mark_of

TRUE_WORDS = ("正确", "对", "√", "✓", "✔", "TRUE", "T", "是", "YES", "Y")
FALSE_WORDS = ("错误", "错", "×", "✗", "✘", "FALSE", "F", "否", "NO", "N", "X")
DIFFICULTY_WORDS = {
    "容易": "易",
    "较易": "易",
    "简单": "易",
    "基础": "易",
    "一般": "中",
    "中等": "中",
    "适中": "中",
    "较难": "难",
    "困难": "难",
}
_BLANK = re.compile(r"_{3,}|＿{2,}|（[ \u3000]*）|\([ \u3000]+\)")
_MATH = re.compile(r"(?<!\\)\$(?:\\.|[^$\\])+\$")
_BRACKET_END = re.compile(r"\s*[（(][ \u3000]*[）)]\s*[。.]?\s*$")
_NUMBERING = re.compile(r"[（(]\s*\d{1,2}\s*[）)]|[①-⑳]|(?:^|(?<=\s))\d{1,2}\s*[．.、](?!\d)")


@dataclass(frozen=True)
class NewItem:
    """An item to write: its id, its kind's name and its fields in the order a teacher reads them."""

    id: str
    fields: tuple[tuple[str, str | tuple[str, ...]], ...]
    first: int  # the paragraph its question starts on

    def value(self, name: str) -> str | tuple[str, ...]:
        """A field's value ('' when the item does not have it)."""
        return dict(self.fields).get(name, "")

    def texts(self) -> list[str]:
        """Every text of the item (list entries one by one)."""
        return [text for _, value in self.fields for text in (value if isinstance(value, tuple) else (value,))]


@dataclass
class Made:
    """What the drafts became: the items, the knowledge points they name, and what could not be kept."""

    items: list[NewItem] = field(default_factory=list)
    must_know: list[str] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kind_for(shape: str, multiple: bool = False) -> Kind:
    """The registered kind a platform sees in this shape (options, statement, blanks, essay)."""
    for kind in KINDS.values():
        probe = Exercise("x.1.p1", kind.name, "q [[a]]", options=("a", "b", "c"), answer="AB" if multiple else "A")
        try:
            seen = kind.interaction(probe)
        except Exception:  # a kind a test registered may want other fields: it is not the one asked for
            continue
        if seen.shape == shape and seen.multiple == multiple:
            return kind
    raise LookupError(f"no registered kind has the shape {shape}")


def make_items(drafts: Sequence[Draft], section_id: str, taken: set[str], must_know: Sequence[str], grow: bool) -> Made:
    """Each draft as an item of section `section_id`, with an id none of `taken` has; its 考点 resolved against the
    section's `must_know` (added to it when `grow`, for a new section)."""
    made = Made(must_know=list(must_know))
    dropped = 0
    for draft in drafts:
        result = _item_fields(draft)
        if isinstance(result, str):
            made.unplaced.append(Unplaced(draft.first, _draft_text(draft), result))
            continue
        kind, fields, explanation = result
        if explanation:
            dropped += 1
        difficulty = mark_of(draft, DIFFICULTY)
        if difficulty:
            level = difficulty_of(difficulty)
            if level is None:
                made.notes.append(
                    _("paragraph {number}: 【难度】 {value!r} is not 易/中/难, 1–5 or 0–1; left out").format(
                        number=draft.first, value=difficulty
                    )
                )
            else:
                fields.append(("difficulty", level))
        tests = _tests(mark_of(draft, POINTS), section_id, made, grow, draft.first)
        if tests:
            fields.insert(0, ("tests", tuple(tests)))
        if draft.material:
            fields.insert(0, ("material", draft.material))
        item_id = _new_id(section_id, kind, taken)
        made.items.append(NewItem(item_id, (("id", item_id), ("kind", kind.name), *fields), draft.first))
    if dropped:
        made.notes.append(
            _("{count} 【解析】 not kept: their items' kind has no field for an explanation").format(count=dropped)
        )
    return made


def _draft_text(draft: Draft) -> str:
    where = _("paragraphs {first}–{last}").format(first=draft.first, last=draft.last)
    return f"{draft.number}．{draft.stem} ({where})" if draft.last > draft.first else f"{draft.number}．{draft.stem}"


def _item_fields(draft: Draft) -> tuple[Kind, list[tuple[str, str | tuple[str, ...]]], str] | str:
    """(kind, its fields, an explanation it cannot keep), or why the draft is no item."""
    answer, explanation = mark_of(draft, ANSWER), mark_of(draft, EXPLANATION)
    stem = draft.stem.strip()
    if not stem:
        return _("a question number with no question after it")
    if draft.options:
        letters = option_letters(answer, len(draft.options))
        if letters is None:
            if not answer:
                return _("options but no 【答案】")
            return _("【答案】 {answer!r} is not letters of the {count} options").format(
                answer=answer[:20], count=len(draft.options)
            )
        kind = kind_for("options", multiple=len(letters) > 1)
        fields: list[tuple[str, str | tuple[str, ...]]] = [
            ("q", _BRACKET_END.sub("", stem) or stem),
            ("options", tuple(draft.options)),
            ("answer", letters),
        ]
        return _explained(kind, fields, explanation)
    truth = truth_of(answer)
    if truth is not None:
        value, rest = truth
        reason = "\n".join(part for part in (rest, explanation) if part)
        fields = [("q", _BRACKET_END.sub("", stem) or stem), ("answer", value)]
        return _explained(kind_for("statement"), fields, reason)
    if _blanks(stem):
        if not answer:
            return _("blanks but no 【答案】")
        q = fill_stem(stem, answer)
        if q is None:
            return _("{blanks} blanks, but the 【答案】 {answer!r} does not split into as many answers").format(
                blanks=len(_blanks(stem)), answer=answer[:30]
            )
        return _explained(kind_for("blanks"), [("q", q)], explanation)
    reference = "\n".join(part for part in (answer, explanation) if part)
    if not reference:
        return _("no 【答案】 or 【解析】")
    return kind_for("essay"), [("q", stem), ("a", reference)], ""


def _explained(
    kind: Kind, fields: list[tuple[str, str | tuple[str, ...]]], explanation: str
) -> tuple[Kind, list[tuple[str, str | tuple[str, ...]]], str]:
    """The explanation as the kind's `why` when it has one; else it is returned, not kept."""
    if explanation and "why" in (*COMMON_FIELDS, *kind.allowed):
        return kind, [*fields, ("why", explanation)], ""
    return kind, fields, explanation


def option_letters(answer: str, count: int) -> str | None:
    """「B」「A、C」「ac」 as sorted option letters within `count` options, or None."""
    letters = re.sub(r"[\s,，、;；。.．]+", "", unicodedata.normalize("NFKC", answer)).upper()
    if not letters or not all(ch in LETTERS[:count] for ch in letters) or len(set(letters)) != len(letters):
        return None
    return "".join(sorted(letters))


def truth_of(answer: str) -> tuple[str, str] | None:
    """「对」「×」「正确。因为…」 as ("true"/"false", what follows the word), or None."""
    text = unicodedata.normalize("NFKC", answer).strip()
    for words, value in ((TRUE_WORDS, "true"), (FALSE_WORDS, "false")):
        for word in words:
            after = text[len(word) :]
            if text[: len(word)].upper() != word or after[:1].isalnum() or (word.isascii() and after.strip(" 。.")):
                continue  # 「对称」「是因为」「True story」 are not a mark
            return value, after.lstrip(" ，,。.；;:：")
    return None


def _blanks(stem: str) -> list[re.Match[str]]:
    """The blanks of a stem outside its formulas."""
    math = [(m.start(), m.end()) for m in _MATH.finditer(stem)]
    return [m for m in _BLANK.finditer(stem) if not any(a <= m.start() < b for a, b in math)]


def fill_stem(stem: str, answer: str) -> str | None:
    """The stem with each blank written [[its answer]] (alternatives after |), or None if the answers do not
    split into as many as there are blanks."""
    blanks = _blanks(stem)
    answers = split_answers(answer, len(blanks))
    if answers is None:
        return None
    out, start = [], 0
    for blank, alternatives in zip(blanks, answers, strict=True):
        out += [stem[start : blank.start()], "[[" + "|".join(alternatives) + "]]"]
        start = blank.end()
    return "".join([*out, stem[start:]])


def split_answers(text: str, count: int) -> list[list[str]] | None:
    """A 【答案】 line as `count` answers, each with its alternatives 「6（或 六）」: one answer whole, several
    split at ；, then 、, then ，, then spaces (outside formulas and brackets), numbering like （1） removed."""
    text = " ".join(text.split())
    if count == 1:
        return [_alternatives(text)] if text else None
    unnumbered = _NUMBERING.sub(" ", text)
    for separators in ("；;", "、", "，,", " "):
        parts = [part.strip() for part in _split_top(unnumbered, separators)]
        parts = [part for part in parts if part]
        if len(parts) == count:
            return [_alternatives(part) for part in parts]
    return None


def _split_top(text: str, separators: str) -> list[str]:
    """`text` split at `separators` outside $…$ and brackets."""
    parts, depth, math, start = [], 0, False, 0
    for index, ch in enumerate(text):
        if ch == "$" and (index == 0 or text[index - 1] != "\\"):
            math = not math
        elif not math and ch in "（(":
            depth += 1
        elif not math and ch in "）)":
            depth = max(0, depth - 1)
        elif not math and not depth and ch in separators:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _alternatives(text: str) -> list[str]:
    """「6（或 六）（或 six）」 as ["6", "六", "six"] (an alternative may hold brackets of its own); a bar outside
    formulas becomes a full-width one."""
    found: list[str] = []
    text = text.strip()
    while text.endswith(("）", ")")):
        depth, at = 0, len(text) - 1
        while at >= 0:
            depth += {"）": 1, ")": 1, "（": -1, "(": -1}.get(text[at], 0)
            if depth == 0:
                break
            at -= 1
        inside = text[at + 1 : -1].strip() if at >= 0 else ""
        if not inside.startswith("或"):
            break
        found.insert(0, inside[1:].strip())
        text = text[:at].rstrip()
    return [_bar_free(t) for t in [text, *found] if t]


def _bar_free(text: str) -> str:
    pieces = re.split(r"((?<!\\)\$(?:\\.|[^$\\])+\$)", text)
    return "".join(p if p.startswith("$") else p.replace("|", "｜").replace("]]", "］］") for p in pieces)


def difficulty_of(text: str) -> str | None:
    """「易」「较难」「3」「0.65」「★★」 as a difficulty the format takes (易/中/难 or 1–5), or None. A 0–1 value is
    a 难度系数 (the share who answer right): 0.7 and over 易, 0.4 and over 中, below 难."""
    value = unicodedata.normalize("NFKC", text).strip().rstrip("。.")
    if value in DIFFICULTIES:
        return value
    if value in DIFFICULTY_WORDS:
        return DIFFICULTY_WORDS[value]
    if value and set(value) <= {"★", "☆"} and 1 <= value.count("★") <= 5:
        return str(value.count("★"))
    try:
        share = float(value)
    except ValueError:
        return None
    if not 0 <= share <= 1:
        return None
    return "易" if share >= 0.7 else "中" if share >= 0.4 else "难"


def _tests(text: str, section_id: str, made: Made, grow: bool, paragraph: int) -> list[str]:
    """A 【考点】 line as knowledge-point references: `k2`-style ones as written, others found (or, when `grow`,
    added) among the section's 你需要掌握 entries."""
    tests: list[str] = []
    for entry in (e.strip() for line in text.split("\n") for e in _point_names(line)):
        if not entry:
            continue
        if knowledge_point(entry, section_id) is not None:
            tests.append(entry)
            continue
        wanted = _plain(entry)
        index = next((i for i, known in enumerate(made.must_know) if _plain(known) == wanted), None)
        if index is None and grow:
            made.must_know.append(entry)
            index = len(made.must_know) - 1
        if index is None:
            made.notes.append(
                _(
                    "paragraph {number}: 【考点】 {point!r} is no 你需要掌握 entry of section {section}; left out"
                ).format(number=paragraph, point=entry, section=section_id)
            )
        elif f"k{index + 1}" not in tests:
            tests.append(f"k{index + 1}")
    return tests


def _point_names(line: str) -> list[str]:
    """One 【考点】 line as its points: 「欧姆定律；串联电路」 is two, a sentence (ending in 。) with a ； inside
    it one."""
    if line.rstrip().endswith(("。", "！", "？")):
        return [line]
    return [name.strip() for name in re.split(r"[；;]", line)]


def _plain(text: str) -> str:
    return re.sub(r"[\s。.]+", "", unicodedata.normalize("NFKC", text))


def _new_id(section_id: str, kind: Kind, taken: set[str]) -> str:
    """`<section>.<kind's initial><n>` with the smallest n no item of the handbook (or this import) has."""
    number = 1
    while f"{section_id}.{kind.name[0]}{number}" in taken:
        number += 1
    taken.add(f"{section_id}.{kind.name[0]}{number}")
    return f"{section_id}.{kind.name[0]}{number}"
