"""A Chinese 题库's paragraphs into drafts of questions (pure): 「1．题干」, options 「A．… B．…」 on one
line or several, then 【答案】, 【解析】, 【考点】, 【难度】, and a 【材料】 before the question it leads; every
paragraph that is none of these, nor a heading, nor the continuation of one, is reported with its number.

Numbers: 「1．」「1.」「1、」 or 「（1）」 (the first question's form is the document's). Inside an answer or an
explanation a numbered line starts a new question only if it has the next number: 「1．」 there is a step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from paperkit.i18n import _
from paperkit.wordin.docxread import Block

ANSWER, EXPLANATION, POINTS, DIFFICULTY, MATERIAL = "answer", "explanation", "points", "difficulty", "material"
MARKS = {
    "答案": ANSWER,
    "参考答案": ANSWER,
    "解析": EXPLANATION,
    "详解": EXPLANATION,
    "分析": EXPLANATION,
    "点评": EXPLANATION,
    "点睛": EXPLANATION,
    "考点": POINTS,
    "知识点": POINTS,
    "难度": DIFFICULTY,
    "材料": MATERIAL,
}
_NAMES = "|".join(sorted(MARKS, key=len, reverse=True))
_MARK = re.compile(rf"【\s*({_NAMES})\s*】[:：]?\s*")
_BARE_MARK = re.compile(rf"^({_NAMES})\s*[:：]\s*")  # 「答案：B」 without the brackets, at a paragraph's start
_ANY_MARK = re.compile(r"^【([^】]{1,8})】")
_DOT_NUMBER = re.compile(r"^\s*(\d{1,4})\s*(?:[．、]|\.(?!\d))\s*")
_PAREN_NUMBER = re.compile(r"^\s*[（(]\s*(\d{1,4})\s*[）)]\s*")
_OPTION = re.compile(r"([A-HＡ-Ｈ])\s*([．.、:：])\s*")
_HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]{1,3}\s*[、．.]|第\s*[一二三四五六七八九十\d]+\s*[章节部分单元卷]|\d+(?:\.\d+)+\s)"
)
_MATH = re.compile(r"(?<!\\)\$(?:\\.|[^$\\])+\$")


@dataclass(frozen=True)
class Unplaced:
    """A paragraph the layout does not explain, and why."""

    number: int
    text: str
    reason: str


@dataclass
class Draft:
    """One question as the document writes it: its stem, options and marked parts, and where it stands."""

    first: int  # the paragraph its number is on
    last: int
    number: int
    stem: str
    options: list[str] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)  # ANSWER, EXPLANATION, … → the text after the mark
    material: str = ""
    heading: str = ""  # the heading the question stands under ('' before any)


def parse_blocks(blocks: Sequence[Block]) -> tuple[list[Draft], list[Unplaced]]:
    """The questions the blocks lay out, in order, and every block the layout does not explain."""
    return _Parser().run(blocks)


class _Parser:
    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.unplaced: list[Unplaced] = []
        self.current: Draft | None = None
        self.where = ""  # "stem", "options" or a mark's field: where a plain paragraph continues
        self.style = ""  # "dot" or "paren": how this document numbers its questions
        self.material = ""  # a 【材料】 waiting for the question after it
        self.heading = ""

    def run(self, blocks: Sequence[Block]) -> tuple[list[Draft], list[Unplaced]]:
        for block in blocks:
            for lost in block.lost:
                self.unplaced.append(Unplaced(block.number, block.text, lost))
            text = _unbolded(block.text).strip()
            if not text:
                continue
            bare = text.replace("**", "")
            if block.heading or (_HEADING.match(bare) and not self.number(bare)):
                self.close()
                # A part may number its questions 「（1）」 where the one before had 「1．」.
                self.heading, self.style = bare, ""
                continue
            self.paragraph(block.number, text)
        self.close()
        if self.material:
            self.unplaced.append(Unplaced(0, self.material, _("a 【材料】 with no question after it")))
        return self.drafts, self.unplaced

    def close(self) -> None:
        if self.current is not None:
            self.drafts.append(self.current)
        self.current, self.where = None, ""

    def number(self, text: str) -> re.Match[str] | None:
        """The question number a paragraph starts with, in this document's form."""
        dot, paren = _DOT_NUMBER.match(text), _PAREN_NUMBER.match(text)
        if not self.style:
            return dot or paren
        return dot if self.style == "dot" else paren

    def paragraph(self, number: int, text: str) -> None:
        found = self.number(text)
        answering = self.where in (ANSWER, EXPLANATION, POINTS, DIFFICULTY)
        if found and not (answering and self.current and int(found[1]) != self.current.number + 1):
            self.close()
            self.style = self.style or ("dot" if _DOT_NUMBER.match(text) else "paren")
            self.current = Draft(number, number, int(found[1]), "", material=self.material, heading=self.heading)
            self.material, self.where = "", "stem"
            self.marked(number, text[found.end() :], "stem")
            return
        mark = _MARK.match(text) or _BARE_MARK.match(text)
        if mark:
            self.marked(number, text, "")
            return
        unknown = _ANY_MARK.match(text)
        if unknown and self.current is not None:
            reason = _("【{mark}】 is not a mark paperkit reads (【答案】【解析】【考点】【难度】【材料】)")
            self.unplaced.append(Unplaced(number, text, reason.format(mark=unknown[1])))
            return
        if self.current is not None and self.where in ("stem", "options"):
            pieces = _split_marks(text)
            options = split_options(pieces[0][1].strip(), len(self.current.options))
            if options is not None:
                self.current.options += options
                self.current.last, self.where = number, "options"
                if len(pieces) > 1:  # 「D．丁　【答案】B」
                    self.marked(number, "".join(f"【{_mark_word(n)}】{b}" for n, b in pieces[1:]), "")
                return
        if self.current is None:
            if self.where == MATERIAL:
                self.material += "\n" + text
                return
            self.unplaced.append(Unplaced(number, text, _("not part of a question (before the first question)")))
            return
        if self.where == "options":
            self.unplaced.append(
                Unplaced(number, text, _("after the options, neither an option nor a 【答案】/【解析】 line"))
            )
            return
        self.append(number, self.where, text)

    def marked(self, number: int, text: str, where: str) -> None:
        """A paragraph's text split at its marks: what comes before the first goes on where it was."""
        pieces = _split_marks(text)
        head, rest = pieces[0][1], pieces[1:]
        if where == "stem" and self.current is not None and not rest:
            options = _inline_options(head)
            if options:  # 「1．题干 A．… B．…」 on one line
                head, self.current.options = options
                self.where = "options"
        if head.strip() and where:
            self.append(number, where, head)
        elif head.strip():
            self.unplaced.append(Unplaced(number, head, _("text before a mark outside any question")))
        for name, body in rest:
            if name == MATERIAL:
                self.close()
                self.material, self.where = body.strip(), MATERIAL
                continue
            if self.current is None:
                reason = _("a 【{mark}】 outside any question").format(mark=_mark_word(name))
                self.unplaced.append(Unplaced(number, f"【{_mark_word(name)}】{body}", reason))
                continue
            self.where = name
            self.append(number, name, body)

    def append(self, number: int, where: str, text: str) -> None:
        draft = self.current
        assert draft is not None
        draft.last = number
        text = text.strip()
        if where == "stem":
            draft.stem = f"{draft.stem}\n{text}" if draft.stem else text
        elif where in draft.marks:
            draft.marks[where] = f"{draft.marks[where]}\n{text}" if text else draft.marks[where]
        else:
            draft.marks[where] = text


