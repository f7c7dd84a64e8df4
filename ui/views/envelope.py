"""Min/max decimation of a growing series, per pixel column: what a curve draws of 10⁵+ points.

A line of more points than its plot has pixel columns puts many points on each column, and only each
column's lowest and highest are seen. So a curve gets, for each block of points that shares a column,
the block's minimum and maximum (in time order), and the first and last point: every extreme is drawn,
the newest points too (pyqtgraph's own 'peak' downsampling drops the last partial block, which is where
a live run's news is). The blocks of the whole series are kept between redraws and extended by the
points that arrived since (their size doubles as the series outgrows the columns), so a redraw costs
what is new, not the whole series; a zoomed view decimates its visible slice afresh.
"""

from __future__ import annotations

import numpy as np


def _extremes(values: np.ndarray, start: int, blocks: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the minimum and of the maximum of each of `blocks` blocks of `size` from `start`."""
    if blocks == 0:
        empty = np.empty(0, np.int64)
        return empty, empty
    chunk = values[start : start + blocks * size].reshape(blocks, size)
    offsets = start + size * np.arange(blocks, dtype=np.int64)
    return offsets + chunk.argmin(axis=1), offsets + chunk.argmax(axis=1)


def _tail(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Indices of the minimum and the maximum of the points [start, stop) that fill no block."""
    if stop - start <= 2:
        return np.arange(start, stop, dtype=np.int64)
    part = values[start:stop]
    return np.array([start + part.argmin(), start + part.argmax()], dtype=np.int64)


def _merged(values: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of neighbouring blocks as one block each (an odd last block is dropped)."""
    pairs = len(lows) // 2
    lo, hi = lows[: 2 * pairs].reshape(pairs, 2), highs[: 2 * pairs].reshape(pairs, 2)
    low_values, high_values = values[lo], values[hi]
    return (np.where(low_values[:, 0] <= low_values[:, 1], lo[:, 0], lo[:, 1]),
            np.where(high_values[:, 0] >= high_values[:, 1], hi[:, 0], hi[:, 1]))


def block_size(points: int, columns: int) -> int:
    """The smallest power of two whose blocks of `points` fit in `columns` (two points drawn per column)."""
    size = 1
    while points > size * max(1, columns):
        size *= 2
    return size


class Envelope:
    """The indices to draw of one append-only series; `reset` when the series starts over."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._size = 1
        self._lows = self._highs = np.empty(0, np.int64)  # per full block of the series
        self._covered = 0  # points in the full blocks

    def indices(self, values: np.ndarray, columns: int) -> np.ndarray:
        """Sorted indices into `values` (the whole series so far) whose points show all of it on `columns`."""
        n = len(values)
        if n == 0:
            return np.empty(0, np.int64)
        size = block_size(n, columns)
        if size < self._size or self._covered > n:  # a wider plot (or a shorter series): blocks afresh
            self.reset()
        if not len(self._lows):
            self._size = size  # no blocks yet: none to double up from
        while self._size < size:
            self._lows, self._highs = _merged(values, self._lows, self._highs)
            self._size *= 2
            self._covered = len(self._lows) * self._size
        new = (n - self._covered) // self._size
        lows, highs = _extremes(values, self._covered, new, self._size)
        self._lows, self._highs = np.concatenate([self._lows, lows]), np.concatenate([self._highs, highs])
        self._covered += new * self._size
        return np.unique(np.concatenate([[0, n - 1], self._lows, self._highs, _tail(values, self._covered, n)]))


def slice_indices(values: np.ndarray, start: int, stop: int, columns: int) -> np.ndarray:
    """Sorted indices into `values` showing its slice [start, stop) on `columns`, and one point beyond
    each end, so the line runs to the view's edges (a zoomed view: decimated afresh each time)."""
    start, stop = max(0, start - 1), min(len(values), stop + 1)
    if stop <= start:
        return np.empty(0, np.int64)
    size = block_size(stop - start, columns)
    blocks = (stop - start) // size
    lows, highs = _extremes(values, start, blocks, size)
    return np.unique(np.concatenate([[start, stop - 1], lows, highs, _tail(values, start + blocks * size, stop)]))
