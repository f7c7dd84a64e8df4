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
    """"3 complete, 1 pruned, 0 failed" (", 1 stopped" when a Stop ended one): how a study's trials ended."""
    counts = [(sum(r.state == state for r in rows), state) for state in ("complete", "pruned", "failed", "stopped")]
    return ", ".join(f"{n} {state}" for n, state in counts if n or state != "stopped")


def state_text(row: TrialRow) -> str:
    """"running (1/3 seeds done, 12,400 steps)": a running trial says how far it got."""
    return f"{row.state} ({row.progress})" if row.progress else row.state


def value_cell(row: TrialRow, objective: str, budget: int) -> tuple[str, str]:
    """A trial's value cell and its tooltip: a value holding an unsolved seed's penalty reads as unsolved,
    never as a count of steps."""
    text = row.value_words(value_text(row.value))
    if row.value is None:
        return text, ""
    if row.unsolved:
        return text, (f"Not a count of steps: the median over the seeds includes a seed that did not solve "
                      f"within the budget of {fmt.count(budget)} steps per seed. An unsolved seed counts as the "
                      "budget plus a penalty of up to one budget more, for how far its best greedy mean stayed "
                      "below the threshold (so the search still learns which configs came close).")
    if objective == "steps":
        return text, "The median over the seeds of the env steps until a greedy check solved the env"
    return text, "The median over the seeds of the best greedy mean"


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
