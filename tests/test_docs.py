"""The docs tell the truth: the README names every command, and the format doc's example validates."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from conftest import ROOT
from paperkit.cli import app

runner = CliRunner()


def test_readme_shows_the_two_commands_and_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert f"paperkit {name}" in readme, name


def test_the_minimal_example_in_the_format_doc_validates(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "content-format.md").read_text(encoding="utf-8")
    for name, body in re.findall(r"^`my-handbook/(\S+)`\n```yaml\n(.*?)^```", doc, flags=re.M | re.S):
        target = tmp_path / "my-handbook" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--source", str(tmp_path / "my-handbook")])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("1 module, 1 section, 2 questions — OK\n")
