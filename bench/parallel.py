"""The handbook in one process against the handbook in parts on both cores (issue 16), in one run.

Times, median of 3 after a warm-up, each a fresh `paperkit handbook` process:
- `--jobs 1`: the same parts laid out one after another on one worker process;
- `--jobs 2`, warm: in two parts and the front matter on two worker processes, starting from the page numbers
  the last build left in the cache (a build after a build: an author's loop);
- `--jobs 2`, cold: the same with that hint deleted first (the first build on a machine): the parts are
  laid out again once their true page numbers are known.
It also checks that the three PDFs are byte-identical to one another where they must be (warm = cold).

Run: make bench-parallel
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "parallel"
PAPERKIT = str(ROOT / ".venv" / "bin" / "paperkit")
sys.path.insert(0, str(ROOT / "src"))

from compare import median_time  # noqa: E402  (bench/ is on the path when this script runs)

from paperkit.cache import cache_dir  # noqa: E402


def build(jobs: int, out: str, cold: bool = False) -> None:
    """One `paperkit handbook --jobs N`; with `cold`, the page-number hints are deleted first."""
    hints = cache_dir()
    if cold and hints is not None:
        shutil.rmtree(hints / "handbook-parts", ignore_errors=True)
    subprocess.run([PAPERKIT, "handbook", "--jobs", str(jobs), "--out", str(WORK / out)], check=True)


def main() -> int:
    """Print the three figures and the ratios."""
    WORK.mkdir(parents=True, exist_ok=True)
    one = median_time(lambda: build(1, "one.pdf"))
    warm = median_time(lambda: build(2, "warm.pdf"))
    cold = median_time(lambda: build(2, "cold.pdf", cold=True))
    same = (WORK / "warm.pdf").read_bytes() == (WORK / "cold.pdf").read_bytes()
    print(f"{os.cpu_count()} cores, median of 3 after a warm-up:")
    print(f"  --jobs 1 (one worker):         {one:6.2f} s")
    print(f"  --jobs 2, warm (hint cached):  {warm:6.2f} s  ({warm / one:.2f}x)")
    print(f"  --jobs 2, cold (no hint):      {cold:6.2f} s  ({cold / one:.2f}x)")
    print(f"  warm and cold PDFs byte-identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
