"""`paperkit bank check`: the question bank against the item-writing rules, as located findings (pure).

Each finding names a rule of docs/item-writing.md that a reader could check by hand: cues a test-wise student
uses (the longest option, absolute words, lopsided keys), items that give each other away, and what an item
must carry (difficulty, the points it tests, a rubric). Item rules look at one item; pool rules at a module's
practice items or its held-back items (a paper draws from one pool); pair rules at two items. Every threshold
is in `Thresholds`. The whole rule set is one module (about 480 lines) on purpose: `RULES`, the thresholds and
the rules that read them are reviewed together when a rule changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

from paperkit.content.models import Handbook, Module
from paperkit.i18n import N_, _
from paperkit.questions.kind import LETTERS, Item
from paperkit.questions.overlap import item_text, leak_texts, near_duplicate_text, normal
from paperkit.questions.registry import as_item, kind_of
from paperkit.text.markup import plain_text


@dataclass(frozen=True)
class Thresholds:
    """Every number a rule compares against, in one place."""

    longest_ratio: float = 1.25  # the key is the uniquely longest option, at least this much longer than the next
    longest_share: float = 0.40  # a pool whose keys are the uniquely longest option more often than this (chance: 1/4)
    key_spread: float = 0.10  # letters: the most and least used key letter differ by more than max(2, this × n)
    truth_spread: float = 0.20  # 判断: true and false counts differ by more than max(2, this × n)
    multi_letter_share: float = 0.75  # one letter keyed correct in more than this share of the multi items
    multi_most: int = 4  # a multi item has 2 … this many correct options
    rubric_total: int = 10  # a rubric adds up to the item's points, or to this when the item sets none
    min_pool: int = 6  # pool statistics need at least this many items
    mirror_share: float = 0.8  # options sharing this share of their words (characters, Latin words) are mirrors
    mirror_min_tokens: int = 8  # … when the shorter has at least this many


THRESHOLDS = Thresholds()

RULES: dict[str, str] = {
    "longest-option": N_("the key is the uniquely longest option (a test-wise student picks it)"),
    "longest-share": N_("in a pool, the key is the uniquely longest option far more often than chance"),
    "absolute-word": N_("a false 判断 statement carries an absolute word (一定, 只要…就, 唯一…) that marks it false"),
    "key-balance": N_("a pool's choice keys favour some letters"),
    "truth-balance": N_("a pool's 判断 items are mostly true or mostly false"),
    "multi-count": N_("a multi item has fewer than 2 or more than 4 correct options"),
    "multi-spread": N_("a pool's multi items all have the same number of correct options"),
    "multi-letter": N_("one letter is correct in most multi items"),
    "mirror-pair": N_("the key and one distractor are mirror images (roles swapped, one word flipped)"),
    "near-duplicate": N_("two items ask the same thing (across modules, or a held-back item and another item)"),
    "answer-leak": N_("a held-back item shows the answer of another held-back item"),
    "section-reference": N_("the stem refers to 本节/本章/上文 instead of naming the topic"),
    "negative-unmarked": N_("a negative stem (不正确, 错误, 不属于…) without the negative word in bold"),
    "stem-ending": N_("the stem ends unlike the other stems of its kind"),
    "missing-difficulty": N_("the item has no difficulty (易/中/难)"),
    "missing-tests": N_("the item names no knowledge point (tests: k1, tip1, pit1)"),
    "missing-rubric": N_("a short-answer item without 给分点 (rubric)"),
    "rubric-total": N_("the rubric does not add up to the item's points (10 when it sets none)"),
}

ABSOLUTE_WORDS = (
    "一定",
    "总是",
    "始终",
    "只要",
    "完全",
    "唯一",
    "无需",
    "不需要",
    "自动",
    "足以",
    "所有",
    "任何",
    "从不",
    "永远",
    "必须",
    "绝对",
    "必然",
    "只能",
    "彻底",
    "全部",
    "充分",
    "只需",
    "就能",
    "就可以",
    "就意味着",
    "越多",
    "越大",
    "越强",
    "不再",
    "都可以",
    "尽可能",
)
SECTION_WORDS = re.compile(r"本节|本章|上文|(?<!上)下文|本模块|本单元|本文")
NEGATIVE_WORDS = ("不正确", "错误", "不属于", "不包括", "不是", "不能", "不可以", "不应", "不会", "不需要", "不恰当")


@dataclass(frozen=True, order=True)
class Finding:
    """One rule broken: where (file and line), by what (an item id or a pool), which rule, and what was seen."""

    file: str
    line: int
    subject: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.subject}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class Entry:
    """An item of the bank with its module and whether it is held back for exams."""

    item: Item
    module: Module
    section_id: str
    worked: bool = False  # a worked example of the handbook (its text is the handbook's, not the bank's)

    @property
    def held(self) -> bool:
        """Held back for exams (use: exam); else printed in the handbook as practice."""
        return self.item.use == "exam"

    @property
    def pool(self) -> str:
        """The pool a paper draws it from."""
        return "held back" if self.held else "practice"


def entries(handbook: Handbook) -> list[Entry]:
    """Every item of the handbook in order: each section's worked examples, then its exercises."""
    return [
        entry
        for module in handbook.modules
        for section in module.sections
        for entry in (
            *(Entry(as_item(e), module, section.id, worked=True) for e in section.examples),
            *(Entry(x, module, section.id) for x in section.exercises),
        )
    ]


