"""One-run comparison: the same handbook typeset by paperkit, XeLaTeX (latexmk, ctexbook) and Typst.

Run with `make bench-compare`. It writes the bundled content (14 modules, every section's overview,
must-know points, tips, pitfalls and worked Q&A, a contents page with page numbers) as a LaTeX and a
Typst document with the same fonts (the shipped Noto CJK faces), times each engine in the same run
(median of 3 after a warm-up), and prints the ratios with the machine's core count. An engine that is
not installed is skipped: `latexmk`+`xelatex` come from TeX Live (apt-get install latexmk
texlive-xetex texlive-lang-chinese), Typst from the `typst` Python package.

What differs, so the figures are read fairly: the LaTeX version sets formulas with TeX itself; the Typst
version sets them as plain text (Typst's math syntax is not TeX's); neither has paperkit's answer boxes,
checklist, PDF tags or bookmarks per section, nor its checks of the content.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "compare"
sys.path.insert(0, str(ROOT / "src"))

from paperkit.content.models import Handbook, Section  # noqa: E402
from paperkit.source import open_handbook  # noqa: E402

RUNS = 3
_MATH = re.compile(r"(?<!\\)\$((?:\\.|[^$\\])+)\$")


def _latex_text(text: str) -> str:
    """Our inline markup as LaTeX: text escaped, $…$ kept as TeX, **bold** and `code`."""
    out: list[str] = []
    for index, piece in enumerate(_MATH.split(text)):
        if index % 2:
            out.append(f"${piece}$")
            continue
        piece = piece.replace("\\$", "$").replace("\\`", "`").replace("\\*", "*")
        escaped = re.sub(r"([#$%&_{}])", r"\\\1", piece.replace("\\", "\\textbackslash{}"))
        escaped = escaped.replace("~", "\\textasciitilde{}").replace("^", "\\textasciicircum{}")
        escaped = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", escaped)
        out.append(re.sub(r"`([^`]+)`", r"\\texttt{\1}", escaped))
    return "".join(out)


def _typst_text(text: str) -> str:
    """Our inline markup as Typst: formulas as plain text, everything escaped but **bold** and `code`."""
    out: list[str] = []
    for index, piece in enumerate(_MATH.split(text)):
        if index % 2:
            piece = piece.replace("\\", "")
        piece = re.sub(r"([\\#$*_`<>@\[\]=+/~-])", r"\\\1", piece) if index % 2 else _typst_markup(piece)
        out.append(piece)
    return "".join(out)


def _typst_markup(piece: str) -> str:
    parts = re.split(r"(\*\*.+?\*\*|`[^`]+`)", piece)
    out = []
    for part in parts:
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            out.append("#strong[" + re.sub(r"([\\#$*_`<>@\[\]=+/~-])", r"\\\1", part[2:-2]) + "]")
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            out.append("#raw(" + json.dumps(part[1:-1]) + ")")
        else:
            out.append(re.sub(r"([\\#$*_`<>@\[\]=+/~-])", r"\\\1", part))
    return "".join(out)


def _lists(section: Section) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return (("你需要掌握", section.must_know), ("工程提示", section.tips), ("常见误区", section.pitfalls))


def latex_document(handbook: Handbook, fonts: Path) -> str:
    """The handbook as a ctexbook document with the shipped fonts and a contents page."""
    lines = [
        r"\documentclass[a4paper,zihao=5,fontset=none]{ctexbook}",
        r"\usepackage{amsmath,amssymb}",
        rf"\setCJKmainfont{{NotoSerifSC-Regular.otf}}[Path={fonts}/,BoldFont=NotoSerifSC-Bold.otf]",
        rf"\setCJKsansfont{{NotoSansSC-Regular.otf}}[Path={fonts}/,BoldFont=NotoSansSC-Bold.otf]",
        r"\begin{document}",
        rf"\title{{{_latex_text(handbook.title)}}}\date{{{handbook.date}}}\maketitle",
        r"\tableofcontents",
    ]
    for module in handbook.modules:
        lines.append(rf"\chapter{{{_latex_text(module.title)}}}")
        lines.append(_latex_text(module.objective))
        for section in module.sections:
            lines.append(rf"\section{{{section.id} {_latex_text(section.title)}}}")
            lines.append(r"\textbf{概述}\quad " + _latex_text(section.overview))
            for heading, items in _lists(section):
                if items:
                    lines.append(rf"\paragraph{{{heading}}}\begin{{itemize}}")
                    lines += [rf"\item {_latex_text(item)}" for item in items]
                    lines.append(r"\end{itemize}")
            for number, example in enumerate(section.examples, start=1):
                lines.append(rf"\par\noindent\textbf{{Q{number}}}\quad {_latex_text(example.q)}")
                lines.append(rf"\par\noindent\textbf{{A{number}}}\quad {_latex_text(example.a)}\par")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def typst_document(handbook: Handbook) -> str:
    """The handbook as a Typst document with the shipped fonts and a contents page."""
    lines = [
        '#set page(paper: "a4", numbering: "1")',
        '#set text(font: ("Noto Serif CJK SC",), size: 10.5pt, lang: "zh")',
        '#show heading: set text(font: ("Noto Sans CJK SC",))',
        "#set heading(numbering: none)",
        f"#align(center, text(24pt)[{_typst_markup(handbook.title)}])",
        "#outline()",
    ]
    for module in handbook.modules:
        lines.append("#pagebreak()")
        lines.append(f"= {_typst_markup(module.title)}")
        lines.append(_typst_text(module.objective))
        for section in module.sections:
            lines.append(f"== {section.id} {_typst_markup(section.title)}")
            lines.append(f"*概述* {_typst_text(section.overview)}")
            for heading, items in _lists(section):
                if items:
                    lines.append(f"*{heading}*")
                    lines += [f"- {_typst_text(item)}" for item in items]
            for number, example in enumerate(section.examples, start=1):
                lines.append(f"*Q{number}* {_typst_text(example.q)}\n")
                lines.append(f"*A{number}* {_typst_text(example.a)}\n")
    return "\n\n".join(lines) + "\n"


def median_time(run: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of `runs` calls of `run` after one warm-up."""
    times = []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        run()
        if attempt:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _command(argv: list[str]) -> Callable[[], None]:
    """A command to time: it must succeed (its output's tail is the error otherwise)."""

    def run() -> None:
        done = subprocess.run(argv, cwd=WORK, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {(done.stdout + done.stderr)[-800:]}")

    return run


def main() -> int:
    """Time each engine that is installed; print and save the figures."""
    WORK.mkdir(parents=True, exist_ok=True)
    handbook = open_handbook(ROOT / "source")
    results: dict[str, float] = {}
    load = os.getloadavg()[0]
    # paperkit's own cache, for this run alone: formulas drawn once (warm), the laid-out parts as each case says.
    cache = WORK / "cache"
    os.environ["PAPERKIT_CACHE_DIR"] = str(cache)
    edited = WORK / "source"
    shutil.rmtree(edited, ignore_errors=True)
    shutil.copytree(ROOT / "source", edited)
    paperkit = [str(ROOT / ".venv" / "bin" / "paperkit"), "handbook", "--source", str(edited)]
    paperkit += ["--out", str(WORK / "paperkit.pdf")]
    build = _command(paperkit)

    def cold(jobs: list[str]) -> Callable[[], None]:
        def run() -> None:
            # Nothing laid out kept: no built PDF, joined parts, part or page numbers (formulas and the hint warm).
            for kind in ("handbook-built", "handbook-joined", "handbook-part", "page-numbers"):
                shutil.rmtree(cache / kind, ignore_errors=True)
            _command([*paperkit, *jobs])()

        return run

    modules = sorted((edited / "modules").glob("*.yaml"))
    module = modules[len(modules) // 2]

    original = module.read_text(encoding="utf-8")
    edits = iter(range(1, 1000))

    def one_module_edit() -> None:
        # An author's typo fix: one more character in one module's first overview, a new one each run (an edit
        # back to an earlier text would find that text's layout in the cache).
        text = original.replace("overview: ", f"overview: {next(edits)}", 1)
        module.write_text(text, encoding="utf-8")
        build()

    results["paperkit cold"] = median_time(cold([]))  # in parts on the cores (the default), nothing laid out kept
    results["paperkit one-module edit"] = median_time(one_module_edit)
    results["paperkit no change"] = median_time(build)
    results["paperkit cold --jobs 1"] = median_time(cold(["--jobs", "1"]))
    if shutil.which("latexmk") and shutil.which("xelatex"):
        (WORK / "handbook.tex").write_text(latex_document(handbook, ROOT / "fonts"), encoding="utf-8")

        def latex() -> None:
            for leftover in WORK.glob("handbook.*"):
                if leftover.suffix != ".tex":
                    leftover.unlink()  # every run from scratch: two passes for the contents' page numbers
            done = subprocess.run(
                ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "handbook.tex"],
                cwd=WORK,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"latexmk failed: {done.stdout[-1500:]}")

        results["xelatex"] = median_time(latex)
    else:
        print("skipped XeLaTeX: latexmk and xelatex are not installed", file=sys.stderr)
    try:
        import typst
    except ImportError:
        print("skipped Typst: the typst Python package is not installed", file=sys.stderr)
    else:
        (WORK / "handbook.typ").write_text(typst_document(handbook), encoding="utf-8")
        fonts = [str(ROOT / "fonts")]
        results["typst"] = median_time(
            lambda: typst.compile(str(WORK / "handbook.typ"), output=str(WORK / "typst.pdf"), font_paths=fonts)
        )
    cores = os.cpu_count()
    print(
        f"one run, {cores} cores, load {load:.2f} at the start and {os.getloadavg()[0]:.2f} at the end, "
        f"median of {RUNS} after a warm-up:"
    )
    ours = [name for name in results if name.startswith("paperkit")]
    for name, seconds in results.items():
        ratios = [] if name in ours else [f"{mine} is {results[mine] / seconds:.2f}x {name}" for mine in ours]
        print(f"  {name:<17} {seconds:6.2f} s" + (f"  ({'; '.join(ratios)})" if ratios else ""))
    record = {"cores": cores, "load": [load, os.getloadavg()[0]], "seconds": results}
    (WORK / "compare.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
