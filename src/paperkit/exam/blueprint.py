"""A paper blueprint file (`--blueprint midterm.yaml`): its parts, each a kind with a count and points, and
optionally a 选做题 (`choose: 1`, answer one of them) or a 附加题 (`bonus: true`, outside the 满分)."""

from __future__ import annotations

from pathlib import Path

from paperkit.content.models import Origin
from paperkit.content.yamlfile import Field, FileReader, display_path, parse_yaml_file
from paperkit.errors import ContentError, Problem
from paperkit.exam.options import PartSpec, choose_by_hand, in_paper_order, marked_by_answer
from paperkit.i18n import _
from paperkit.questions.registry import GROUP_KIND, KINDS, part_kinds

BLUEPRINT_PART_FIELDS = (
    Field("kind", "text"),
    Field("count", "int"),
    Field("points", "int"),
    Field("choose", "int", required=False),
    Field("bonus", "flag", required=False),
)
BLUEPRINT_FIELDS = (Field("parts", "records", record=BLUEPRINT_PART_FIELDS),)


def read_blueprint(path: Path) -> tuple[PartSpec, ...]:
    """A paper blueprint (`parts:` with kind, count and points each) in paper order; ContentError if bad."""
    shown = display_path(path)
    problems: list[Problem] = []
    if not path.is_file():
        raise ContentError([Problem(shown, 0, "", _("no such file; give a blueprint YAML with a parts: list"))], shown)
    root = parse_yaml_file(path, problems)
    result = FileReader(shown, problems).mapping(root, "", BLUEPRINT_FIELDS) if root is not None else None
    parts: dict[tuple[str, str], PartSpec] = {}

    def problem(origin: Origin, name: str, message: str) -> None:
        problems.append(Problem(shown, origin.line_of(name), origin.field_path(name), message, origin.column_of(name)))

    for values, origin in result[0].get("parts", []) if result else []:
        kind, count, points = values.get("kind"), values.get("count"), values.get("points")
        choose, bonus = values.get("choose"), values.get("bonus", False)
        role = "bonus" if bonus else "choose" if choose is not None else ""
        if kind is not None and kind not in part_kinds():
            problem(
                origin,
                "kind",
                _("unknown kind '{kind}'; expected one of {kinds}").format(kind=kind, kinds=", ".join(part_kinds())),
            )
        elif (kind, role) in parts and role:
            problem(origin, "kind", _("{kind} ({role}) is listed twice; give it once").format(kind=kind, role=role))
        elif (kind, role) in parts:
            problem(origin, "kind", _("{kind} is listed twice; give it once").format(kind=kind))
        for name, value in (("count", count), ("points", points)):
            if value is not None and value < 1:
                problem(origin, name, _("expected a whole number ≥ 1, got {value}").format(value=value))
        if bonus and choose is not None:
            problem(origin, "choose", _("a part is a 选做题 (choose) or a 附加题 (bonus), not both"))
        elif choose is not None and kind in KINDS and marked_by_answer(kind):
            problem(origin, "choose", choose_by_hand())
        elif choose is not None and kind == GROUP_KIND:
            problem(origin, "choose", _("a 选做题 of 组合题 is not supported yet; make it a counted part or a 附加题"))
        elif choose is not None and count and not 0 < choose < count:
            problem(
                origin,
                "choose",
                _("expected a whole number from 1 to {most} (fewer than the part's count)").format(most=count - 1),
            )
        if kind in part_kinds() and count and points:
            parts.setdefault((kind, role), PartSpec(kind, count, points, role, choose or 0))
    if parts and not any(p.counted for p in parts.values()):
        problems.append(Problem(shown, 0, "parts", _("every part is a 附加题 (bonus); a paper needs a counted part")))
    if problems:
        raise ContentError(problems, shown)
    return in_paper_order(parts.values())
