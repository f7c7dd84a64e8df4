""""Explain this update" holds to the agent's own target computation, number for number."""

import numpy as np
import pytest
import torch

from sandbox.core.config import load_preset
from sandbox.core.explain import describe, explain_row, newest_row
from sandbox.core.learning.reference import td_loss, td_targets
from sandbox.core.trainer import Trainer


@pytest.fixture(scope="module", params=["fast", "reference"])
def trained(request):
    t = Trainer(load_preset("nstep").with_changes(memory_capacity=2000, max_episodes=10**6,
                                                   backend=request.param))
    for _ in range(1500):  # n-step transitions, some of them terminal or with shorter horizons
        t.step()
    assert t.agent.updates > 100
    return t


@pytest.mark.parametrize("double_dqn", [True, False])
def test_each_terms_target_equals_the_agents_own_for_a_sampled_batch(trained, double_dqn):
    agent = trained.agent
    config = agent.config.with_changes(double_dqn=double_dqn)
    memory = agent.memory
    rows = np.random.default_rng(0).integers(0, len(memory), size=64)
    explained = [explain_row(agent.online, agent.target, config, memory, int(i)) for i in rows]
    columns = [torch.from_numpy(getattr(memory, name)[rows]) for name in ("rewards", "next_states", "stops",
                                                                           "horizons")]
    expected = td_targets(agent.online, agent.target, config, *columns)  # what the reference step computes
    got = torch.tensor([e.target for e in explained])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    if hasattr(agent.learner, "numpy_td_targets"):  # and the fast backend's own numpy targets
        agent.learner.config = config
        fast = agent.learner.numpy_td_targets(*(getattr(memory, n)[rows] for n in ("rewards", "next_states", "stops",
                                                                                   "horizons")))
        agent.learner.config = agent.config
        np.testing.assert_allclose(got.numpy(), fast, rtol=1e-5, atol=1e-4)
    with torch.no_grad():
        q = agent.online(torch.from_numpy(memory.states[rows])).gather(
            1, torch.from_numpy(memory.actions[rows]).unsqueeze(1)).squeeze(1)
    loss = td_loss(q, expected, config.loss).item()  # the batch's loss is the mean of the rows' terms
    assert np.mean([e.loss for e in explained]) == pytest.approx(loss, rel=1e-4)
    assert any(e.stop for e in explained) or any(e.horizon < config.n_step for e in explained)
    # Double DQN never scores above the max rule; on a trained net it is usually below it somewhere.
    assert all(e.double_target <= e.max_target + 1e-6 for e in explained)
    assert any(e.max_target - e.double_target > 1e-4 for e in explained)


def test_explaining_reads_the_nets_only_and_changes_nothing_of_the_run(trained):
    agent = trained.agent
    before = (agent.rng.bit_generator.state, agent.memory.rng.bit_generator.state,
              torch.nn.utils.parameters_to_vector(agent.online.parameters()).clone())
    index = newest_row(agent.memory)
    assert index is not None
    lines = describe(explain_row(agent.online, agent.target, agent.config, agent.memory, index),
                     ("push left", "no push", "push right"))
    assert len(lines) == 9 and "Double DQN target" in lines[5] and "TD error" in lines[-1]
    assert (agent.rng.bit_generator.state, agent.memory.rng.bit_generator.state) == before[:2]
    assert torch.equal(torch.nn.utils.parameters_to_vector(agent.online.parameters()), before[2])
