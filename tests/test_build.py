"""Atomic output: a failed write never leaves a broken file or a temporary file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperkit.errors import OutputError
from paperkit.output import write_atomic


def test_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.pdf"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(os.listdir(target.parent)) == ["a.pdf"]


def test_a_crash_mid_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.pdf"
    write_atomic(target, b"good old pdf")

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"half")
    assert target.read_bytes() == b"good old pdf"
    assert os.listdir(tmp_path) == ["a.pdf"]


def test_an_output_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path, b"x")
    assert str(caught.value) == f"{tmp_path} is a directory; give a file name for the output"


def test_an_output_directory_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "file" / "a.pdf", b"x")
    assert (
        str(caught.value)
        == f"cannot write {tmp_path / 'file' / 'a.pdf'}: a part of the path is a file, not a directory"
    )


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_get_the_mode_a_plain_write_would(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "a.pdf", b"x")
        (tmp_path / "plain").write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.pdf").stat().st_mode & 0o777 == mode == (tmp_path / "plain").stat().st_mode & 0o777
