"""The docs tell the truth and hang together: the README is short, names the two commands and the everyday ones
and links only what exists; the pages name every command, each page is in the site's navigation (mkdocs.yml) and
linked from its home page; the format doc's example validates. `make docs` builds the site strictly (a broken link
fails it); `tests/test_readme_commands.py` runs the commands the README and the pages show."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from conftest import ROOT
from paperkit.cli import app

runner = CliRunner()

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_LIMIT = 10_000  # bytes: the README is the short version, the pages hold the rest
EVERYDAY = ("handbook", "checklist", "exam", "scoresheet", "analyze", "scan")


class _SiteLoader(yaml.SafeLoader):
    """mkdocs.yml as data: a `!!python/…` tag (the heading-id function) is read as nothing."""


_SiteLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def site() -> dict[str, Any]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_SiteLoader)  # a SafeLoader
    assert isinstance(config, dict)
    return config


def _flatten(entries: list[Any]) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _flatten(value) if isinstance(value, list) else [value]
    return pages


def nav_pages() -> list[str]:
    """The pages of the site in the order of its navigation, as paths under docs/ (`exams.md`)."""
    return _flatten(site()["nav"])


def markdown_pages() -> set[str]:
    return {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}


def commands() -> list[str]:
    """Every paperkit command as typed: `paperkit exam`, `paperkit bank check`."""
    names = [f"paperkit {command.name or command.callback.__name__}" for command in app.registered_commands]
    for group in app.registered_groups:
        names += [f"paperkit {group.name} {command.name}" for command in group.typer_instance.registered_commands]
    return names


def _links(text: str) -> list[str]:
    """The targets of a Markdown text's relative links and images, without their #anchor."""
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_the_readme_is_short_and_shows_the_two_commands_and_the_everyday_ones() -> None:
    readme = README.read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) < README_LIMIT, "the README is the short version: move the detail to docs/"
    assert re.search(r"^make +#", readme, re.M) and re.search(r"^make test +#", readme, re.M)
    assert "make test" in readme and "make docs" in readme
    for name in EVERYDAY:
        assert re.search(rf"^paperkit {name} ", readme, re.M), name


def test_the_readme_links_only_what_exists_and_every_teacher_page() -> None:
    readme = README.read_text(encoding="utf-8")
    links = _links(readme)
    for target in links:
        assert (ROOT / target).exists(), target
    for page in ("quickstart", "handbook", "exams", "classroom", "after-exam", "scanning"):
        assert f"docs/{page}.md" in links, page
    assert any(target.startswith("docs/previews/") for target in links)


def test_the_pages_name_every_command() -> None:
    quickstart = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    for command in commands():
        assert f"| `{command}" in quickstart, f"{command}: not in the command table of docs/quickstart.md"


def test_every_page_is_in_the_navigation_once_and_the_site_is_strict() -> None:
    config = site()
    assert config["docs_dir"] == "docs" and config["site_dir"] == "build/site" and config["strict"] is True
    pages = nav_pages()
    assert len(pages) == len(set(pages)), "a page is twice in the navigation"
    assert set(pages) == markdown_pages(), "docs/ and the nav of mkdocs.yml differ"
    assert pages[0] == "index.md"


def test_the_home_page_links_every_page() -> None:
    links = set(_links((DOCS / "index.md").read_text(encoding="utf-8")))
    assert links >= set(nav_pages()) - {"index.md"}


def test_the_site_reads_the_pages_as_github_does() -> None:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = "Read first:\n- a\n  - b\n    more b\n- c\n\n| `A4\\|B5` | x |\n```\n  - kept\n```\n"
    assert hooks.on_page_markdown(page) == (
        "Read first:\n\n- a\n    - b\n        more b\n- c\n\n| `A4|B5` | x |\n```\n  - kept\n```\n"
    )


def test_the_minimal_example_in_the_format_doc_validates(tmp_path: Path) -> None:
    doc = (DOCS / "content-format.md").read_text(encoding="utf-8")
    for name, body in re.findall(r"^`my-handbook/(\S+)`\n```yaml\n(.*?)^```", doc, flags=re.M | re.S):
        target = tmp_path / "my-handbook" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--source", str(tmp_path / "my-handbook")])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("1 module, 1 section, 2 questions — OK\n")


