"""The registry of question kinds, in the order their parts appear on a paper, and what every item shares.

The worked examples of a handbook are items of `WORKED`; a paper without typed parts (`--parts`) draws items
of that kind too. Tests may `register` a kind of their own: it then goes through every kind-generic path.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from paperkit.content.models import Example, Exercise
from paperkit.i18n import _
from paperkit.questions.choice import CHOICE, MULTI
from paperkit.questions.fill import FILL
from paperkit.questions.group import GROUP, GROUP_KIND
from paperkit.questions.kind import Item, Kind
from paperkit.questions.short import SHORT
from paperkit.questions.truefalse import TRUEFALSE

_REGISTERED: dict[str, Kind] = {kind.name: kind for kind in (CHOICE, MULTI, TRUEFALSE, FILL, SHORT)}
KINDS: Mapping[str, Kind] = MappingProxyType(_REGISTERED)  # a live, read-only view of the registry
_GROUPED = {GROUP_KIND: GROUP}  # what a paper's part may be beyond the item kinds: a 组合题
WORKED = SHORT  # the kind of a worked example, and of a paper without typed parts

DIFFICULTIES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "易": 2, "中": 3, "难": 4}
COMMON_FIELDS = ("id", "kind", "q", "tests", "use", "material")
USES = ("practice", "exam")


def register(kind: Kind) -> None:
    """Add a kind (its parts come after the registered ones); a name already taken is a ValueError."""
    if kind.name in _REGISTERED:
        raise ValueError(f"a kind named {kind.name} is registered already")
    _REGISTERED[kind.name] = kind


def unregister(name: str) -> None:
    """Remove a kind a test registered."""
    _REGISTERED.pop(name, None)


def kind_of(name: str) -> Kind:
    """The registered kind of this name, or the group part (a KeyError is a bug: loading accepts only these)."""
    return _REGISTERED[name] if name in _REGISTERED else _GROUPED[name]


def part_kinds() -> tuple[str, ...]:
    """What a blueprint's part may draw, in paper order: every registered kind, then 组合题."""
    return (*_REGISTERED, *_GROUPED)


def as_item(example: Example) -> Item:
    """A worked example as the short-answer item it is."""
    return Exercise(
        id=example.id,
        kind=WORKED.name,
        q=example.q,
        a=example.a,
        rubric=example.rubric,
        points=example.points,
        difficulty=example.difficulty,
        lines=example.lines,
        tests=example.tests,
        origin=example.origin,
    )


def check_item(item: Item) -> list[tuple[str, str]]:
    """Every problem of one item as (field, message): its kind, the fields its kind uses, the kind's own check."""
    kind = _REGISTERED.get(item.kind)
    if item.kind == GROUP_KIND:  # the loader makes a group's parts its items: here, a group with no parts
        where = _("a sub-question cannot be a group") if item.group else _("missing: a group's sub-questions")
        return [("parts", where)]
    if kind is None:
        return [
            (
                "kind",
                _("unknown kind '{kind}'; expected one of {kinds}").format(
                    kind=item.kind, kinds=", ".join(part_kinds())
                ),
            )
        ]
    given = {name.split("[", 1)[0] for name in item.origin.lines}
    problems = [
        (
            name,
            _("not used by kind {kind} (it takes {fields})").format(
                kind=item.kind, fields=", ".join((*COMMON_FIELDS, *kind.allowed))
            ),
        )
        for name in sorted(given - set(COMMON_FIELDS) - set(kind.allowed))
    ]
    problems += [
        (name, _("missing (required field for kind {kind})").format(kind=item.kind))
        for name in kind.required
        if name not in given
    ]
    if item.difficulty and item.difficulty not in DIFFICULTIES:
        problems.append(("difficulty", _("expected 1–5 or 易/中/难, got '{value}'").format(value=item.difficulty)))
    if item.lines is not None and not 1 <= item.lines <= 30:
        problems.append(("lines", _("expected a whole number from 1 to 30, got {value}").format(value=item.lines)))
    if item.use not in USES:
        problems.append(
            ("use", _("expected practice or exam (held back for exams), got '{value}'").format(value=item.use))
        )
    if item.points is not None and item.points < 1:
        problems.append(("points", _("expected a whole number ≥ 1, got {value}").format(value=item.points)))
    return problems + kind.check(item)
