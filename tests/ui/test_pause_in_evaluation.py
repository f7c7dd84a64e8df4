"""Pause lands within a tick even while a greedy evaluation runs: the worker runs the evaluation a
slice at a time, so a pause asked for in the middle of one stops it there, and Start goes on with
it. The run is the same as a headless one."""

from sandbox.app.session import State
from sandbox.core.trainer import Trainer
from tests.ui.helpers import EpisodeCounter, quick_config, settle
from ui.worker.commands import Evaluate

# Every episode is followed by 500 greedy MountainCar episodes (an untrained agent: 100,000 steps,
# about a second), so the test can ask for a pause in the middle of one without racing it.
EVALUATED = quick_config(solve_rule="greedy", eval_every=1, eval_episodes=500, max_episodes=2)


def test_pause_lands_in_the_middle_of_an_evaluation_and_start_goes_on_with_it(qtbot, window):
    window.begin_run(EVALUATED)
    qtbot.waitUntil(lambda: window.session.config == EVALUATED, timeout=30_000)
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.evaluation is not None, timeout=60_000)
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state is State.PAUSED, timeout=10_000)
    evaluation = window.worker.trainer.evaluation
    assert evaluation is not None and len(evaluation.scores) < 500  # stopped inside it, not after it
    assert len(count) == 0 and window.session.history.episodes == []  # the episode waits for its evaluation
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) == 2, timeout=120_000)
    headless = Trainer(EVALUATED)
    headless.run()
    assert [e.deterministic() for e in count.episodes] == [e.deterministic() for e in headless.history.episodes]


def test_pause_ends_an_evaluation_the_user_asked_for_within_a_tick(qtbot, window):
    results = []
    window.worker.evaluated.connect(results.append)
    window.command.emit(Evaluate(2000))  # 2,000 greedy MountainCar episodes of an untrained agent: seconds of work
    qtbot.waitUntil(lambda: window.session.state is State.EVALUATING, timeout=30_000)
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state is not State.EVALUATING, timeout=10_000)
    settle(qtbot, window)
    assert results == [] and window.worker.mode is None  # ended where it was, nothing reported
    with qtbot.waitSignal(window.worker.evaluated, timeout=60_000) as done:
        window.command.emit(Evaluate(3))
    assert len(done.args[0].scores) == 3
