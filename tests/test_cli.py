"""The CLI surface: `list`, help texts, and that errors never become tracebacks."""

from __future__ import annotations

from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app

runner = CliRunner()


def test_list_shows_every_module_with_its_counts() -> None:
    result = runner.invoke(app, ["list", "--source", str(SOURCE)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "module  sections  questions  title"
    assert lines[1] == "     0         4          8  预备基础"
    assert lines[3] == "     2         6         12  Transformer 核心结构"
    assert len(lines) == 16
    assert lines[-1].endswith(": 14 modules, 65 sections, 130 questions")


def test_validate_reports_the_real_counts() -> None:
    result = runner.invoke(app, ["validate", "--source", str(SOURCE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("source/: 14 modules, 65 sections, 130 questions — OK\n")


def test_every_command_has_help() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert "--source" in result.stdout, name
