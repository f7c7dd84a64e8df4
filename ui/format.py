"""Numbers formatted one way everywhere: counts with thousands separators, sizes, scores, rates."""

from __future__ import annotations

import math


def count(n: int) -> str:
    return f"{n:,}"


def plural(n: int, word: str) -> str:
    """"1 step", "2 steps", "1,000 episodes": a count and its noun, in the number's form."""
    return f"{count(n)} {word}" if n == 1 else f"{count(n)} {word}s"


def size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} kB"


def score(x: float) -> str:
    return f"{x:,.1f}" if x != int(x) else f"{int(x):,}"


def rate(per_second: float) -> str:
    return "—" if per_second <= 0 or not math.isfinite(per_second) else f"{per_second:,.0f}"


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"
