"""The golden test: the fast learning backend against the reference backend, side by side.

The fast backend (sandbox/core/learning/fast.py) backpropagates the MLP by hand, keeps the online
weights, their gradients and the target weights in flat buffers, clips the global norm itself,
steps a fused Adam on one flat parameter, updates the target with one `lerp_` and computes TD
targets in numpy. The reference backend (sandbox/core/learning/reference.py) is the textbook
version: autograd, `clip_grad_norm_`, `torch.optim.Adam` over the per-layer parameters, a Polyak
update (or a hard copy) per layer and torch TD targets. Two agents that differ only in `backend`
start from the same weights (the same seed) and learn from the very same sampled batches (the same
memory seed, the same transitions).
"""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from sandbox.core.agent import DQNAgent
from sandbox.core.config import Config
from sandbox.core.envs import EnvSpec
from sandbox.core.learning.fast import FastLearner, flatten_parameters, layer_tensors, numpy_dueling, numpy_mlp
from sandbox.core.learning.reference import td_targets
from sandbox.core.networks import DuelingQNetwork, build_network

SPEC = EnvSpec("MountainCar-v0", 4, 3, (-1.0,) * 4, (1.0,) * 4, None, None)

# Both sides compute the same float32 maths, but not in the same order: the hand-written backprop
# sums in other orders than autograd, the flat global norm is one reduction instead of a norm of
# per-layer norms, fused Adam and `lerp_` round differently from the per-layer Adam and
# tau * p + (1 - tau) * t, and numpy's matmuls block differently from torch's. Each difference is
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


def transitions(seed: int, n: int):
    """A random stream with terminal stops and truncations (which flush the n-step buffer)."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=SPEC.obs_dim).astype(np.float32)
    for _ in range(n):
        s2 = (s + rng.normal(scale=0.3, size=SPEC.obs_dim)).astype(np.float32)
        stop, truncated = rng.random() < 0.05, rng.random() < 0.05
        yield s, int(rng.integers(SPEC.n_actions)), float(rng.normal(scale=2.0)), s2, stop, stop or truncated
        s = rng.normal(size=SPEC.obs_dim).astype(np.float32) if stop or truncated else s2


def max_differences(fast: DQNAgent, ref: DQNAgent) -> tuple[float, float]:
    """Largest absolute difference between the two agents' online, target weights."""
    out = []
    for ours, theirs in ((fast.online, ref.online), (fast.target, ref.target)):
        mine = ours.state_dict()
        out.append(max((mine[k] - v).abs().max().item() for k, v in theirs.state_dict().items()))
    return out[0], out[1]


def counting_clips(monkeypatch) -> list[int]:
    """How often `clip_grad_norm_` (the reference's clip) actually scaled a gradient: [count]."""
    clipped = [0]
    clip = nn.utils.clip_grad_norm_

    def counting(parameters, max_norm, *args, **kwargs):
        norm = clip(parameters, max_norm, *args, **kwargs)
        clipped[0] += bool(norm > max_norm)
        return norm

    monkeypatch.setattr(nn.utils, "clip_grad_norm_", counting)
    return clipped


@pytest.mark.parametrize(FIELDS, CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_fast_backend_matches_the_reference_backend(network, hidden_layers, loss, target_update, double_dqn,
                                                    n_step, gradient_clip, monkeypatch):
    config = Config().with_changes(network=network, hidden_layers=hidden_layers, loss=loss,
                                   target_update=target_update, double_dqn=double_dqn, n_step=n_step,
                                   gradient_clip=gradient_clip, **BASE)
    agents = [DQNAgent(config.with_changes(backend=b), SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))
              for b in ("fast", "reference")]
    fast, ref = agents
    assert type(fast.learner).__name__ == "FastLearner" and type(ref.learner).__name__ == "ReferenceLearner"
    clipped = counting_clips(monkeypatch)
    worst = [0.0, 0.0]
    case = CASES.index((network, hidden_layers, loss, target_update, double_dqn, n_step, gradient_clip))
    for transition in transitions(case, STEPS):
        losses = [agent.observe(*transition) for agent in agents]
        assert losses[0] == pytest.approx(losses[1], rel=1e-4, abs=1e-6)
        worst = [max(w, d) for w, d in zip(worst, max_differences(fast, ref), strict=True)]
    assert fast.updates == ref.updates >= MIN_LEARNS
    if gradient_clip > 0:
        assert clipped[0] > 0, "the clip never acted: the case would not test it"
    if n_step > 1:
        assert (ref.memory.horizons[:len(ref.memory)] > 1).any(), "no multi-step transition was stored"
    moved = max((p - q).abs().max().item() for p, q in zip(
        fast.online.parameters(), build_network(network, 4, 3, 16, hidden_layers).parameters(), strict=True))
    assert moved > 10 * ATOL
    print(f"max |diff| online {worst[0]:.2e} target {worst[1]:.2e} over {fast.updates} learn steps")
    assert max(worst) <= ATOL + RTOL, worst  # along the way too (the weights are of order 1)
    for ours, theirs in ((fast.online, ref.online), (fast.target, ref.target)):
        mine = ours.state_dict()
        for k, v in theirs.state_dict().items():
            torch.testing.assert_close(mine[k], v, atol=ATOL, rtol=RTOL, msg=lambda m, k=k: f"{k}: {m}")
    np.testing.assert_allclose(fast.q_values(OBS[0]), ref.q_values(OBS[0]), atol=ATOL, rtol=RTOL)


