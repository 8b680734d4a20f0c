"""Which items a paper asks: shares per module, SHA-256 ranks, `follows` chains kept whole, option orders.

No `hash()`, no global RNG and no `random.Random` (whose algorithms may change between Python versions): every
rank is the SHA-256 of `seed:variant:id`, so a seed gives the same paper on any machine, forever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from paperkit.content.models import Exercise
from paperkit.errors import UsageError
from paperkit.exam.options import PartSpec
from paperkit.i18n import _
from paperkit.questions.bank import Question
from paperkit.questions.kind import LETTERS


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


def select_questions(
    pools: Mapping[int, Sequence[str]], count: int, seed: int, variant: str, paper: Paper | None = None
) -> list[str]:
    """Question ids for one variant: each module's share of its lowest sort keys that fit on the paper."""
    return select_units({m: [(q,) for q in ids] for m, ids in pools.items()}, count, seed, variant, paper)


Unit = tuple[str, ...]  # items drawn together: a `follows` chain in order, a 组合题's sub-questions, or one item
Size = Callable[[Unit], int]  # how many numbered questions a unit is (a 组合题 is one, whatever its parts)


def units(items: Sequence[Question]) -> list[Unit]:
    """Items grouped into units: each `follows` chain (validated: one kind, one module, no cycles) head first,
    each 组合题's sub-questions in order."""
    ids = {q.id for q in items}
    after = {q.item.follows: q.id for q in items if q.item.follows in ids}
    grouped: list[Unit] = []
    groups: dict[str, list[str]] = {}
    for q in items:
        if q.item.group is not None:
            if q.asked not in groups:
                groups[q.asked] = []
                grouped.append(())  # its place, filled below
            groups[q.asked].append(q.id)
            continue
        if q.item.follows in ids:
            continue
        chain = [q.id]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        grouped.append(tuple(chain))
    filled = iter(groups.values())
    return [unit or tuple(next(filled)) for unit in grouped]


Clash = Callable[[str, str], bool]  # whether two items may not share a paper
Balance = Callable[[str], str]  # an item's group, spread evenly over its part ('' = no group)


@dataclass
class Paper:
    """One paper's items as they are drawn, part by part, and what may not share it with them."""

    clash: Clash = field(default=lambda a, b: False)
    taken: list[str] = field(default_factory=list)

    def fits(self, unit: Unit, beside: Sequence[str] = ()) -> bool:
        """Whether a unit may join the paper (and the units drawn beside it): no item clashes with one there."""
        return not any(self.clash(a, b) for a in unit for b in (*self.taken, *beside))


def _reachable(sizes: Sequence[int], target: int) -> set[int]:
    sums = {0}
    for size in sizes:
        sums |= {s + size for s in sums if s + size <= target}
    return sums


def _pick(ranked: Sequence[Unit], target: int, fits: Callable[[Unit, list[str]], bool], size: Size = len) -> list[Unit]:
    """The earliest-ranked units that fit, adding up to as much of `target` as they can (exactly, if possible):
    each unit in rank order is taken if it fits beside those taken and the fitting units after it can still
    complete the sum."""
    chosen: list[Unit] = []
    ids: list[str] = []
    need = max(_reachable([size(u) for u in ranked if fits(u, ids)], target))
    for index, unit in enumerate(ranked):
        if not need:
            break
        if size(unit) > need or not fits(unit, ids):
            continue
        rest = [size(u) for u in ranked[index + 1 :] if fits(u, [*ids, *unit])]
        if need - size(unit) in _reachable(rest, need - size(unit)):
            chosen.append(unit)
            ids.extend(unit)
            need -= size(unit)
    return chosen