def _at(entry: Entry, rule: str, message: str, field: str = "id") -> Finding:
    origin = entry.item.origin
    return Finding(origin.file, origin.line_of(field), entry.item.id, rule, message)


def _width(text: str) -> float:
    """About how wide an option prints, which is what a reader compares: CJK square, Latin and math half."""
    shown = re.sub(r"\s+", "", plain_text(text))
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in shown)


def _keyed(item: Item) -> set[int]:
    return {LETTERS.index(ch) for ch in item.answer.upper() if ch in LETTERS[: len(item.options)]}


# -- rules on one item ---------------------------------------------------------------------------------------


def _longest_option(entry: Entry, limits: Thresholds) -> Iterator[Finding]:
    item = entry.item
    if not item.options:
        return
    keyed = _keyed(item)
    widths = [_width(o) for o in item.options]
    if item.kind == "choice" and len(keyed) == 1:
        key = next(iter(keyed))
        others = [w for i, w in enumerate(widths) if i != key]
        if others and widths[key] >= limits.longest_ratio * max(others) and widths[key] > max(others):
            yield _at(
                entry,
                "longest-option",
                _(
                    "the key {letter} is the longest option ({width:.0f} characters wide, the next "
                    "{next:.0f}: {ratio:.2f}×)"
                ).format(letter=LETTERS[key], width=widths[key], next=max(others), ratio=widths[key] / max(others)),
                "options",
            )
    elif keyed and len(keyed) < len(item.options):
        shortest_key = min(widths[i] for i in keyed)
        longest_other = max(w for i, w in enumerate(widths) if i not in keyed)
        if shortest_key >= limits.longest_ratio * longest_other:
            yield _at(
                entry,
                "longest-option",
                _("every correct option is longer than every wrong one ({right:.0f} vs {wrong:.0f} wide)").format(
                    right=shortest_key, wrong=longest_other
                ),
                "options",
            )


def _key_longest(item: Item) -> bool:
    keyed = _keyed(item)
    if len(keyed) != 1:
        return False
    widths = [_width(o) for o in item.options]
    key = next(iter(keyed))
    return all(widths[key] > w for i, w in enumerate(widths) if i != key)


def _absolute_word(entry: Entry) -> Iterator[Finding]:
    item = entry.item
    if item.kind != "truefalse" or item.answer.lower() != "false":
        return
    found = [word for word in ABSOLUTE_WORDS if word in plain_text(item.q)]
    if found:
        yield _at(
            entry,
            "absolute-word",
            _("a false statement with {words}; state the real condition").format(words="、".join(found)),
            "q",
        )


