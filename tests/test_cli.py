"""The CLI surface: `list`, help texts, and that errors never become tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SOURCE
from paperkit.cli import app

runner = CliRunner()


def test_list_shows_every_module_with_its_counts() -> None:
    result = runner.invoke(app, ["list", "--source", str(SOURCE)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "module  sections  questions  choice  multi  truefalse   fill  short  held back  title"
    assert lines[1] == "     0         4          8      12      4         10      6     12         16  预备基础"
    assert (
        lines[3]
        == "     2         6         12      14      4         12      7     18         23  Transformer 核心结构"
    )
    assert len(lines) == 16
    assert lines[-1].endswith(
        ": 14 modules, 65 sections, 130 questions; exam items: 177 choice, 56 multi, 149 truefalse, 87 fill, 195 short"
        " (254 held back for exams)"
    )


def test_validate_reports_the_real_counts() -> None:
    result = runner.invoke(app, ["validate", "--source", str(SOURCE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "source/: 14 modules, 65 sections, 130 questions; "
        "exam items: 177 choice, 56 multi, 149 truefalse, 87 fill, 195 short (254 held back for exams)"
        " — OK\n"
    )


def test_every_command_has_help() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert "--source" in result.stdout, name


@pytest.mark.slow
def test_usage_errors_print_one_line_through_a_pipe(tmp_path: Path) -> None:
    # No worker process exists before the options are checked, so nothing can write after the message.
    command = [
        sys.executable,
        "-c",
        "from paperkit.cli import main; main()",
        "exam",
        "--modules",
        "2",
        "--duration",
        "0",
    ]
    expected = "error: --duration 0: expected a whole number from 1 to 1440 minutes\n"
    for _ in range(10):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)


def test_version_names_the_content_format() -> None:
    from paperkit import __version__

    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.output) == (0, f"paperkit {__version__} (content format 1)\n")
    shown = runner.invoke(app, ["--help"]).output
    assert "--install-completion" in shown and "--version" in shown


def test_make_install_links_the_command_and_uninstall_removes_only_its_own(tmp_path: Path) -> None:
    """`paperkit` on the PATH after `make` (issue 34): the link works from anywhere; uninstall takes only ours."""
    import os

    root = Path(__file__).resolve().parent.parent
    make = ["make", "-s", "-C", str(root), f"BIN_DIR={tmp_path}"]
    done = subprocess.run([*make, "install"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    link = tmp_path / "paperkit"
    assert link.is_symlink() and os.readlink(link) == str(root / ".venv" / "bin" / "paperkit")
    assert f"linked {link}" in done.stdout
    version = subprocess.run([str(link), "--version"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert version.stdout.startswith("paperkit ")
    assert subprocess.run([*make, "uninstall"], capture_output=True, text=True, check=False).returncode == 0
    assert not link.exists()
    link.symlink_to("/bin/true")  # someone else's paperkit
    out = subprocess.run([*make, "uninstall"], capture_output=True, text=True, check=False).stdout
    assert link.is_symlink() and "left alone" in out
