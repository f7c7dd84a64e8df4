"""The learning fast path against a plain reference, and the nets' bound layer views.

The fast path (sandbox/core/agent.py, sandbox/core/networks.py) backpropagates the MLP by hand, keeps the
online weights, their gradients and the target weights in flat buffers, clips the global norm
itself, steps a fused Adam on one flat parameter, updates the target with one `lerp_` and computes
TD targets in numpy. The reference below is the textbook version: per-layer `nn.Linear` modules,
autograd, `clip_grad_norm_`, `torch.optim.Adam` over the per-layer parameters, a Polyak update
(or a hard copy) per layer and torch TD targets. Both start from the same weights and learn from
the very same sampled batches (the agent's replay memory is recorded as it samples).
"""

import copy
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import sandbox.core.agent
from sandbox.core.agent import DQNAgent, flatten_parameters
from sandbox.core.config import Config
from sandbox.core.envs import EnvSpec
from sandbox.core.networks import build_network

SPEC = EnvSpec("MountainCar-v0", 4, 3, (-1.0,) * 4, (1.0,) * 4, None, None)

# Both sides compute the same float32 maths, but not in the same order: the hand-written backprop
# sums in other orders than autograd, the flat global norm is one reduction instead of a norm of
# per-layer norms, fused Adam and `lerp_` round differently from the per-layer Adam and
# (1 - tau) * t + tau * p, and numpy's matmuls block differently from torch's. Each difference is
# an ulp or so (~1e-7 relative) per operation; over ~225 Adam steps they add up to at most 1.7e-6
# (measured, online and target, over all cases below; typically 2e-7 to 8e-7) on weights of order
# 0.1-1. A bound of 2e-5 leaves a > 10x margin for rounding, while a real error moves the weights
# far more: Adam steps each weight by up to lr = 5e-3. (Checked by mutation: the target net's
# argmax for Double DQN, horizons ignored, tau off by 1 %, the clip's epsilon 1e-3 instead of 1e-6,
# Huber clamped at 2, a ReLU mask of >= 0 each fail every case they touch.)
ATOL = RTOL = 2e-5
STEPS = 240  # env steps; learning starts at `batch_size` transitions, so >= 200 learn() calls
MIN_LEARNS = 200


