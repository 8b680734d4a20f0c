"""The CLI surface: `list`, help texts, and that errors never become tracebacks."""

from __future__ import annotations

import re
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


def _paperkit(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    environ = {key: value for key, value in os.environ.items() if key not in ("PAPERKIT_LANG", "LANGUAGE", "LC_ALL")}
    return subprocess.run(
        [sys.executable, "-c", "from paperkit.cli import main; main()", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**environ, **env},
        check=False,
    )


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_chinese_locale_gets_a_one_line_chinese_error(tmp_path: Path) -> None:
    """Issue 34's check: `LANG=zh_CN.UTF-8 paperkit exam --modules 99` says what is wrong in one Chinese line."""
    root = Path(__file__).resolve().parent.parent
    argv = ["exam", "--source", str(root / "source"), "--modules", "99"]
    chinese = _paperkit(argv, tmp_path, LANG="zh_CN.UTF-8")
    english = _paperkit(argv, tmp_path, LANG="C.UTF-8")
    assert chinese.returncode == english.returncode == 2
    assert len(chinese.stderr.splitlines()) == len(english.stderr.splitlines()) == 1
    assert chinese.stderr.startswith("错误：") and "99" in chinese.stderr and CJK.search(chinese.stderr[3:])
    assert english.stderr.startswith("error: --modules 99")
    assert _paperkit(["--lang", "en", *argv], tmp_path, LANG="zh_CN.UTF-8").stderr == english.stderr
    assert _paperkit(argv, tmp_path, LANG="zh_CN.UTF-8", PAPERKIT_LANG="en").stderr == english.stderr
    assert _paperkit(["--lang", "zh", *argv], tmp_path, LANG="C.UTF-8").stderr == chinese.stderr


def test_every_help_text_is_chinese_under_lang_zh(tmp_path: Path) -> None:
    """Each command's help page and each of its options' help in Chinese: a line of English prose is a miss."""
    pages = {"": _paperkit(["--lang", "zh", "--help"], tmp_path).stdout}
    commands = re.findall(r"^  (\S+)\s{2,}", pages[""].split("命令：")[1], re.M)  # not a wrapped description line
    assert {"exam", "handbook", "scan", "analyze", "bank"} <= set(commands)
    for command in commands:
        pages[command] = _paperkit(["--lang", "zh", command, "--help"], tmp_path).stdout
    pages["bank check"] = _paperkit(["--lang", "zh", "bank", "check", "--help"], tmp_path).stdout
    for command, page in pages.items():
        assert page.startswith("用法："), (command, page[:200])
        description = page.split("\n\n")[1]
        assert CJK.search(description), (command, description)
        prose = [
            line
            for line in page.splitlines()
            # an English sentence: four words in a row (option names, metavars and defaults are not words here)
            if re.search(r"(?<![-\w])[A-Za-z]{2,}(?: [a-z]{2,}){3}", re.sub(r"--?[\w-]+|\[[^\]]*\]|`[^`]*`", "", line))
        ]
        assert prose == [], (command, prose)