def _multi_count(entry: Entry, limits: Thresholds) -> Iterator[Finding]:
    item = entry.item
    if item.kind != "multi":
        return
    count = len(_keyed(item))
    if not 2 <= count <= limits.multi_most:
        yield _at(
            entry,
            "multi-count",
            _("{count} correct options; write 2–{most}").format(count=count, most=limits.multi_most),
            "answer",
        )


_TOKEN = re.compile(r"[a-z0-9]+|[^a-z0-9]")


def _mirrored(a: str, b: str, limits: Thresholds) -> bool:
    """Whether two options say the same words in another arrangement (roles swapped, one word flipped)."""
    first, second = Counter(_TOKEN.findall(normal(a))), Counter(_TOKEN.findall(normal(b)))
    smaller = min(sum(first.values()), sum(second.values()))
    if smaller < limits.mirror_min_tokens or (first == second and normal(a) == normal(b)):
        return False
    return sum((first & second).values()) >= limits.mirror_share * smaller


def _mirror_pair(entry: Entry, limits: Thresholds) -> Iterator[Finding]:
    item = entry.item
    keyed = _keyed(item)
    for key in sorted(keyed):
        # One mirrored distractor is a cue (keep one of the two); options that are all rearrangements are not.
        mirrors = [
            o for o in range(len(item.options)) if o != key and _mirrored(item.options[key], item.options[o], limits)
        ]
        if len(mirrors) == 1 and mirrors[0] not in keyed:
            yield _at(
                entry,
                "mirror-pair",
                _(
                    "option {key} (the key) and {other} are mirror images (roles swapped or a word "
                    "flipped); a student keeps one of the two"
                ).format(key=LETTERS[key], other=LETTERS[mirrors[0]]),
                "options",
            )


def _section_reference(entry: Entry) -> Iterator[Finding]:
    found = sorted(set(SECTION_WORDS.findall(entry.item.q)))
    if found:
        yield _at(
            entry,
            "section-reference",
            _("the stem says {words}; name the topic instead").format(words="、".join(found)),
            "q",
        )


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _negative_unmarked(entry: Entry) -> Iterator[Finding]:
    item = entry.item
    if not item.options:
        return
    bare = _BOLD.sub("", item.q)
    found = [word for word in NEGATIVE_WORDS if word in bare]
    if found:
        yield _at(
            entry,
            "negative-unmarked",
            _("{words} in the stem; set it in bold: **{word}**").format(words="、".join(found), word=found[0]),
            "q",
        )


def _ending(text: str) -> str:
    shown = plain_text(text).rstrip()
    last = shown[-1:] if shown else ""
    return {"？": "？", "?": "？", "。": "。", ".": "。", "：": "：", ":": "："}.get(last, "open")


ENDING_NAMES = {"？": N_("a question mark"), "。": N_("a full stop"), "：": N_("a colon"), "open": N_("no punctuation")}


def _stem_endings(entries_: Sequence[Entry]) -> dict[str, str]:
    """The usual ending of each kind's stems in the bank (the most common one)."""
    by_kind: dict[str, Counter[str]] = {}
    for entry in entries_:
        by_kind.setdefault(entry.item.kind, Counter())[_ending(entry.item.q)] += 1
    return {kind: counts.most_common(1)[0][0] for kind, counts in by_kind.items()}


def _stem_ending(entry: Entry, usual: dict[str, str]) -> Iterator[Finding]:
    ending = _ending(entry.item.q)
    expected = usual.get(entry.item.kind, ending)
    if ending != expected:
        yield _at(
            entry,
            "stem-ending",
            _("ends with {ending}; the bank's {kind} stems end with {usual}").format(
                ending=_(ENDING_NAMES[ending]), kind=entry.item.kind, usual=_(ENDING_NAMES[expected])
            ),
            "q",
        )