def select_units(
    pools: Mapping[int, Sequence[Unit]],
    count: int,
    seed: int,
    variant: str,
    paper: Paper | None = None,
    balance: Balance | None = None,
    what: str = "--count",
    size: Size = len,
) -> list[str]:
    """`count` item ids from the modules' units, stratified by module, each ranked by its SHA-256 key.

    Each module takes the earliest-ranked units that fill its share and fit on the paper (no clash with what it
    holds: the same knowledge point, an answer given away); what is left is filled from the modules' remaining
    units. A chain is drawn whole, ranked by its first item. With `balance`, no group (√ or ×) takes more than
    its even share of the part while the pool allows. `paper` gains the ids; too few is a UsageError on `what`.
    `count` and the shares count numbered questions (`size` of each unit): a 组合题 is one.
    """
    paper = paper if paper is not None else Paper()
    shares = allocate({m: sum(map(size, pool)) for m, pool in pools.items()}, count)
    ranked = {m: sorted(pool, key=lambda u: (sort_key(seed, variant, u[0]), u[0])) for m, pool in pools.items()}
    groups = {balance(qid) for pool in pools.values() for unit in pool for qid in unit} - {""} if balance else set()
    cap = -(-count // len(groups)) if groups else count
    chosen: dict[int, list[Unit]] = {m: [] for m in pools}

    def part() -> list[str]:
        return [qid for taken in chosen.values() for unit in taken for qid in unit]

    def asked() -> int:
        return sum(size(unit) for taken in chosen.values() for unit in taken)

    def fits(capped: bool) -> Callable[[Unit, list[str]], bool]:
        def check(unit: Unit, beside: list[str]) -> bool:
            drawn = [*part(), *beside]
            if not paper.fits(unit, drawn):
                return False
            if capped and balance is not None:
                for qid in unit:
                    group = balance(qid)
                    if group and sum(balance(other) == group for other in drawn) + 1 > cap:
                        return False
            return True

        return check

    for module in pools:
        chosen[module] = _pick(ranked[module], shares[module], fits(capped=True), size)
    for capped in (True, False):  # what shares left over, the pool's other units fill (unbalanced only if need be)
        for module in pools:
            left = count - asked()
            if left:
                unused = [u for u in ranked[module] if u not in chosen[module]]
                chosen[module] += _pick(unused, left, fits(capped), size)
    got = asked()
    if got < count:
        modules = ",".join(map(str, pools))
        raise UsageError(
            _(
                "{what}: modules {modules} give only {got} of {count} items that test different knowledge points and "
                "do not give each other's answers away; ask for fewer, add modules or draw from more items (--pool all)"
            ).format(what=what, modules=modules, got=got, count=count)
        )
    ids = [qid for m in pools for unit in ranked[m] if unit in chosen[m] for qid in unit]
    paper.taken.extend(ids)
    return ids


def select_parts(
    pools: Mapping[str, Mapping[int, Sequence[Unit]]],
    parts: Sequence[PartSpec],
    seed: int,
    variant: str,
    paper: Paper | None = None,
    balance: Mapping[str, Balance] | None = None,
    size: Size = len,
) -> list[str]:
    """Item ids for a blueprint: each part drawn (stratified by module) from its kind, none clashing with an
    item of an earlier part."""
    paper = paper if paper is not None else Paper()
    chosen: list[str] = []
    for spec in parts:
        spread = (balance or {}).get(spec.kind)
        # A kind's 选做题 or 附加题 draws from what its counted part left.
        left = {m: [u for u in pool if not set(u) & set(paper.taken)] for m, pool in pools[spec.kind].items()}
        chosen.extend(
            select_units(left, spec.count, seed, variant, paper, spread, what=f"--parts {spec.text}", size=size)
        )
    return chosen


def reorder(
    question_ids: Sequence[str], bank: Mapping[str, Question], seed: int, variant: str, counts: Sequence[int]
) -> list[str]:
    """The same items in a variant's own order within each part (`counts` numbered questions each, in paper
    order), chains and 组合题 kept whole (for --same-questions)."""
    ordered: list[str] = []
    start = 0
    for count in counts:
        taken = numbered_run(question_ids[start:], bank, count)
        grouped = units([bank[q] for q in question_ids[start : start + taken]])
        # 组合题 keep their order: every variant then has the same sub-questions in the same columns of the
        # score sheet (groups of different sizes, reordered, would shift them).
        if not any(bank[u[0]].item.group is not None for u in grouped):
            grouped.sort(key=lambda u: (sort_key(seed, variant, u[0]), u[0]))
        for unit in grouped:
            ordered.extend(unit)
        start += taken
    return ordered


def numbered_run(question_ids: Sequence[str], bank: Mapping[str, Question], count: int) -> int:
    """How many of the ids (in paper order) make their first `count` numbered questions: a 组合题's
    sub-questions count as one."""
    seen: list[str] = []
    for index, qid in enumerate(question_ids):
        asked = bank[qid].asked
        if asked not in seen:
            if len(seen) == count:
                return index
            seen.append(asked)
    return len(question_ids)


def shuffle_options(item: Exercise, seed: int, variant: str, key_at: int | None = None) -> tuple[int, ...]:
    """A variant's option order: the original index of each printed option; pinned options keep their place.

    With `key_at`, the keyed option (of a one-key item) is printed at that position when neither it nor that
    position is pinned; the other options keep their ranked order around it.
    """
    if not item.options:
        return ()
    pinned = {LETTERS.index(p.strip().upper()) for p in item.pinned}
    free = sorted(
        (i for i in range(len(item.options)) if i not in pinned),
        key=lambda i: sort_key(seed, variant, f"{item.id}#{i}"),
    )
    places = [i for i in range(len(item.options)) if i not in pinned]
    keyed = [LETTERS.index(ch) for ch in item.answer.strip().upper() if ch in LETTERS]
    if key_at is not None and len(keyed) == 1 and keyed[0] in free and key_at in places:
        free.remove(keyed[0])
        free.insert(places.index(key_at), keyed[0])
    moving = iter(free)
    return tuple(i if i in pinned else next(moving) for i in range(len(item.options)))


def balanced_orders(items: Sequence[Exercise], seed: int, variant: str) -> dict[str, tuple[int, ...]]:
    """Option orders for a paper's items whose key is one letter, spreading the printed keys evenly over the
    letters (deterministic from the seed: each letter is the key of ⌊n/k⌋ or ⌈n/k⌉ of n items with k options);
    items with several keyed options are shuffled as they are."""
    single = [item for item in items if item.options and len(item.answer.strip()) == 1]
    ranked = sorted(single, key=lambda item: (sort_key(seed, variant, f"{item.id}#key"), item.id))
    orders = {
        item.id: shuffle_options(item, seed, variant, key_at=n % len(item.options)) for n, item in enumerate(ranked)
    }
    orders.update(
        {item.id: shuffle_options(item, seed, variant) for item in items if item.options and item.id not in orders}
    )
    return orders
