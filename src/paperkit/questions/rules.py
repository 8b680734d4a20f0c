"""How a paper scores what students write (its 多选 rule): printed on the paper, used by every scorer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """How a paper scores what students write: its 多选 rule, printed on the paper and used by every scorer.

    `half`: every correct option and no wrong one earns full marks, some correct and no wrong one half (rounded
    down), any wrong option 0. `per-option` (the 新高考 rule): each correct option chosen earns its share of the
    points (full marks for all of them), any wrong option 0.
    """

    multi: str = "half"


MULTI_RULES = ("half", "per-option")
DEFAULT_RULES = Rules()