def _carries(entry: Entry, limits: Thresholds) -> Iterator[Finding]:
    item = entry.item
    if not item.difficulty:
        yield _at(entry, "missing-difficulty", _("add difficulty: 易, 中 or 难"))
    if not item.tests:
        yield _at(entry, "missing-tests", _("add tests: the knowledge point it tests (k1 = 你需要掌握 1, tip1, pit1)"))
    if item.kind == "short":
        if not item.rubric:
            yield _at(entry, "missing-rubric", _("add a rubric: 2–4 给分点 a marker can tick"))
        else:
            total = sum(p.points for p in item.rubric)
            expected = item.points if item.points is not None else limits.rubric_total
            if total != expected:
                yield _at(
                    entry,
                    "rubric-total",
                    _("the 给分点 add up to {total}, expected {expected}").format(total=total, expected=expected),
                    "rubric",
                )


def item_findings(entry: Entry, usual: dict[str, str], limits: Thresholds) -> list[Finding]:
    """Every item rule on one item."""
    return [
        *_longest_option(entry, limits),
        *_absolute_word(entry),
        *_multi_count(entry, limits),
        *_mirror_pair(entry, limits),
        *_section_reference(entry),
        *_negative_unmarked(entry),
        *_stem_ending(entry, usual),
        *_carries(entry, limits),
    ]


# -- rules on a pool (one module's practice items, or its held-back items) -----------------------------------


def _pool_at(module: Module, pool: str, rule: str, message: str) -> Finding:
    return Finding(module.origin.file, module.origin.line_of("id"), f"module {module.id} ({pool})", rule, message)


def _spread_limit(share: float, count: int) -> int:
    return max(2, math.ceil(share * count))


def pool_findings(module: Module, pool: str, members: Sequence[Entry], limits: Thresholds) -> list[Finding]:
    """The pool rules on one module's items of one pool."""
    found: list[Finding] = []
    choice = [e.item for e in members if e.item.kind == "choice"]
    if len(choice) >= limits.min_pool:
        longest = sum(_key_longest(item) for item in choice)
        if longest > limits.longest_share * len(choice):
            found.append(
                _pool_at(
                    module,
                    pool,
                    "longest-share",
                    _(
                        "the key is the uniquely longest option in {count} of {items} choice items "
                        "(chance about {chance:.0f})"
                    ).format(count=longest, items=len(choice), chance=len(choice) / 4),
                )
            )
    if len(choice) >= 4:
        letters = Counter(item.answer.upper() for item in choice)
        counts = [letters.get(letter, 0) for letter in "ABCD"]
        if max(counts) - min(counts) > _spread_limit(limits.key_spread, len(choice)):
            shown = " · ".join(f"{letter} {count}" for letter, count in zip("ABCD", counts, strict=True))
            found.append(
                _pool_at(
                    module,
                    pool,
                    "key-balance",
                    _("choice keys {counts} ({items} items)").format(counts=shown, items=len(choice)),
                )
            )
    truefalse = [e.item for e in members if e.item.kind == "truefalse"]
    if len(truefalse) >= 2:
        true = sum(item.answer.lower() == "true" for item in truefalse)
        false = len(truefalse) - true
        if abs(true - false) > _spread_limit(limits.truth_spread, len(truefalse)):
            found.append(
                _pool_at(
                    module,
                    pool,
                    "truth-balance",
                    _("判断 items: {true} true, {false} false").format(true=true, false=false),
                )
            )
    multi = [e.item for e in members if e.item.kind == "multi"]
    if len(multi) >= 2 and len({len(_keyed(item)) for item in multi}) == 1:
        found.append(
            _pool_at(
                module,
                pool,
                "multi-spread",
                _("all {items} multi items have {count} correct options; vary the count").format(
                    items=len(multi), count=len(_keyed(multi[0]))
                ),
            )
        )
    return found


def letter_findings(pool: str, members: Sequence[Entry], limits: Thresholds, source: str) -> list[Finding]:
    """The bank rule on the multi items of one pool: no letter correct in most of them."""
    multi = [e.item for e in members if e.item.kind == "multi"]
    if len(multi) < limits.min_pool:
        return []
    counts = Counter(letter for item in multi for letter in item.answer.upper())
    return [
        Finding(
            source,
            0,
            f"bank ({pool})",
            "multi-letter",
            _("{letter} is correct in {count} of {items} multi items").format(
                letter=letter, count=count, items=len(multi)
            ),
        )
        for letter, count in sorted(counts.items())
        if count > limits.multi_letter_share * len(multi)
    ]