@pytest.fixture(autouse=True)
def one_torch_thread():
    """As the app runs (sandbox.core.trainer.configure_torch): on this 2-core machine, shared, torch's
    second intra-op thread makes each tiny op wait for a busy core (a fused Adam step took ~5 ms)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


BASE = dict(device="cpu", hidden_units=16, batch_size=16, learning_rate=5e-3, gamma=0.9, tau=0.05,
            target_update_interval=20, update_interval=1, update_times=1, learning_starts=16,
            memory_capacity=1000, seed=7)

# Each option's every value is covered, and every pair of values of the binary options (and of the
# network with the depth) occurs at least once: a pairwise design instead of the 192-case product.
CASES = [
    # network, hidden_layers, loss, target_update, double_dqn, n_step, gradient_clip
    ("mlp", 1, "mse", "soft", True, 1, 0.0),
    ("mlp", 1, "huber", "hard", False, 3, 0.5),
    ("mlp", 2, "mse", "hard", True, 3, 0.5),
    ("mlp", 2, "huber", "soft", False, 1, 0.0),
    ("mlp", 3, "mse", "soft", False, 3, 0.5),
    ("mlp", 3, "huber", "hard", True, 1, 0.0),
    ("dueling", 1, "mse", "hard", False, 1, 0.5),
    ("dueling", 1, "huber", "soft", True, 3, 0.0),
    ("dueling", 2, "mse", "soft", True, 3, 0.0),
    ("dueling", 2, "huber", "hard", False, 1, 0.5),
    ("dueling", 3, "mse", "hard", True, 1, 0.0),
    ("dueling", 3, "huber", "soft", False, 3, 0.5),
    ("mlp", 2, "huber", "soft", True, 3, 0.5),
    ("dueling", 2, "mse", "hard", False, 1, 0.0),
]
FIELDS = ("network", "hidden_layers", "loss", "target_update", "double_dqn", "n_step", "gradient_clip")


def test_cases_cover_every_pair_of_values():
    binary = range(2, len(FIELDS))
    for i, j in itertools.combinations(binary, 2):
        values_i = {c[i] for c in CASES}
        values_j = {c[j] for c in CASES}
        assert {(c[i], c[j]) for c in CASES} == set(itertools.product(values_i, values_j)), (FIELDS[i], FIELDS[j])
    for i in range(len(FIELDS)):
        if i != 1:
            assert {(c[1], c[i]) for c in CASES} == set(itertools.product({1, 2, 3}, {c[i] for c in CASES}))


class ReferenceMLP(nn.Module):
    """Same layout (and state_dict keys) as QNetwork, through nn.Sequential and autograd."""

    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.body = nn.Sequential(*layers[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ReferenceDueling(nn.Module):
    """Same layout (and state_dict keys) as DuelingQNetwork."""

    def __init__(self, sizes: list[int], n_actions: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.trunk = nn.Sequential(*layers)
        self.value = nn.Linear(sizes[-1], 1)
        self.advantage = nn.Linear(sizes[-1], n_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


class Reference:
    """Plain Double-DQN learning on per-layer parameters."""

    def __init__(self, agent: DQNAgent) -> None:
        c = agent.config
        self.config = c
        sizes = [SPEC.obs_dim] + [c.hidden_units] * c.hidden_layers
        if c.network == "mlp":
            self.online = ReferenceMLP([*sizes, SPEC.n_actions])
        else:
            self.online = ReferenceDueling(sizes, SPEC.n_actions)
        with torch.no_grad():  # fresh per-layer storage, not views of the agent's buffers
            self.online.load_state_dict({k: v.clone() for k, v in agent.online.state_dict().items()})
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=c.learning_rate)
        self.clipped = 0  # steps on which the clip actually scaled the gradient

    def learn(self, batch: tuple[np.ndarray, ...]) -> float:
        c = self.config
        s, a, r, s2, d, h = (torch.from_numpy(x) for x in batch)
        with torch.no_grad():
            q_next_target = self.target(s2)
            if c.double_dqn:
                q_next = q_next_target.gather(1, self.online(s2).argmax(dim=1, keepdim=True)).squeeze(1)
            else:
                q_next = q_next_target.max(dim=1).values
            y = r + torch.pow(c.gamma, h) * (1.0 - d) * q_next  # h = 1 throughout when n_step = 1
        q = self.online(s).gather(1, a.unsqueeze(1)).squeeze(1)
        loss = F.mse_loss(q, y) if c.loss == "mse" else F.smooth_l1_loss(q, y)
        self.optimizer.zero_grad()
        loss.backward()
        if c.gradient_clip > 0:
            norm = nn.utils.clip_grad_norm_(self.online.parameters(), c.gradient_clip)
            self.clipped += bool(norm > c.gradient_clip)
        self.optimizer.step()
        return loss.item()

    def update_target(self, steps: int) -> None:
        c = self.config
        with torch.no_grad():
            if c.target_update == "soft":
                for t, p in zip(self.target.parameters(), self.online.parameters(), strict=True):
                    t.copy_((1.0 - c.tau) * t + c.tau * p)
            elif steps % c.target_update_interval == 0:
                self.target.load_state_dict(self.online.state_dict())


def record_batches(agent: DQNAgent) -> list[tuple[np.ndarray, ...]]:
    """Copies of every batch the agent samples, in order (the memory reuses its arrays)."""
    batches: list[tuple[np.ndarray, ...]] = []
    sample = agent.memory.sample

    def recording(batch_size: int):
        batch = sample(batch_size)
        batches.append(tuple(x.copy() for x in batch))
        return batch

    agent.memory.sample = recording
    return batches


def transitions(seed: int, n: int):
    """A random stream with terminal stops and truncations (which flush the n-step buffer)."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=SPEC.obs_dim).astype(np.float32)
    for _ in range(n):
        s2 = (s + rng.normal(scale=0.3, size=SPEC.obs_dim)).astype(np.float32)
        stop, truncated = rng.random() < 0.05, rng.random() < 0.05
        yield s, int(rng.integers(SPEC.n_actions)), float(rng.normal(scale=2.0)), s2, stop, stop or truncated
        s = rng.normal(size=SPEC.obs_dim).astype(np.float32) if stop or truncated else s2


def max_differences(agent: DQNAgent, ref: Reference) -> tuple[float, float]:
    """Largest absolute difference between the agent's and the reference's online, target weights."""
    out = []
    for ours, theirs in ((agent.online, ref.online), (agent.target, ref.target)):
        mine = ours.state_dict()
        out.append(max((mine[k] - v).abs().max().item() for k, v in theirs.state_dict().items()))
    return out[0], out[1]


def assert_weights_close(agent: DQNAgent, ref: Reference) -> None:
    for ours, theirs in ((agent.online, ref.online), (agent.target, ref.target)):
        mine = ours.state_dict()
        for k, v in theirs.state_dict().items():
            torch.testing.assert_close(mine[k], v, atol=ATOL, rtol=RTOL, msg=lambda m, k=k: f"{k}: {m}")


