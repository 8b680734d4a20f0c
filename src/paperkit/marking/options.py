"""The marking commands' defaults, in one place (the score sheet, the analysis and the CLI's help read them)."""

from __future__ import annotations

SHEET_ROWS = 50  # blank rows on a score sheet of an exam without a roster
PASS_SHARE = 0.60  # 及格: this share of the full marks
EXCELLENT_SHARE = 0.85  # 优秀: this share of the full marks
LOW_SHARE = 0.4  # 低分: under 40 % of the full marks
PER_STUDENT = 6  # 错题重练: questions per student
