""""Explain this update" in the real window: Step shows the stored transition's target taken apart,
with the agent's own numbers, and asking for one changes nothing of the run."""

import numpy as np
import pytest
import torch

from sandbox.core.learning.reference import td_targets
from tests.ui.helpers import settle


def test_step_shows_the_stored_transitions_target_and_a_random_one_leaves_the_run_alone(qtbot, window):
    with qtbot.waitSignal(window.worker.explained, timeout=30_000) as blocker:
        window.act_step.trigger()
    shown = blocker.args[0]
    assert window.update_view.shown is shown
    text = window.update_view.text.toPlainText()
    assert "Double DQN target" in text and f"{shown.target:.4f}" in text and "TD error" in text
    assert "push" in text  # MountainCar's action names
    agent = window.worker.trainer.agent
    memory = agent.memory
    assert shown.index == (memory.position - 1) % memory.capacity
    row = [torch.from_numpy(getattr(memory, n)[[shown.index]]) for n in ("rewards", "next_states", "stops",
                                                                          "horizons")]
    expected = td_targets(agent.online, agent.target, agent.config, *row).item()
    assert shown.target == pytest.approx(expected, rel=1e-5, abs=1e-5)
    for _ in range(40):
        window.act_step.trigger()
    settle(qtbot, window)  # every queued step has run and reported (each also explains its own transition)
    assert len(memory) == 41
    streams = (agent.rng.bit_generator.state, memory.rng.bit_generator.state)
    with qtbot.waitSignal(window.worker.explained, timeout=30_000) as sampled:
        window.update_view.sample.click()
    assert 0 <= sampled.args[0].index < len(memory)
    assert (agent.rng.bit_generator.state, memory.rng.bit_generator.state) == streams
    np.testing.assert_array_equal(sampled.args[0].state, memory.states[sampled.args[0].index])


def test_a_new_run_clears_the_explanation(qtbot, window):
    with qtbot.waitSignal(window.worker.explained, timeout=30_000):
        window.act_step.trigger()
    assert window.update_view.shown is not None
    window.begin_run(window.session.config.with_changes(seed=3))
    qtbot.waitUntil(lambda: window.session.config.seed == 3, timeout=30_000)
    assert window.update_view.shown is None and "Press Step" in window.update_view.text.toPlainText()


def test_with_n_step_returns_the_tab_says_when_the_first_transition_is_stored_and_which_one_it_shows(qtbot, window):
    """A new user's look (issue 21): with n step 3, Step twice stored nothing and the tab still said "Press
    Step to store a transition"; "A random one" of a one-transition memory looked like the newest."""
    from tests.ui.helpers import settle

    window.begin_run(window.session.config.with_changes(n_step=3))
    qtbot.waitUntil(lambda: window.session.config.n_step == 3, timeout=30_000)
    view = window.update_view
    for _ in range(2):
        window.act_step.trigger()
    settle(qtbot, window)
    assert "With n step = 3, a transition spans 3 env steps: the first is stored after 3 Steps" in \
        view.text.toPlainText()
    with qtbot.waitSignal(window.worker.explained, timeout=30_000):
        window.act_step.trigger()
    assert view.text.toPlainText().startswith("The newest stored transition\n\nTransition #0 from the replay memory")
    settle(qtbot, window)
    with qtbot.waitSignal(window.worker.explained, timeout=30_000):
        view.sample.click()
    assert view.text.toPlainText().startswith("Drawn at random from the 1 transition in the replay memory\n\n")
