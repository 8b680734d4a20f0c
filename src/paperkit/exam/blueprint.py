"""A paper blueprint file (`--blueprint midterm.yaml`): its parts, each a kind with a count and points."""

from __future__ import annotations

from pathlib import Path

from paperkit.content.yamlfile import Field, FileReader, display_path, parse_yaml_file
from paperkit.errors import ContentError, Problem
from paperkit.questions.registry import KINDS

BLUEPRINT_PART_FIELDS = (Field("kind", "text"), Field("count", "int"), Field("points", "int"))
BLUEPRINT_FIELDS = (Field("parts", "records", record=BLUEPRINT_PART_FIELDS),)


def read_blueprint(path: Path) -> list[tuple[str, int, int]]:
    """A paper blueprint (`parts:` with kind, count and points each) in the kinds' order; ContentError if bad."""
    shown = display_path(path)
    problems: list[Problem] = []
    if not path.is_file():
        raise ContentError([Problem(shown, 0, "", "no such file; give a blueprint YAML with a parts: list")], shown)
    root = parse_yaml_file(path, problems)
    result = FileReader(shown, problems).mapping(root, "", BLUEPRINT_FIELDS) if root is not None else None
    parts: dict[str, tuple[str, int, int]] = {}
    for values, origin in result[0].get("parts", []) if result else []:
        kind, count, points = values.get("kind"), values.get("count"), values.get("points")
        if kind is not None and kind not in KINDS:
            problems.append(
                Problem(
                    shown,
                    origin.line_of("kind"),
                    origin.field_path("kind"),
                    f"unknown kind '{kind}'; expected one of {', '.join(KINDS)}",
                )
            )
        elif kind in parts:
            problems.append(
                Problem(
                    shown,
                    origin.line_of("kind"),
                    origin.field_path("kind"),
                    f"{kind} is listed twice; give each kind once",
                )
            )
        for name, value in (("count", count), ("points", points)):
            if value is not None and value < 1:
                problems.append(
                    Problem(
                        shown,
                        origin.line_of(name),
                        origin.field_path(name),
                        f"expected a whole number ≥ 1, got {value}",
                    )
                )
        if kind in KINDS and count and points:
            parts.setdefault(kind, (kind, count, points))
    if problems:
        raise ContentError(problems, shown)
    return [parts[kind] for kind in KINDS if kind in parts]
