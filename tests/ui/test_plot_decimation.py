"""The plots draw a few hundred points of a long run and still show every extreme: each curve is given
its minimum and maximum per pixel column (`ui/views/envelope.py`), the newest points included, whether
the run arrives whole (an opened agent) or in the worker's batches, and in a zoomed view too.

What is checked is what the curve items hold to draw (`getData`, `dataBounds`), not the envelope alone.
"""

import numpy as np
import pytest

from sandbox.core.trainer import EpisodeStats, History
from ui.views.plots import TrainingPlots

EPISODES, LOSSES = 5_000, 100_000
SCORE_SPIKE, SCORE_DIP = 3_217, 4_998  # episode indices (0-based) of the best and worst score
LOSS_SPIKE, LOSS_LAST = 61_234, LOSSES - 1  # the largest loss, and the newest one (the smallest)


def episode(i: int, score: float, epsilon: float) -> EpisodeStats:
    return EpisodeStats(index=i, score=score, length=200, terminated=False, truncated=True,
                        moving_average=score / 2, epsilon=epsilon, mean_loss=0.1, total_steps=200 * (i + 1),
                        updates=20 * (i + 1), steps_per_second=1000.0, solved=False, start_value=0.0,
                        discounted_return=0.0)


def long_history() -> History:
    """5,000 episodes and 100,000 losses of noise, with one spike each way at known places."""
    rng = np.random.default_rng(7)
    scores = rng.uniform(-200, -150, EPISODES)
    scores[SCORE_SPIKE], scores[SCORE_DIP] = -90.0, -400.0
    epsilons = np.linspace(1.0, 0.05, EPISODES)
    history = History([episode(i, float(s), float(e)) for i, (s, e) in enumerate(zip(scores, epsilons, strict=True))])
    losses = rng.uniform(0.5, 1.0, LOSSES).astype(np.float32)
    losses[LOSS_SPIKE], losses[LOSS_LAST] = 250.0, 0.001
    history.losses.frombytes(losses.tobytes())
    return history


@pytest.fixture
def plots(qtbot):
    view = TrainingPlots()
    qtbot.addWidget(view)
    view.resize(500, 900)
    view.show()
    qtbot.waitExposed(view)
    return view


def columns(plots, curve) -> int:
    plot = next(line.plot for line in plots.lines if line.curve is curve)
    return int(plot.getViewBox().width())


def test_decimation_keeps_every_extreme(plots):
    history = long_history()
    plots.reset(history, -110.0)
    losses = np.frombuffer(history.losses, dtype=np.float32)
    scores = np.array([e.score for e in history.episodes])
    for curve, values, spike, dip in ((plots.loss_curve, losses, LOSS_SPIKE, LOSS_LAST),
                                      (plots.score_curve, scores, SCORE_SPIKE, SCORE_DIP)):
        x, y = curve.getData()
        assert 100 < len(y) <= 2 * columns(plots, curve) + 4 < len(values) / 5  # a fraction of the points
        assert y.max() == values.max() and y.min() == values.min()  # both extremes, at their places
        assert x[np.argmax(y)] == spike + 1 and x[np.argmin(y)] == dip + 1
        assert curve.dataBounds(1) == (values.min(), values.max())  # what the auto-range fits
        assert x[0] == 1 and x[-1] == len(values)  # the curve spans the whole run
    x, y = plots.epsilon_curve.getData()
    assert (y.max(), y.min(), x[-1]) == (1.0, 0.05, EPISODES)


def test_the_newest_points_are_drawn_batch_by_batch(plots):
    """As the worker sends them (a batch 4 times a second): after each redraw the curve ends at the
    newest loss and holds the largest so far, wherever it fell."""
    plots.reset(History(), None)
    losses = np.frombuffer(long_history().losses, dtype=np.float32)
    batches = np.array_split(losses, 97)
    for i, batch in enumerate(batches):
        plots.add_losses(batch)
        plots.redraw()
        n = sum(len(b) for b in batches[: i + 1])
        x, y = plots.loss_curve.getData()
        assert x[-1] == n and y[-1] == losses[n - 1]
        assert y.max() == losses[:n].max() and y.min() == losses[:n].min()
        assert len(y) <= 2 * columns(plots, plots.loss_curve) + 4


def test_a_zoomed_view_shows_its_slice_point_by_point(plots):
    history = long_history()
    plots.reset(history, None)
    box = plots.loss_plot.getViewBox()
    box.setXRange(LOSS_SPIKE - 100, LOSS_SPIKE + 100, padding=0)  # 200 updates: fewer than the plot's columns
    plots.redraw()
    losses = np.frombuffer(history.losses, dtype=np.float32)
    x, y = plots.loss_curve.getData()
    assert x[0] <= LOSS_SPIKE - 100 and x[-1] >= LOSS_SPIKE + 100 and len(x) < 300  # the slice, to the edges
    np.testing.assert_array_equal(y, losses[x.astype(int) - 1])  # every point of it, exactly
    box.enableAutoRange(x=True)  # back to the whole run
    plots.redraw()
    x, y = plots.loss_curve.getData()
    assert x[-1] == LOSSES and y.max() == losses.max()
