import numpy as np
import torch

from sandbox.app.policy_map import coverage, policy_map, unavailable_reason
from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer


def test_the_map_equals_the_networks_q_over_the_grid():
    trainer = Trainer(load_preset("fast"))
    trainer.run(2)
    m = policy_map(trainer.agent, trainer.scaler, trainer.spec, resolution=16)
    assert m.q.shape == (16, 16, 3) and m.xs[0] > -1.2 and m.xs[-1] < 0.6 and m.ys[-1] < 0.07
    for iy, ix in ((0, 0), (5, 11), (15, 15)):
        obs = trainer.scaler(np.array([m.xs[ix], m.ys[iy]]))
        np.testing.assert_allclose(m.q[iy, ix], trainer.agent.q_values(obs), rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            direct = trainer.agent.online(torch.from_numpy(obs)[None])[0].numpy()
        np.testing.assert_allclose(m.q[iy, ix], direct, rtol=1e-5, atol=1e-6)  # batched vs single matmul
    assert m.value[3, 4] == m.q[3, 4].max() and m.policy[3, 4] == m.q[3, 4].argmax()


def test_coverage_counts_the_memorys_states_in_raw_units():
    trainer = Trainer(load_preset("fast"))
    trainer.run(1)
    counts = coverage(trainer.agent, trainer.scaler, trainer.spec, resolution=8)
    assert counts.sum() == len(trainer.agent.memory) == 200
    start = trainer.history.episodes and trainer.trajectory[0]
    ix = int((start[0] + 1.2) / 1.8 * 8)
    iy = int((start[1] + 0.07) / 0.14 * 8)
    assert counts[iy, ix] > 0  # the first state lies in its cell


def test_the_trajectory_is_the_episodes_states():
    trainer = Trainer(load_preset("notebook"))
    states = []
    while True:
        result = trainer.step()
        states.append(result.state)
        if result.episode:
            states.append(result.next_state)
            break
    np.testing.assert_array_equal(trainer.trajectory, np.array(states))


def test_maps_need_two_bounded_dimensions():
    cartpole = Trainer(load_preset("cartpole"))
    assert "observes 4 numbers" in unavailable_reason(cartpole.spec)
    assert unavailable_reason(Trainer(load_preset("notebook")).spec) is None
