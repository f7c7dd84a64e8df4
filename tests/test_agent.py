import itertools

import numpy as np
import pytest
import torch

from sandbox.core.agent import DQNAgent
from sandbox.core.config import Config, load_preset
from sandbox.core.envs import EnvSpec
from sandbox.core.learning.reference import td_targets

SPEC = EnvSpec("MountainCar-v0", 2, 3, (-1.2, -0.07), (0.6, 0.07), -110.0, 200)


def make_agent(**changes) -> DQNAgent:
    config = load_preset("notebook").with_changes(**changes)
    return DQNAgent(config, SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))


def params(net):
    return [p.detach().clone() for p in net.parameters()]


def observe_random(agent: DQNAgent, n: int) -> list[float]:
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(n):
        s = rng.normal(size=2).astype(np.float32)
        losses += agent.observe(s, int(rng.integers(3)), -1.0, s + 0.1, False)
    return losses


def test_epsilon_follows_the_notebooks_formula():
    agent = make_agent()
    for steps in [0, 1, 199, 200, 401, 5000, 100000]:
        agent.steps = steps
        assert agent.epsilon == max(1.0 * 0.9 ** int(steps / 200), 0.001)


def test_soft_update_blends_tau_of_online_into_target():
    agent = make_agent(tau=0.1, learning_starts=10**6)
    with torch.no_grad():
        for p in agent.online.parameters():
            p.add_(1.0)
    online, target = params(agent.online), params(agent.target)
    observe_random(agent, 1)
    for o, t, new in zip(online, target, agent.target.parameters(), strict=True):
        torch.testing.assert_close(new, 0.9 * t + 0.1 * o)


def test_hard_update_copies_every_interval_only():
    agent = make_agent(target_update="hard", target_update_interval=3, learning_starts=10**6)
    with torch.no_grad():
        for p in agent.online.parameters():
            p.add_(1.0)
    before = params(agent.target)
    observe_random(agent, 2)
    for b, t in zip(before, agent.target.parameters(), strict=True):
        torch.testing.assert_close(t, b)
    observe_random(agent, 1)
    for o, t in zip(agent.online.parameters(), agent.target.parameters(), strict=True):
        torch.testing.assert_close(t, o)


def test_double_dqn_target_matches_a_hand_computed_batch():
    agent = make_agent(gamma=0.5)
    # Online prefers action 2 in s'; target scores action 2 as 7 (and its max, 9, is action 0).
    agent.online.forward = lambda x: torch.tensor([[1.0, 2.0, 3.0], [5.0, 1.0, 0.0]])
    agent.target.forward = lambda x: torch.tensor([[9.0, 0.0, 7.0], [4.0, 8.0, 2.0]])
    rewards, stops = torch.tensor([1.0, -1.0]), torch.tensor([0.0, 1.0])
    y = td_targets(agent.online, agent.target, agent.config, rewards, torch.zeros(2, 2), stops)
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.5 * 7.0, -1.0]))
    agent.config = agent.config.with_changes(double_dqn=False)
    y = td_targets(agent.online, agent.target, agent.config, rewards, torch.zeros(2, 2), torch.zeros(2))
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.5 * 9.0, -1.0 + 0.5 * 8.0]))
    # n-step transitions discount the bootstrap by gamma ** horizon.
    y = td_targets(agent.online, agent.target, agent.config, rewards, torch.zeros(2, 2), torch.zeros(2),
                   torch.tensor([3.0, 1.0]))
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.125 * 9.0, -1.0 + 0.5 * 8.0]))


def test_learns_on_schedule_and_keeps_losses_as_floats():
    agent = make_agent(update_interval=5, update_times=2, batch_size=8)
    losses = observe_random(agent, 20)
    # Steps 5, 10, 15, 20 are on schedule; at step 5 the memory holds less than a batch.
    assert agent.updates == 2 * 3 and len(losses) == 6
    assert all(type(x) is float for x in losses)


def test_learning_waits_for_learning_starts_and_a_full_batch():
    agent = make_agent(update_interval=1, batch_size=16, learning_starts=30)
    observe_random(agent, 29)
    assert agent.updates == 0
    observe_random(agent, 1)
    assert agent.updates == 1