@pytest.mark.parametrize(FIELDS, CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_fast_path_matches_plain_autograd_reference(network, hidden_layers, loss, target_update, double_dqn,
                                                    n_step, gradient_clip):
    config = Config().with_changes(network=network, hidden_layers=hidden_layers, loss=loss,
                                   target_update=target_update, double_dqn=double_dqn, n_step=n_step,
                                   gradient_clip=gradient_clip, **BASE)
    agent = DQNAgent(config, SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))
    ref = Reference(agent)
    batches = record_batches(agent)
    learns = 0
    worst = [0.0, 0.0]
    for transition in transitions(CASES.index((network, hidden_layers, loss, target_update, double_dqn, n_step,
                                               gradient_clip)), STEPS):
        losses = agent.observe(*transition)
        assert len(batches) == learns + len(losses)
        for value, batch in zip(losses, batches[learns:], strict=True):
            assert value == pytest.approx(ref.learn(batch), rel=1e-4, abs=1e-6)
        learns += len(losses)
        ref.update_target(agent.steps)
        worst = [max(w, d) for w, d in zip(worst, max_differences(agent, ref), strict=True)]
    assert learns >= MIN_LEARNS
    if gradient_clip > 0:
        assert ref.clipped > 0, "the clip never acted: the case would not test it"
    if n_step > 1:
        assert any((b[5] > 1).any() for b in batches), "no multi-step transition was sampled"
    moved = max((p - q).abs().max().item() for p, q in zip(
        agent.online.parameters(), build_network(network, 4, 3, 16, hidden_layers).parameters(), strict=True))
    assert moved > 10 * ATOL
    print(f"max |diff| online {worst[0]:.2e} target {worst[1]:.2e} over {learns} learn steps")
    assert max(worst) <= ATOL + RTOL, worst  # along the way too (the weights are of order 1)
    assert_weights_close(agent, ref)


# --- the nets' layer views --------------------------------------------------------------------

OBS = np.random.default_rng(0).normal(size=(8, SPEC.obs_dim)).astype(np.float32)


def assert_numpy_q_is_torch_forward(net: nn.Module) -> None:
    with torch.no_grad():
        expected = net(torch.from_numpy(OBS)).numpy()
    np.testing.assert_allclose(net.numpy_q(OBS), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.numpy_q(OBS[0]), expected[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
def test_numpy_q_before_flattening_then_learning_follows_the_learned_weights(kind, monkeypatch):
    def build_and_act(*args):
        net = build_network(*args)
        net.numpy_q(OBS)  # acts on the parameters' original storage, before the agent flattens them
        return net

    monkeypatch.setattr(sandbox.core.agent, "build_network", build_and_act)
    config = Config().with_changes(network=kind, tau=0.1, **{k: v for k, v in BASE.items() if k != "tau"})
    agent = DQNAgent(config, SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))
    before = agent.online.numpy_q(OBS).copy()
    losses = [loss for t in transitions(0, 60) for loss in agent.observe(*t)]
    assert len(losses) > 10
    assert np.abs(agent.online.numpy_q(OBS) - before).max() > 1e-3  # the learning is seen ...
    assert_numpy_q_is_torch_forward(agent.online)  # ... and is exactly the weights being learned
    assert_numpy_q_is_torch_forward(agent.target)  # a deepcopy of a net that had acted already
    r, s2, d = (x.copy() for x in agent.memory.sample(16)[2:5])
    np.testing.assert_allclose(agent.numpy_td_targets(r, s2, d),
                               agent.td_targets(*(torch.from_numpy(x) for x in (r, s2, d))), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
def test_a_deepcopy_acts_on_its_own_weights(kind):
    net = build_network(kind, SPEC.obs_dim, SPEC.n_actions, 16, 2)
    original = net.numpy_q(OBS).copy()
    twin = copy.deepcopy(net)
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(-1.5)
    assert_numpy_q_is_torch_forward(twin)
    np.testing.assert_array_equal(net.numpy_q(OBS), original)  # the original is untouched
    assert not np.allclose(twin.numpy_q(OBS), original)
    flat = flatten_parameters(twin)  # new storage for the copy: its views move with it
    flat.add_(0.25)
    assert_numpy_q_is_torch_forward(twin)
    np.testing.assert_array_equal(net.numpy_q(OBS), original)


# --- CUDA -----------------------------------------------------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("kind", ["mlp", "dueling"])
def test_cuda_learning_matches_cpu(kind):
    """On CUDA the agent takes the torch TD targets and the unfused Adam; a few learn steps from the
    same weights and batches (same memory seed) must land where the CPU's do. Tolerance as above
    plus room for the GPU's own reduction orders."""
    agents = {device: DQNAgent(Config().with_changes(network=kind, **{**BASE, "device": device}), SPEC,
                               np.random.SeedSequence(1), np.random.SeedSequence(2))
              for device in ("cpu", "cuda")}
    assert agents["cuda"].weights.device.type == "cuda"
    for transition in transitions(0, 40):
        losses = {device: agent.observe(*transition) for device, agent in agents.items()}
        assert losses["cuda"] == pytest.approx(losses["cpu"], rel=1e-4, abs=1e-6)
    assert agents["cuda"].updates == agents["cpu"].updates > 10
    torch.testing.assert_close(agents["cuda"].weights.cpu(), agents["cpu"].weights, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(agents["cuda"].target_weights.cpu(), agents["cpu"].target_weights, atol=1e-4,
                               rtol=1e-4)
    obs = torch.from_numpy(OBS)
    torch.testing.assert_close(torch.from_numpy(agents["cuda"].q_values(OBS[0])), agents["cpu"].online(obs)[0].detach(),
                               atol=1e-4, rtol=1e-4)
