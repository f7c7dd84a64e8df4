import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sandbox.core.learning.fast import layer_tensors, mlp_loss_and_gradients, numpy_dueling, numpy_mlp
from sandbox.core.networks import DuelingQNetwork, QNetwork, build_network


def numpy_q(net, obs):
    layers = [(w.detach().numpy(), b.detach().numpy()) for w, b in layer_tensors(net)]
    return (numpy_dueling if isinstance(net, DuelingQNetwork) else numpy_mlp)(layers, obs)


@pytest.mark.parametrize("kind", ["mlp", "dueling"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_numpy_forward_matches_torch(kind, layers):
    torch.manual_seed(0)
    net = build_network(kind, 4, 3, 32, layers)
    obs = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    expected = net(torch.from_numpy(obs)).detach().numpy()
    got = np.stack([numpy_q(net, o) for o in obs])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_dueling_q_is_value_plus_centred_advantage():
    net = build_network("dueling", 2, 3, 8, 2)
    x = torch.randn(5, 2)
    h = net.trunk(x)
    adv = net.advantage(h)
    torch.testing.assert_close(net(x), net.value(h) + adv - adv.mean(1, keepdim=True))


@pytest.mark.parametrize("loss", ["mse", "huber"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_hand_written_backprop_matches_autograd(loss, layers):
    torch.manual_seed(0)
    net = QNetwork(3, 4, 16, layers)
    s, a = torch.randn(32, 3), torch.randint(0, 4, (32,))
    y = torch.randn(32) * 3  # large enough errors that Huber's linear part is used too
    q = net(s).gather(1, a.unsqueeze(1)).squeeze(1)
    expected = F.mse_loss(q, y) if loss == "mse" else F.smooth_l1_loss(q, y)
    net.zero_grad()
    expected.backward()
    autograd = [p.grad.clone() for p in net.parameters()]
    net.zero_grad(set_to_none=True)
    for p in net.parameters():
        p.grad = torch.empty_like(p)
    value = mlp_loss_and_gradients(layer_tensors(net), s, a, y, loss)
    torch.testing.assert_close(value, expected.detach())
    for ours, theirs in zip((p.grad for p in net.parameters()), autograd, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
