"""The house's rule: data flows one way. A package imports only the packages below it (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import paperkit

PACKAGE = Path(paperkit.__file__).parent

# Each package or top-level module, and what of paperkit it may import. Written once here and in
# docs/architecture.md; an import against it fails the test with the file and line.
BASE = {"errors", "labels", "paths", "flags", "i18n"}
ALLOWED: dict[str, set[str]] = {
    "i18n": set(),
    "errors": {"i18n"},
    "labels": set(),
    "paths": {"i18n"},
    "flags": {"errors", "i18n"},
    "cache": {"errors", "paths", "i18n"},
    "output": {"errors", "paths", "i18n"},
    "text": {*BASE, "cache"},
    "content": {*BASE, "text"},
    "questions": {*BASE, "content", "text"},
    "source": {*BASE, "content", "questions", "text"},
    "render": {*BASE, "text", "cache"},
    "handbook": {*BASE, "cache", "output", "text", "content", "questions", "source", "render"},
    "exam": {*BASE, "cache", "output", "text", "content", "questions", "source", "render"},
    "export": {*BASE, "output", "text", "content", "questions", "source"},
    "wordin": {*BASE, "output", "text", "content", "questions", "source"},
    "marking": {*BASE, "cache", "output", "text", "content", "questions", "source", "render", "exam"},
    "report": {*BASE, "text", "content", "questions", "source"},
    "preview": {*BASE, "cache", "text", "content", "questions", "source", "render", "handbook", "exam"},
    "cli": {"*"},
}


def owner(path: Path) -> str:
    """The package (or top-level module) a source file belongs to."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imports(path: Path) -> list[tuple[int, str]]:
    """Every paperkit unit this file imports, with the line (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = node.module.split(".")
            if names[0] == "paperkit":
                if len(names) > 1:
                    found.append((node.lineno, names[1]))
                else:
                    found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; write paperkit.<package>…")
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("paperkit.")]
    return found


def test_every_unit_is_in_the_table():
    units = {owner(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE}
    assert units - {"__main__"} == set(ALLOWED)


def test_imports_run_one_way():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        unit = owner(path)
        allowed = ALLOWED[unit]
        for line, target in imports(path):
            if target != unit and "*" not in allowed and target not in allowed:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {unit} imports {target}")
    assert wrong == []


def test_no_unit_imports_in_a_circle():
    graph: dict[str, set[str]] = {unit: set() for unit in ALLOWED}
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        unit = owner(path)
        graph[unit] |= {target for _, target in imports(path) if target != unit}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert [unit for unit in graph if unit in reach(unit)] == []
