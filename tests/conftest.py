"""Shared fixtures: the real content, and a tiny handbook written into tmp_path to break on purpose."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest

# Tests (and the paperkit processes they start) use a cache of their own, never the user's; it goes at exit.
_CACHE = tempfile.TemporaryDirectory(prefix="paperkit-test-cache-")
os.environ["PAPERKIT_CACHE_DIR"] = _CACHE.name

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source"

HANDBOOK_YAML = """\
title: 小手册
date: '2026-01-18'
language: zh-CN
usage: 按顺序学习。
"""

MODULE_YAML = """\
id: 1
title: 第一模块
objective: 学会基础。
sections:
- id: '1.1'
  title: 第一节
  overview: 概述文字，含公式 $O(S^2)$。
  must_know:
  - 要点一
  tips:
  - 提示一
  pitfalls:
  - 误区一
  examples:
  - id: 1.1.q1
    q: 问题一？
    a: 答案一。
"""


# The bundled handbook laid out once per session in one process, by answer mode (the three modes also cover
# the three papers): test_handbook reads them all, test_errata the A4 one.
HANDBOOK_VARIANTS = {"inline": "A4", "none": "B5", "end": "Letter"}


@pytest.fixture(scope="session")
def rendered_handbooks():
    from paperkit.handbook.job import render_handbook
    from paperkit.render.page import geometry_for
    from paperkit.source import open_handbook

    handbook = open_handbook(SOURCE)
    return {
        answers: render_handbook(handbook, geometry_for(paper), answers) for answers, paper in HANDBOOK_VARIANTS.items()
    }


def write_handbook(root: Path, modules: dict[str, str] | None = None, handbook: str = HANDBOOK_YAML) -> Path:
    """Write a handbook under root/source and return that directory."""
    source = root / "source"
    (source / "modules").mkdir(parents=True, exist_ok=True)
    (source / "handbook.yaml").write_text(handbook, encoding="utf-8")
    for name, text in (modules if modules is not None else {"01-first.yaml": MODULE_YAML}).items():
        (source / "modules" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return source


@pytest.fixture
def tiny_source(tmp_path: Path) -> Path:
    """A minimal valid handbook in tmp_path/source."""
    return write_handbook(tmp_path)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with tmp_path as the working directory (so paths print as source/...)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
