"""Read a source directory's YAML into content models, remembering the file and line of every value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from paperkit.content.models import Example, Exercise, Group, Handbook, Module, Origin, RubricPoint, Section
from paperkit.content.yamlfile import Field, FileReader, display_path, parse_yaml_file
from paperkit.errors import ContentError, Problem
from paperkit.i18n import _

RUBRIC_FIELDS = (Field("point", "text"), Field("points", "int"))
# Fields every exam item may carry, worked examples included.
ITEM_FIELDS = (
    Field("points", "int", required=False),
    Field("difficulty", "text", required=False),
    Field("lines", "int", required=False),
    Field("tests", "texts", required=False),
)
EXAMPLE_FIELDS = (
    Field("id", "text"),
    Field("q", "text"),
    Field("a", "text"),
    Field("rubric", "records", required=False, record=RUBRIC_FIELDS),
    *ITEM_FIELDS,
)
# Every field any kind uses; which of them a kind requires or allows is the kind's own check (kinds.py).
EXERCISE_FIELDS: tuple[Field, ...] = (
    Field("id", "text"),
    Field("kind", "text"),
    Field("q", "text"),
    Field("options", "texts", required=False),
    Field("answer", "text", required=False),
    Field("pinned", "texts", required=False),
    Field("why", "text", required=False),
    Field("a", "text", required=False),
    Field("rubric", "records", required=False, record=RUBRIC_FIELDS),
    Field("follows", "text", required=False),
    Field("material", "text", required=False),
    Field("use", "text", required=False),
    *ITEM_FIELDS,
)
# A 组合题 (`kind: group`): a shared stem, then its sub-questions under `parts`, each an item of its own kind
# (no id needed: `<group id>.1`, `.2`, …); what the group gives (use, tests, difficulty) its parts inherit.
GROUP = "group"
PART_FIELDS = tuple(
    replace(f, required=False) if f.name == "id" else f
    for f in EXERCISE_FIELDS
    if f.name not in ("follows", "material", "use")
)
EXERCISE_FIELDS = (*EXERCISE_FIELDS, Field("parts", "records", required=False, record=PART_FIELDS))
SECTION_FIELDS = (
    Field("id", "text"),
    Field("title", "text"),
    Field("overview", "text"),
    Field("must_know", "texts"),
    Field("tips", "texts", required=False),
    Field("pitfalls", "texts", required=False),
    Field("examples", "records", required=False, record=EXAMPLE_FIELDS),
    Field("exercises", "records", required=False, record=EXERCISE_FIELDS),
)
MODULE_FIELDS = (
    Field("id", "int"),
    Field("title", "text"),
    Field("short_title", "text", required=False),
    Field("objective", "text"),
    Field("sections", "records", record=SECTION_FIELDS),
)
HANDBOOK_FIELDS = (
    Field("title", "text"),
    Field("subtitle", "text", required=False),
    Field("author", "text", required=False),
    Field("coverage", "text", required=False),
    Field("date", "text"),
    Field("language", "text", required=False),
    Field("usage", "text", required=False),
    Field("checklist_title", "text", required=False),
    Field("checklist_note", "text", required=False),
)


def load_handbook(source: Path) -> Handbook:
    """Load `handbook.yaml` and `modules/*.yaml` under `source`; raise ContentError listing every problem."""
    handbook, problems = read_handbook(source)
    if problems or handbook is None:
        raise ContentError(problems, display_path(source).rstrip("/") + "/")
    return handbook


def read_handbook(source: Path) -> tuple[Handbook | None, list[Problem]]:
    """The handbook made of every file that reads cleanly, and the problems of those that do not (a file with a
    YAML or field problem is left out, so the rest can still be checked in the same run); None without a front
    matter."""
    shown = display_path(source).rstrip("/") + "/"
    problems: list[Problem] = []
    if not source.is_dir():
        return None, [Problem(shown, 0, "", _("no such directory"))]
    notes: list[str] = []
    front = _read_front_matter(source / "handbook.yaml", problems, notes)
    module_files = sorted([*source.glob("modules/*.yaml"), *source.glob("modules/*.yml")])
    if not module_files:
        problems.append(Problem(display_path(source / "modules") + "/", 0, "", _("no module files (modules/*.yaml)")))
    modules = [m for m in (_read_module(path, problems, notes) for path in module_files) if m is not None]
    if front is None:
        return None, problems
    values, origin = front
    return Handbook(
        title=values["title"],
        date=values["date"],
        language=values.get("language", "zh-CN"),
        coverage=values.get("coverage", ""),
        usage=values.get("usage", ""),
        subtitle=values.get("subtitle", ""),
        author=values.get("author", ""),
        checklist_title=values.get("checklist_title", "学习 Checklist"),
        checklist_note=values.get("checklist_note", ""),
        modules=tuple(sorted(modules, key=lambda m: m.id)),
        source=shown,
        origin=origin,
        notes=tuple(notes),
    ), problems


def _read_front_matter(path: Path, problems: list[Problem], notes: list[str]) -> tuple[dict[str, Any], Origin] | None:
    if not path.is_file():
        problems.append(
            Problem(
                display_path(path),
                0,
                "",
                _("missing: every handbook needs a handbook.yaml with its title and date"),
            )
        )
        return None
    root = parse_yaml_file(path, problems)
    if root is None:
        return None
    before = len(problems)
    result = FileReader(display_path(path), problems, path.parent, notes).mapping(root, "", HANDBOOK_FIELDS)
    return result if len(problems) == before else None


def _read_module(path: Path, problems: list[Problem], notes: list[str]) -> Module | None:
    root = parse_yaml_file(path, problems)
    if root is None:
        return None
    # Figures are named relative to the source folder (modules/ is one level down).
    reader = FileReader(display_path(path), problems, path.parent.parent, notes)
    result = reader.mapping(root, "", MODULE_FIELDS)
    if result is None or not reader.complete(root, result[0], MODULE_FIELDS):
        return None  # its problems are reported; a module made of what did read is still checked (read_handbook)
    values, origin = result
    return Module(
        id=values["id"],
        title=values["title"],
        short_title=values.get("short_title"),
        objective=values["objective"],
        sections=tuple(_build(Section, item, _build_section_extra) for item in values["sections"]),
        origin=origin,
    )


def _build_section_extra(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "examples": tuple(_build(Example, item, _build_item_extra) for item in values.get("examples", ())),
        "exercises": tuple(x for item in values.get("exercises", ()) for x in _build_exercises(item)),
    }


def _build_exercises(record: tuple[dict[str, Any], Origin]) -> tuple[Exercise, ...]:
    """An exercise record as items: itself, or a group's sub-questions, each pointing back to the group."""
    values, origin = record
    parts = values.pop("parts", ())
    if values.get("kind") != GROUP or not parts:
        return (_build(Exercise, (values, origin), _build_item_extra),)  # a stray `parts` is its kind's problem
    group = Group(values["id"], values["q"], len(parts), values.get("points"), origin)
    inherited = {name: values[name] for name in ("use", "tests", "difficulty") if name in values}
    items = []
    for sub, (part, where) in enumerate(parts, start=1):
        fields = {**inherited, **part, "id": part.get("id", f"{group.id}.{sub}")}
        items.append(replace(_build(Exercise, (fields, where), _build_item_extra), group=group, sub=sub))
    return tuple(items)


def _build_item_extra(values: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {"rubric": tuple(_build(RubricPoint, item) for item in values.get("rubric", ()))}
    for name in ("options", "pinned", "tests"):
        if name in values:
            extra[name] = tuple(values[name])
    return extra


def _build(
    cls: Callable[..., Any],
    item: tuple[dict[str, Any], Origin],
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Any:
    values, origin = item
    fields = dict(values)
    if extra is not None:
        fields.update(extra(values))
    return cls(**fields, origin=origin)