# -- rules on two items ----------------------------------------------------------------------------------------


def _duplicate_pairs(chosen: Sequence[Entry], every: Sequence[Entry]) -> Iterator[Finding]:
    position = {id(e): n for n, e in enumerate(every)}
    checked = {id(e) for e in chosen}
    texts = {id(e): item_text(e.item) for e in every}  # each item's text once, not once per pair
    for entry in chosen:
        for other in every:
            if other is entry:
                continue
            same_module = other.module.id == entry.module.id
            # Within a module, practice items restate the worked examples on purpose; a held-back item must not.
            if (same_module and not (entry.held or other.held)) or (entry.worked and other.worked):
                continue
            # Report each pair once, at the later item (or at the chosen one when the other is not checked).
            if position[id(other)] > position[id(entry)] and id(other) in checked:
                continue
            share = near_duplicate_text(texts[id(entry)], texts[id(other)])
            if share is not None:
                where = f"{other.item.origin.file}:{other.item.origin.line_of('id')}"
                yield _at(
                    entry,
                    "near-duplicate",
                    _("{share:.0%} of it is in {item} ({where}); make one of them test something else").format(
                        share=share, item=other.item.id, where=where
                    ),
                )


def _leak_pairs(chosen: Sequence[Entry], every: Sequence[Entry]) -> Iterator[Finding]:
    held = [e for e in every if e.held]
    answers = {id(e): kind_of(e.item.kind).answer_texts(e.item) for e in held}
    visible = {id(e): kind_of(e.item.kind).shown_texts(e.item) for e in held}
    for container in (e for e in chosen if e.held):
        for source in held:
            if source is container:
                continue
            answer = leak_texts(answers[id(source)], visible[id(container)])
            if answer is not None:
                shown = plain_text(answer)
                shown = shown if len(shown) <= 24 else shown[:23] + "…"
                yield _at(
                    container,
                    "answer-leak",
                    _("shows the answer of {item}: 「{answer}」").format(item=source.item.id, answer=shown),
                    "q",
                )


# -- the whole check -------------------------------------------------------------------------------------------


def check_bank(
    handbook: Handbook, modules: Iterable[int] | None = None, limits: Thresholds = THRESHOLDS
) -> list[Finding]:
    """Every finding on the bank (or on the given modules' items), sorted by file and line."""
    every = entries(handbook)
    wanted = set(modules) if modules is not None else {m.id for m in handbook.modules}
    chosen = [e for e in every if e.module.id in wanted]
    usual = _stem_endings(every)
    found: list[Finding] = []
    for entry in chosen:
        found.extend(item_findings(entry, usual, limits))
    for module in handbook.modules:
        if module.id not in wanted:
            continue
        for held in (False, True):
            members = [e for e in chosen if e.module.id == module.id and e.held == held]
            found.extend(pool_findings(module, "held back" if held else "practice", members, limits))
    if modules is None:
        for held in (False, True):
            found.extend(
                letter_findings(
                    "held back" if held else "practice", [e for e in every if e.held == held], limits, handbook.source
                )
            )
    found.extend(_duplicate_pairs(chosen, every))
    found.extend(_leak_pairs(chosen, every))
    return sorted(found)


def summary(findings: Sequence[Finding]) -> list[tuple[str, int, str]]:
    """One row per rule: its name, how many findings, what it checks."""
    counts = Counter(f.rule for f in findings)
    return [(rule, counts.get(rule, 0), _(text)) for rule, text in RULES.items()]


def as_json(findings: Sequence[Finding], checked: int, limits: Thresholds = THRESHOLDS) -> dict[str, object]:
    """The findings, the summary and the thresholds as plain data (for --json)."""
    return {
        "items": checked,
        "findings": [asdict(f) for f in findings],
        "summary": {rule: count for rule, count, _ in summary(findings)},
        "thresholds": asdict(limits),
    }