# --- the fast backend's views of the layers -------------------------------------------------

OBS = np.random.default_rng(0).normal(size=(8, SPEC.obs_dim)).astype(np.float32)


def assert_numpy_q_is_torch_forward(learner: FastLearner, net: nn.Module, layers) -> None:
    with torch.no_grad():
        expected = net(torch.from_numpy(OBS)).numpy()
    np.testing.assert_allclose(learner.numpy_q(layers, OBS), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(learner.numpy_q(layers, OBS[0]), expected[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
def test_numpy_acting_follows_the_learned_weights(kind):
    config = Config().with_changes(network=kind, tau=0.1, **{k: v for k, v in BASE.items() if k != "tau"})
    agent = DQNAgent(config, SPEC, np.random.SeedSequence(1), np.random.SeedSequence(2))
    learner = agent.learner
    assert isinstance(learner, FastLearner)
    before = agent.q_values(OBS[0]).copy()
    losses = [loss for t in transitions(0, 60) for loss in agent.observe(*t)]
    assert len(losses) > 10
    assert np.abs(agent.q_values(OBS[0]) - before).max() > 1e-3  # the learning is seen ...
    assert_numpy_q_is_torch_forward(learner, agent.online, learner.np_online)  # ... exactly the weights learned
    assert_numpy_q_is_torch_forward(learner, agent.target, learner.np_target)  # and the target's, soft-updated
    r, s2, d = (x.copy() for x in agent.memory.sample(16)[2:5])
    expected = td_targets(agent.online, agent.target, config, *(torch.from_numpy(x) for x in (r, s2, d)))
    np.testing.assert_allclose(learner.numpy_td_targets(r, s2, d, None), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
def test_flattened_parameters_keep_the_net_and_its_views_on_one_storage(kind):
    net = build_network(kind, SPEC.obs_dim, SPEC.n_actions, 16, 2)
    with torch.no_grad():
        expected = net(torch.from_numpy(OBS)).numpy()
    flat = flatten_parameters(net)
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.from_numpy(OBS)).numpy(), expected, rtol=1e-6)  # nothing moved
    layers = [(w.detach().numpy(), b.detach().numpy()) for w, b in layer_tensors(net)]
    forward = numpy_dueling if isinstance(net, DuelingQNetwork) else numpy_mlp
    flat.add_(0.25)  # one write to the buffer moves the net's parameters and the numpy views together
    with torch.no_grad():
        moved = net(torch.from_numpy(OBS)).numpy()
    assert not np.allclose(moved, expected)
    np.testing.assert_allclose(forward(layers, OBS), moved, rtol=1e-5, atol=1e-6)


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
    assert next(agents["cuda"].online.parameters()).device.type == "cuda"
    for transition in transitions(0, 40):
        losses = {device: agent.observe(*transition) for device, agent in agents.items()}
        assert losses["cuda"] == pytest.approx(losses["cpu"], rel=1e-4, abs=1e-6)
    assert agents["cuda"].updates == agents["cpu"].updates > 10
    for net in ("online", "target"):
        vectors = [nn.utils.parameters_to_vector(getattr(agents[d], net).parameters()).cpu() for d in ("cuda", "cpu")]
        torch.testing.assert_close(*vectors, atol=1e-4, rtol=1e-4)
    obs = torch.from_numpy(OBS)
    torch.testing.assert_close(torch.from_numpy(agents["cuda"].q_values(OBS[0])), agents["cpu"].online(obs)[0].detach(),
                               atol=1e-4, rtol=1e-4)
