import numpy as np
import pytest
import torch

from sandbox.networks import build_network


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_numpy_forward_matches_torch(kind, layers):
    torch.manual_seed(0)
    net = build_network(kind, 4, 3, 32, layers)
    obs = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    expected = net(torch.from_numpy(obs)).detach().numpy()
    got = np.stack([net.numpy_q(o) for o in obs])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_numpy_forward_sees_in_place_weight_updates():
    net = build_network("mlp", 2, 3, 8, 2)
    obs = np.ones(2, np.float32)
    net.numpy_q(obs)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    np.testing.assert_allclose(net.numpy_q(obs), net(torch.from_numpy(obs)).detach().numpy(), rtol=1e-5)


def test_dueling_q_is_value_plus_centred_advantage():
    net = build_network("dueling", 2, 3, 8, 2)
    x = torch.randn(5, 2)
    h = net.trunk(x)
    adv = net.advantage(h)
    torch.testing.assert_close(net(x), net.value(h) + adv - adv.mean(1, keepdim=True))