def test_a_new_learning_rate_reaches_the_optimizer_at_once():
    agent = make_agent()
    agent.set_config(agent.config.with_changes(learning_rate=2.5e-4))
    assert [g["lr"] for g in agent.learner.optimizer.param_groups] == [2.5e-4]


def test_gradient_clipping_bounds_the_step():
    agent = make_agent(update_interval=1, batch_size=4, gradient_clip=1e-3, learning_rate=1.0)
    before = params(agent.online)
    observe_random(agent, 4)
    total = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(agent.online.parameters(), before, strict=True)))
    # Adam normalises steps, so check the gradient itself was clipped in the last update.
    grad_norm = torch.sqrt(sum((p.grad**2).sum() for p in agent.online.parameters()))
    assert grad_norm <= 1e-3 * 1.0001 and total > 0


def test_greedy_act_is_argmax_and_cuda_is_refused_without_a_gpu():
    agent = make_agent()
    obs = np.array([0.1, -0.02], np.float32)
    action, q = agent.act(obs, greedy=True)
    assert action == int(np.argmax(q))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            DQNAgent(Config(device="cuda"), SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))


def test_fast_gradients_land_in_one_buffer_and_clipping_matches_clip_grad_norm():
    agent = make_agent(gradient_clip=0.05)
    fast = agent.learner
    fast.gradients.zero_()
    (agent.online(torch.ones(4, 2)).pow(2).sum() * 100).backward()  # autograd accumulates into the views
    layers = [p.grad.clone() for p in agent.online.parameters()]
    assert fast.gradients.abs().sum() > 0
    torch.testing.assert_close(fast.gradients, torch.cat([g.reshape(-1) for g in layers]))
    holders = [torch.nn.Parameter(torch.zeros_like(g)) for g in layers]
    for h, g in zip(holders, layers, strict=True):
        h.grad = g
    torch.nn.utils.clip_grad_norm_(holders, 0.05)  # scales the `layers` tensors in place
    fast.clip_gradients(0.05)
    torch.testing.assert_close(fast.gradients, torch.cat([g.reshape(-1) for g in layers]))
    before = [p.detach().clone() for p in agent.online.parameters()]
    agent.learner.optimizer.step()  # Adam steps the buffer: every layer moves
    assert all(not torch.equal(b, p) for b, p in zip(before, agent.online.parameters(), strict=True))


def test_ez_greedy_holds_exploratory_actions_and_plain_epsilon_greedy_does_not():
    obs = np.zeros(2, np.float32)
    plain = make_agent(epsilon_start=1.0, epsilon_end=1.0)
    held = make_agent(epsilon_start=1.0, epsilon_end=1.0, explore_duration=50)
    runs = []
    for agent in (plain, held):
        actions = [agent.act(obs)[0] for _ in range(2000)]
        runs.append(np.mean([len(list(g)) for _, g in itertools.groupby(actions)]))
    assert runs[0] < 2.0 < 4.0 < runs[1]  # mean run length: ~1.5 for uniform random, longer when held
    held._hold_left = 10
    held.observe(obs, 0, -1.0, obs, False, episode_end=True)
    assert held._hold_left == 0  # a hold never crosses into the next episode


@pytest.mark.parametrize("double_dqn", [True, False])
def test_fast_numpy_td_targets_equal_the_torch_ones(double_dqn):
    agent = make_agent(double_dqn=double_dqn, gamma=0.9)
    observe_random(agent, 300)
    _, _, r, s2, d, _ = agent.memory.sample(32)
    h = np.arange(32, dtype=np.float32) % 5 + 1
    for horizons in (None, h):
        expected = td_targets(agent.online, agent.target, agent.config, *(torch.from_numpy(x) for x in (r, s2, d)),
                              None if horizons is None else torch.from_numpy(horizons))
        np.testing.assert_allclose(agent.learner.numpy_td_targets(r, s2, d, horizons), expected.numpy(), rtol=1e-5,
                                   atol=1e-6)
