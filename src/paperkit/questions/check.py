"""Every exam item against its kind, `follows` chains and 组合题 groups, as located problems (pure)."""

from __future__ import annotations

from paperkit.content.models import Exercise, Group, Handbook
from paperkit.content.validate import located
from paperkit.errors import Problem
from paperkit.i18n import _
from paperkit.questions.kind import Item
from paperkit.questions.registry import as_item, check_item


def check_items(handbook: Handbook) -> list[Problem]:
    """Every item against its kind, and `follows` chains: known ids of the module, one kind, no cycles."""
    problems: list[Problem] = []
    for module in handbook.modules:
        every = [item for section in module.sections for item in (*map(as_item, section.examples), *section.exercises)]
        # By id for `follows` (the first of a duplicated id: the duplicate is check_ids' problem). Every item is
        # checked, though: keyed by id alone, a duplicated id hid the first item's own problems.
        items: dict[str, Item] = {}
        for item in every:
            items.setdefault(item.id, item)
        followed: dict[str, str] = {}
        for item in every:
            problems.extend(located(item.origin, name, message) for name, message in check_item(item))
            if item.group is not None and item.sub == 1:
                problems.extend(_check_group(item.group, [x for x in every if x.group is item.group]))
            if not item.follows:
                continue
            if item.material:
                problems.append(
                    located(
                        item.origin,
                        "material",
                        _("a 材料 goes on the first item of its chain, not on one that follows {item}").format(
                            item=item.follows
                        ),
                    )
                )
            if item.follows in followed:
                problems.append(
                    located(
                        item.origin,
                        "follows",
                        _("'{item}' is already followed by '{other}'").format(
                            item=item.follows, other=followed[item.follows]
                        ),
                    )
                )
            followed.setdefault(item.follows, item.id)
            before = items.get(item.follows)
            if before is None:
                problems.append(
                    located(
                        item.origin,
                        "follows",
                        _("no item '{item}' in module {module}").format(item=item.follows, module=module.id),
                    )
                )
            elif before.group is not None:
                problems.append(
                    located(
                        item.origin,
                        "follows",
                        _("'{item}' is a sub-question of group '{group}'; an item cannot follow it").format(
                            item=item.follows, group=before.group.id
                        ),
                    )
                )
            elif before.kind != item.kind:
                problems.append(
                    located(
                        item.origin,
                        "follows",
                        _("'{item}' is a {kind} item; a chain keeps one kind").format(
                            item=item.follows, kind=before.kind
                        ),
                    )
                )
            elif _in_cycle(item.id, items):
                problems.append(
                    located(
                        item.origin,
                        "follows",
                        _("'{item}' follows itself through {other}").format(item=item.id, other=item.follows),
                    )
                )
    return problems


GROUP_FIELDS = ("id", "kind", "q", "parts", "points", "difficulty", "tests", "use")


def _check_group(group: Group, parts: list[Exercise]) -> list[Problem]:
    """A 组合题's own fields: only those a group takes, two parts or more, its points the sum of theirs."""
    given = {name.split("[", 1)[0] for name in group.origin.lines}
    problems = [
        located(
            group.origin,
            name,
            _("not used by kind group (it takes {fields})").format(fields=", ".join(GROUP_FIELDS)),
        )
        for name in sorted(given - set(GROUP_FIELDS))
    ]
    if group.size < 2:
        problems.append(
            located(group.origin, "parts", _("a group needs two sub-questions or more; one question needs no group"))
        )
    if group.points is not None:
        written = [x.points for x in parts if x.points is not None]
        if len(written) == len(parts) and sum(written) != group.points:
            problems.append(
                located(
                    group.origin,
                    "points",
                    _("its parts' points add up to {sum}, not {points}; give one or make them agree").format(
                        sum=sum(written), points=group.points
                    ),
                )
            )
        elif group.points < len(parts):
            problems.append(
                located(
                    group.origin,
                    "points",
                    _("{points} points cannot be shared by {count} sub-questions (1 each at least)").format(
                        points=group.points, count=len(parts)
                    ),
                )
            )
    return problems


def _in_cycle(start: str, items: dict[str, Exercise]) -> bool:
    seen, current = set(), start
    while current in items and items[current].follows:
        if current in seen:
            return start in seen
        seen.add(current)
        current = items[current].follows
    return False
