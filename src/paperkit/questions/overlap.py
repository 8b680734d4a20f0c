"""When one item gives another away: shared knowledge points, and answer text shown by another item (pure).

The measure is character bigrams of the text a reader sees (formulas as their plain text, NFKC, case folded,
punctuation and spaces dropped). Item A's answer leaks into item B when

- a term answer (at most `TERM_CHARS` characters, at least `TERM_MIN_CHARS`) appears whole in B's stem or an
  option, or
- a longer answer (a keyed option, a true statement, a reference answer, a long blank) shares at least
  `LEAK_MIN_BIGRAMS` bigrams (all of its own, if it has fewer) with B's stem or one of B's options, and those
  make up at least `LEAK_RATIO` of the smaller of the two.

The thresholds were set on the five pairs a teacher found on the pre-rewrite bank's papers (2.4.q1/2.4.t2,
3.3.q1/3.3.c1, 2.5.q1/2.5.c1, 8.3.q2/8.3.c2, 3.3.q2/3.3.f1 score 0.90, 0.86, 0.78, 0.72 and 0.40);
tests/test_overlap.py keeps them caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from paperkit.content.validate import knowledge_point
from paperkit.i18n import _
from paperkit.questions.bank import Question
from paperkit.questions.kind import Item
from paperkit.questions.registry import kind_of
from paperkit.text.markup import plain_text

LEAK_RATIO = 0.4
LEAK_MIN_BIGRAMS = 8
TERM_CHARS = 4  # a normalised answer this short is a term: it leaks when it appears whole
TERM_MIN_CHARS = 3  # shorter terms (位置, 64) are too common to mean anything when they recur
DUPLICATE_RATIO = 0.5  # near-duplicate items: this share of the smaller item's bigrams in the other
DUPLICATE_MIN_BIGRAMS = 10

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


@lru_cache(maxsize=8192)
def normal(text: str) -> str:
    """A text as compared: what a reader sees, width-folded, case-folded, without spaces or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", plain_text(text)).casefold())


@lru_cache(maxsize=8192)
def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of a text's normal form."""
    seen = normal(text)
    return frozenset(seen[i : i + 2] for i in range(len(seen) - 1))


def overlap(a: str, b: str) -> tuple[int, float]:
    """Shared bigrams of two texts, and their share of the smaller text's bigrams."""
    first, second = bigrams(a), bigrams(b)
    shared = len(first & second)
    smaller = min(len(first), len(second))
    return shared, (shared / smaller if smaller else 0.0)


def leaked(answer: str, shown: str) -> bool:
    """Whether `shown` (a stem or an option) gives `answer` away."""
    term = normal(answer)
    if len(term) <= TERM_CHARS:
        return len(term) >= TERM_MIN_CHARS and term in normal(shown)
    shared, share = overlap(answer, shown)
    return shared >= min(LEAK_MIN_BIGRAMS, len(bigrams(answer))) and share >= LEAK_RATIO


def leak(source: Item, container: Item) -> str | None:
    """The answer text of `source` that `container` shows a student (a 组合题's sub-question shows its group's
    stem too), or None."""
    shown = kind_of(container.kind).shown_texts(container)
    if container.group is not None:
        shown = (*shown, container.group.q)
    return leak_texts(kind_of(source.kind).answer_texts(source), shown)


def leak_texts(answers: Sequence[str], shown: Sequence[str]) -> str | None:
    """leak on texts already taken from the items (answer_texts, shown_texts), for a caller comparing many pairs."""
    for answer in answers:
        if any(leaked(answer, text) for text in shown):
            return answer
    return None


def item_text(item: Item) -> str:
    """An item's stem and answers in one text, for near-duplicate comparison."""
    return " ".join((item.q, *kind_of(item.kind).answer_texts(item)))


def near_duplicate(a: Item, b: Item) -> float | None:
    """The share of the smaller item's text found in the other, when they are near-duplicates; else None."""
    return near_duplicate_text(item_text(a), item_text(b))


def near_duplicate_text(a: str, b: str) -> float | None:
    """near_duplicate on two items' texts (item_text), for a caller comparing many pairs."""
    shared, share = overlap(a, b)
    return share if shared >= DUPLICATE_MIN_BIGRAMS and share >= DUPLICATE_RATIO else None


def points_of(question: Question) -> frozenset[str]:
    """The knowledge points an item tests, each as `<section>/<list><n>` (2.1/k2), whatever way it was written."""
    keys = set()
    for reference in question.item.tests:
        point = knowledge_point(reference, question.section_id)
        if point is not None:
            section, field_name, number = point
            keys.add(f"{section}/{field_name}{number}")
    return frozenset(keys)


def clash(a: Question, b: Question) -> str | None:
    """Why two items may not share a paper (they test one knowledge point; one shows the other's answer), or None."""
    shared = points_of(a) & points_of(b)
    if shared:
        return _("both test {point}").format(point=min(shared))
    for source, container in ((a, b), (b, a)):
        answer = leak(source.item, container.item)
        if answer is not None:
            return _("{item} shows the answer of {other}").format(item=container.id, other=source.id)
    return None
