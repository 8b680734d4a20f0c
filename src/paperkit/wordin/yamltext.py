"""Imported items as YAML text in the content format (pure): a new module file, or items inserted into a
section of an existing one with the rest of that file left as it is, byte for byte.

Every text is single-quoted (TeX, `: ` and ` #` stay text) or, when it holds line breaks, a `|-` block; no text
is ever double-quoted (YAML would read `\\f` in `$\\frac{1}{2}$` as an escape).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from paperkit.i18n import _
from paperkit.wordin.items import NewItem


class PlacementError(ValueError):
    """The section to append to cannot take items by inserting text (the message says why)."""


def scalar(text: str, indent: int) -> str:
    """A text as a YAML value after `key: ` (a block's lines indented `indent` + 2)."""
    if "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    lines = text.split("\n")
    pad = " " * (indent + 2)
    indicator = "2" if lines[0].startswith(" ") else ""  # a first line that starts with a space needs it
    return f"|{indicator}-\n" + "\n".join(pad + line if line.strip() else "" for line in lines)


def item_yaml(item: NewItem, indent: int) -> str:
    """One item as a list entry `- id: …` at `indent`."""
    lines = []
    for index, (name, value) in enumerate(item.fields):
        lead = " " * indent + ("- " if index == 0 else "  ")
        if isinstance(value, tuple):
            lines.append(f"{lead}{name}:")
            lines += [f"{' ' * (indent + 2)}- {scalar(entry, indent + 4)}" for entry in value]
        elif name == "kind":
            lines.append(f"{lead}{name}: {value}")
        else:
            lines.append(f"{lead}{name}: {scalar(value, indent + 2)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class NewSection:
    """A section of a new module: its id, title, overview, 你需要掌握 entries and items."""

    id: str
    title: str
    overview: str
    must_know: tuple[str, ...]
    items: tuple[NewItem, ...]


def module_yaml(module_id: int, title: str, objective: str, sections: Sequence[NewSection]) -> str:
    """A whole module file holding these sections."""
    lines = [
        f"id: {module_id}",
        f"title: {scalar(title, 0)}",
        f"objective: {scalar(objective, 0)}",
        "sections:",
    ]
    for section in sections:
        lines += [
            f"- id: '{section.id}'",
            f"  title: {scalar(section.title, 2)}",
            f"  overview: {scalar(section.overview, 2)}",
            "  must_know:",
            *(f"  - {scalar(point, 4)}" for point in section.must_know),
        ]
        if section.items:
            lines.append("  exercises:")
            lines += [item_yaml(item, 2) for item in section.items]
    return "\n".join(lines) + "\n"


def insert_items(text: str, section_id: str, items: Sequence[NewItem], must_know: Sequence[str] = ()) -> str:
    """`text` (a module file) with the items added after the last exercise of section `section_id` (or as its new
    `exercises:`), every other byte as it was."""
    root = yaml.compose(text)
    section = _section(root, section_id)
    if section is None:
        raise PlacementError(_("section {section} is not in this module").format(section=section_id))
    keys = {key.value: (key, value) for key, value in section.value if isinstance(key, yaml.ScalarNode)}
    if "exercises" in keys:
        exercises = keys["exercises"][1]
        if not isinstance(exercises, yaml.SequenceNode) or exercises.flow_style or not exercises.value:
            raise PlacementError(
                _("section {section}: its exercises are not a block list (`- id: …` lines)").format(section=section_id)
            )
        indent = exercises.value[0].start_mark.column - 2
        at = _line_end(text, _last_end(exercises))
        added = "\n".join(item_yaml(item, indent) for item in items)
        return text[:at] + "\n" + added + text[at:]
    indent = section.value[0][0].start_mark.column
    at = _line_end(text, _last_end(section))
    added = "\n".join([" " * indent + "exercises:", *(item_yaml(item, indent) for item in items)])
    return text[:at] + "\n" + added + text[at:]


def _section(root: yaml.Node | None, section_id: str) -> yaml.MappingNode | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "sections" and isinstance(value, yaml.SequenceNode):
            for section in value.value:
                if isinstance(section, yaml.MappingNode) and not section.flow_style:
                    for k, v in section.value:
                        if (
                            isinstance(k, yaml.ScalarNode)
                            and k.value == "id"
                            and getattr(v, "value", None) == section_id
                        ):
                            return section
    return None


def _last_end(node: yaml.Node) -> int:
    """Where the last value inside a node ends in the text (before any blank lines and comments after it)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return int(node.end_mark.index)


def _line_end(text: str, at: int) -> int:
    """The end of the line the last non-blank character before `at` is on."""
    while at > 0 and text[at - 1] in " \t\r\n":
        at -= 1
    end = text.find("\n", at)
    return len(text) if end < 0 else end
