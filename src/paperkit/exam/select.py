"""Which items a paper asks: shares per module, SHA-256 ranks, `follows` chains kept whole, option orders.

No `hash()`, no global RNG and no `random.Random` (whose algorithms may change between Python versions): every
rank is the SHA-256 of `seed:variant:id`, so a seed gives the same paper on any machine, forever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from fractions import Fraction

from paperkit.content.models import Exercise
from paperkit.errors import UsageError
from paperkit.exam.options import PartSpec
from paperkit.questions.bank import Question
from paperkit.questions.kind import LETTERS
from paperkit.questions.registry import KINDS


def sort_key(seed: int, variant: str, question_id: str) -> str:
    """The SHA-256 hex digest of `seed:variant:id`: a question's rank, the same on every machine forever."""
    return hashlib.sha256(f"{seed}:{variant}:{question_id}".encode()).hexdigest()


def allocate(pools: Mapping[int, int], count: int) -> dict[int, int]:
    """Split `count` over modules in proportion to their pool sizes (largest remainder, each ≥1 if possible)."""
    order = list(pools)  # ties go to the module listed first
    total = sum(pools.values())
    if not 0 < count <= total:
        raise ValueError(f"count {count} outside 1..{total}")
    quota = {m: Fraction(count * pools[m], total) for m in order}
    shares = {m: int(quota[m]) for m in order}
    left = count - sum(shares.values())
    by_remainder = sorted(order, key=lambda m: (-(quota[m] - shares[m]), -pools[m], order.index(m)))
    for m in by_remainder[:left]:
        shares[m] += 1
    # A module whose quota is under one question still gets one, taken from the most over-served module.
    nonempty = [m for m in order if pools[m] > 0]
    if count >= len(nonempty):
        for needy in sorted((m for m in nonempty if shares[m] == 0), key=lambda m: (-quota[m], order.index(m))):
            donor = max(
                (m for m in order if shares[m] > 1),
                key=lambda m: (shares[m] - quota[m], shares[m], -order.index(m)),
            )
            shares[donor] -= 1
            shares[needy] += 1
    return shares


def select_questions(pools: Mapping[int, Sequence[str]], count: int, seed: int, variant: str) -> list[str]:
    """Question ids for one variant: each module's share of its lowest sort keys, modules in the given order."""
    shares = allocate({m: len(ids) for m, ids in pools.items()}, count)
    chosen: list[str] = []
    for module, ids in pools.items():
        ranked = sorted(ids, key=lambda qid: (sort_key(seed, variant, qid), qid))
        chosen.extend(ranked[: shares[module]])
    return chosen


Unit = tuple[str, ...]  # items drawn together: a `follows` chain in order, or one item


def units(items: Sequence[Question]) -> list[Unit]:
    """Items grouped into units: each `follows` chain (validated: one kind, one module, no cycles) head first."""
    ids = {q.id for q in items}
    after = {q.item.follows: q.id for q in items if q.item.follows in ids}
    grouped: list[Unit] = []
    for q in items:
        if q.item.follows in ids:
            continue
        chain = [q.id]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        grouped.append(tuple(chain))
    return grouped


def _pick(ranked: Sequence[Unit], target: int) -> list[Unit]:
    """The earliest-ranked units whose sizes add up to as much of `target` as any selection can (exactly, if
    possible): take each unit in rank order if the units after it can still complete the sum."""
    after: list[set[int]] = [set() for _ in range(len(ranked) + 1)]
    after[-1] = {0}
    for index in range(len(ranked) - 1, -1, -1):
        size = len(ranked[index])
        after[index] = after[index + 1] | {s + size for s in after[index + 1] if s + size <= target}
    need = max(after[0])
    chosen: list[Unit] = []
    for index, unit in enumerate(ranked):
        if len(unit) <= need and need - len(unit) in after[index + 1]:
            chosen.append(unit)
            need -= len(unit)
    return chosen


def select_units(pools: Mapping[int, Sequence[Unit]], count: int, seed: int, variant: str) -> list[str]:
    """Like select_questions, over units: a chain is drawn whole and in order, ranked by its first item's key.

    Each module takes the earliest-ranked units that fill its share; what chains leave over is filled from
    the modules' remaining units. Without chains this is exactly select_questions.
    """
    shares = allocate({m: sum(map(len, pool)) for m, pool in pools.items()}, count)
    ranked = {m: sorted(pool, key=lambda u: (sort_key(seed, variant, u[0]), u[0])) for m, pool in pools.items()}
    chosen = {m: _pick(ranked[m], shares[m]) for m in pools}
    left = count - sum(len(u) for taken in chosen.values() for u in taken)
    for module in pools:
        if left:
            extra = _pick([u for u in ranked[module] if u not in chosen[module]], left)
            chosen[module] += extra
            left -= sum(map(len, extra))
    if left:
        raise UsageError(
            f"--parts: the follows chains of modules {', '.join(map(str, pools))} cannot make {count} items"
        )
    return [qid for m in pools for unit in ranked[m] if unit in chosen[m] for qid in unit]


def select_parts(
    pools: Mapping[str, Mapping[int, Sequence[Unit]]], parts: Sequence[PartSpec], seed: int, variant: str
) -> list[str]:
    """Item ids for a blueprint: each part drawn like a short-answer paper (stratified by module) from its kind."""
    chosen: list[str] = []
    for spec in parts:
        chosen.extend(select_units(pools[spec.kind], spec.count, seed, variant))
    return chosen


def reorder(question_ids: Sequence[str], bank: Mapping[str, Question], seed: int, variant: str) -> list[str]:
    """The same items in a variant's own order within each kind, chains kept whole (for --same-questions)."""
    ordered: list[str] = []
    for kind in KINDS:
        grouped = units([bank[q] for q in question_ids if bank[q].kind == kind])
        for unit in sorted(grouped, key=lambda u: (sort_key(seed, variant, u[0]), u[0])):
            ordered.extend(unit)
    return ordered


def shuffle_options(item: Exercise, seed: int, variant: str) -> tuple[int, ...]:
    """A variant's option order: the original index of each printed option; pinned options keep their place."""
    if not item.options:
        return ()
    pinned = {LETTERS.index(p.strip().upper()) for p in item.pinned}
    free = sorted(
        (i for i in range(len(item.options)) if i not in pinned),
        key=lambda i: sort_key(seed, variant, f"{item.id}#{i}"),
    )
    moving = iter(free)
    return tuple(i if i in pinned else next(moving) for i in range(len(item.options)))