_BOLD_LEAD = re.compile(r"^\s*\*\*((?:\s*(?:\d{1,4}|[（(]\s*\d{1,4}\s*[）)]|[A-HＡ-Ｈ])\s*[．.、:：]?\s*))\*\*")
_BOLD_MARK = re.compile(r"\*\*\s*(【[^】]{1,8}】)\s*\*\*")


def _unbolded(text: str) -> str:
    """A paragraph with its bold question number, option letter and marks plain (Word banks bold them)."""
    return _BOLD_MARK.sub(r"\1", _BOLD_LEAD.sub(r"\1", text))


def _mark_word(name: str) -> str:
    return next(word for word, value in MARKS.items() if value == name)


def _split_marks(text: str) -> list[tuple[str, str]]:
    """("", text before the first mark), then (field, text) for each mark in the paragraph."""
    bare = _BARE_MARK.match(text)
    if bare:
        text = f"【{bare[1]}】{text[bare.end() :]}"
    pieces: list[tuple[str, str]] = []
    start, name = 0, ""
    for found in _MARK.finditer(text):
        if _inside_math(text, found.start()):
            continue
        pieces.append((name, text[start : found.start()]))
        start, name = found.end(), MARKS[found[1]]
    pieces.append((name, text[start:]))
    return pieces