def test_the_physics_example_in_the_format_doc_validates_and_prints(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from paperkit.questions.fill import matches
    from test_figures import SVG, png

    doc = (DOCS / "content-format.md").read_text(encoding="utf-8")
    files = re.findall(r"^`physics/(\S+)`\n```yaml\n(.*?)^```", doc, flags=re.M | re.S)
    assert [name for name, _ in files] == ["handbook.yaml", "modules/01-circuits.yaml"]
    source = tmp_path / "physics"
    for name, body in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(body, encoding="utf-8")
    (source / "figures").mkdir()
    (source / "figures" / "series.svg").write_text(SVG, encoding="utf-8")
    for n, letter in enumerate("abcd"):  # four different graphs, each at least 300 dpi at 25 mm
        (source / "figures" / f"vt-{letter}.png").write_bytes(png(300 + n, 200))
    result = runner.invoke(app, ["validate", "--source", str(source)])
    assert result.exit_code == 0 and result.stderr == "", result.output
    command = ["exam", "--source", str(source), "--modules", "1", "--parts", "choice:2x3,fill:2x4,group:1x12"]
    result = runner.invoke(app, [*command, "--pool", "all", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    paper = PdfReader(next((tmp_path / "out").glob("*/paper.pdf")))
    text = "".join(page.extract_text() for page in paper.pages).replace(" ", "")
    # the 实验题 is question 5: its table once, then (1)(2)(3) with the points the doc's prose says
    assert text.count("3.00.60") == 1 and "5.（12分）某同学用伏安法测电阻" in text, text
    assert text.index("3.00.60") < text.index("（1）") < text.index("（2）") < text.index("（3）")
    manifest = json.loads(next((tmp_path / "out").glob("*/manifest.json")).read_text(encoding="utf-8"))
    paper_a = manifest["papers"]["A"]
    points = dict(zip(paper_a["questions"], paper_a["points"], strict=True))
    assert [points[f"1.1.g1.{n}"] for n in (1, 2, 3)] == [3, 3, 6] and manifest["total_points"] == 26
    # On A3 too, with its key; each picture (the circuit beside its stem, four graph options) embedded once.
    import pikepdf

    result = runner.invoke(app, [*command, "--pool", "all", "--paper", "A3", "--out", str(tmp_path / "a3")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "a3").iterdir())
    a3 = "".join(page.extract_text() for page in PdfReader(folder / "paper.pdf").pages).replace(" ", "")
    assert a3.count("3.00.60") == 1 and "（3）（6分）" in a3
    key = "".join(page.extract_text() for page in PdfReader(folder / "key.pdf").pages).replace(" ", "")
    letter = "ABCD"[json.loads((folder / "manifest.json").read_text())["papers"]["A"]["options"]["1.1.g1.2"].index("A")]
    assert f"5(2){letter}" in key and "5.0（2位有效数字）" in key and "19.6（3位有效数字）" in key
    with pikepdf.open(folder / "paper.pdf") as pdf:  # (the key lists choice answers without their options)
        rasters = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        sizes = sorted((int(o["/Width"]), int(o["/Height"])) for o in rasters)
    assert sizes == [(300, 200), (301, 200), (302, 200), (303, 200)]
    # A class's print file (one paper per student) carries each picture once too.
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,学号\n" + "".join(f"学生{n},2026{n:03d}\n" for n in range(1, 4)), encoding="utf-8")
    result = runner.invoke(app, [*command, "--pool", "all", "--roster", str(roster), "--out", str(tmp_path / "class")])
    assert result.exit_code == 0, result.output
    with pikepdf.open(next((tmp_path / "class").glob("*/papers-all.pdf"))) as pdf:
        rasters = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert len(pdf.pages) >= 6 and len(rasters) == 4
    assert all(matches(said, ("6±0.1 m/s",)) for said in ("6.05", "6 m/s", "６")) and not matches("6.2", ("6±0.1 m/s",))
    assert all(matches(said, ("19.6 sf",)) for said in ("19.6", "19.60", "1.96e1")) and not matches("20", ("19.6 sf",))
