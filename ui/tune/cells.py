"""How the Tune view writes what a study holds: counts of trial states, numbers as the rest of the app
writes them, and stored values as bounded, escaped text (another machine or an attacker wrote them)."""

from __future__ import annotations

import math
from typing import Any

from sandbox.io.text import cut, escaped
from sandbox.tune.results import TrialRow
from ui import format as fmt

MAX_CELL = 40  # characters of a stored value in a table cell (its tooltip shows up to MAX_TIP)
MAX_TIP = 2000


def counts_text(rows: list[TrialRow]) -> str:
    """"3 complete, 1 pruned, 0 failed": how a study's trials ended."""
    return ", ".join(f"{sum(r.state == state for r in rows)} {state}" for state in ("complete", "pruned", "failed"))


def full_text(value: Any, limit: int = MAX_TIP) -> str:
    """A stored value as one line of text, at most about `limit` characters, whatever its type."""
    return escaped(cut(value if isinstance(value, str) else repr(value), limit))


def value_text(value: Any) -> str:
    """A cell's text, as the rest of the app writes numbers: 91,974 steps, learning rate 0.0007413;
    anything else (a stored param or note) escaped and cut to MAX_CELL characters."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return full_text(value if isinstance(value, str) else str(value), MAX_CELL)
    if isinstance(value, int) or abs(value) >= 1000:
        return fmt.count(round(value))
    return f"{value:.4g}"
