"""Probe (issue 16): what laying the handbook out on both cores could gain, before building it.

Times, in one run on this machine (median of 3 after a warm-up):
- the whole handbook in one process (`paperkit handbook`);
- the same modules split into two halves balanced by size, each laid out as a proof
  (`paperkit handbook --modules …`) in its own process, both at once: the best a two-part
  layout could do, since a proof carries its own cover and contents and nothing is assembled;
- joining the two halves' PDFs with shared fonts (pypdf and pdf.SharedFonts; merge_for_duplex would pad
  each part to an even page count, which a book does not want): the assembly's cost, without what it
  would have to keep (one tag tree, links across the parts, the contents' numbers).

Run: .venv/bin/python bench/parallel_probe.py
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "parallel"
PAPERKIT = str(ROOT / ".venv" / "bin" / "paperkit")
sys.path.insert(0, str(ROOT / "src"))

from compare import median_time  # noqa: E402  (bench/ is on the path when this script runs)


def halves() -> tuple[str, str]:
    """The module ids in two halves of about the same size (by the YAML's length)."""
    files = sorted((ROOT / "source" / "modules").glob("*.yaml"))
    sizes = [(int(f.name.split("-", 1)[0]), f.stat().st_size) for f in files]
    total, running, cut = sum(s for _, s in sizes), 0, 0
    for index, (_, size) in enumerate(sizes):
        running += size
        if running >= total / 2:
            cut = index + 1
            break
    first, second = [str(m) for m, _ in sizes[:cut]], [str(m) for m, _ in sizes[cut:]]
    return ",".join(first), ",".join(second)


def main() -> int:
    """Print the three figures."""
    WORK.mkdir(parents=True, exist_ok=True)
    first, second = halves()
    whole = median_time(lambda: subprocess.run([PAPERKIT, "handbook", "--out", str(WORK / "whole.pdf")], check=True))

    def both() -> None:
        runs = [
            subprocess.Popen([PAPERKIT, "handbook", "--modules", part, "--out", str(WORK / f"part{n}.pdf")])
            for n, part in enumerate((first, second))
        ]
        if any(run.wait() for run in runs):
            raise SystemExit("a part failed")

    parallel = median_time(both)

    def join() -> None:
        from pypdf import PdfReader, PdfWriter

        from paperkit.pdf import SharedFonts

        writer = PdfWriter()
        fonts = SharedFonts(writer)
        for n in range(2):
            reader = PdfReader(WORK / f"part{n}.pdf")
            fonts.take(reader)
            writer.append(reader)
        fonts.finish()
        writer.write(io.BytesIO())

    joined = median_time(join)
    print(f"halves: modules {first} | {second}")
    print(f"whole handbook, one process:          {whole:6.2f} s")
    print(f"two halves as proofs, two processes:  {parallel:6.2f} s  ({parallel / whole:.2f}x)")
    print(f"joining the halves (pypdf):           {joined:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