def _math_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _MATH.finditer(text)] if "$" in text else []


def _inside_math(text: str, at: int) -> bool:
    return any(start <= at < end for start, end in _math_spans(text))


def split_options(text: str, have: int) -> list[str] | None:
    """A line of options 「A．… B．…」 (letters going on from the `have` options before it), or None."""
    starts = _option_starts(text, have)
    if not starts or starts[0][0] != 0:
        return None
    return _option_texts(text, starts)


def _inline_options(text: str) -> tuple[str, list[str]] | None:
    """A stem with its options after it on the same line: (stem, options), or None."""
    starts = _option_starts(text, 0)
    if len(starts) < 2 or starts[0][0] == 0:
        return None
    options = _option_texts(text, starts)
    return (text[: starts[0][0]].rstrip(), options) if options else None


def _option_texts(text: str, starts: list[tuple[int, int]]) -> list[str] | None:
    ends = [start for start, _ in starts[1:]] + [len(text)]
    options = [text[begin:end].strip() for (_, begin), end in zip(starts, ends, strict=True)]
    return options if all(options) else None  # 「A、B 两点」 is a stem, not two empty options


def _option_starts(text: str, have: int) -> list[tuple[int, int]]:
    """Where each option's letter is and where its text begins, the letters in order from the `have`-th: at the
    line's start, after a space, or (with a full-width 「．」「、」「：」) right after Chinese text."""
    math = _math_spans(text)
    starts: list[tuple[int, int]] = []
    for found in _OPTION.finditer(text):
        at, wanted = found.start(), "ABCDEFGH"[have + len(starts) : have + len(starts) + 1]
        if not wanted or _letter(found[1]) != wanted or any(a <= at < b for a, b in math):
            continue
        before = text[at - 1] if at else ""
        if not before or before.isspace() or (found[2] in "．、：" and not before.isascii()):
            starts.append((at, found.end()))
    return starts


def _letter(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def drafts_report(unplaced: Sequence[Unplaced], file: str) -> list[str]:
    """One line per paragraph not placed: the file, its paragraph number, why, and its text (cut)."""
    lines = []
    for item in sorted(unplaced, key=lambda u: u.number):
        text = " ".join(item.text.split())
        shown = text if len(text) <= 40 else text[:40] + "…"
        if item.number:
            line = _("{file}: paragraph {number}: {reason}: {text}").format(
                file=file, number=item.number, reason=item.reason, text=shown
            )
        else:
            line = _("{file}: {reason}: {text}").format(file=file, reason=item.reason, text=shown)
        lines.append(line)
    return lines


def mark_of(draft: Draft, name: str) -> str:
    """A draft's text after one mark ('' when it has none)."""
    return draft.marks.get(name, "").strip()


def marks_in(drafts: Sequence[Draft]) -> Mapping[str, int]:
    """How many drafts carry each mark (for the report)."""
    counts: dict[str, int] = {}
    for draft in drafts:
        for name in draft.marks:
            counts[name] = counts.get(name, 0) + 1
    return counts
