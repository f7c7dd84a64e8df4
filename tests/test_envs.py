import numpy as np
import pytest

from sandbox.core.envs import EnvError, ObservationScaler, make_env, potential, spec_of


@pytest.mark.parametrize(("env_id", "obs_dim", "n_actions"),
                         [("MountainCar-v0", 2, 3), ("CartPole-v1", 4, 2), ("Acrobot-v1", 6, 3)])
def test_shipped_envs_fit(env_id, obs_dim, n_actions):
    env = make_env(env_id)
    spec = spec_of(env)
    assert (spec.obs_dim, spec.n_actions) == (obs_dim, n_actions)
    assert env.render_mode is None  # headless training pays nothing for frames
    env.close()


def test_render_only_when_asked():
    env = make_env("MountainCar-v0", render=True)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    env.close()


@pytest.mark.parametrize(("env_id", "message"), [
    ("Pendulum-v1", "Box action space; a DQN needs Discrete actions"),
    ("FrozenLake-v1", "needs a 1-D Box"),
    ("NoSuchEnv-v9", "env 'NoSuchEnv-v9' cannot be used: it is not a registered Gymnasium environment"),
])
def test_unfit_envs_are_refused_clearly(env_id, message):
    with pytest.raises(EnvError, match=message):
        make_env(env_id)


def test_scaler_maps_finite_bounds_to_unit_range_and_leaves_infinite_ones():
    mc = spec_of(make_env("MountainCar-v0"))
    scale = ObservationScaler(mc, normalize=True)
    np.testing.assert_allclose(scale(np.array([-1.2, -0.07])), [-1, -1], atol=1e-6)
    np.testing.assert_allclose(scale(np.array([0.6, 0.07])), [1, 1], atol=1e-6)
    np.testing.assert_array_equal(ObservationScaler(mc, normalize=False)(np.array([0.5, 0.01])),
                                  np.array([0.5, 0.01], np.float32))
    cp = spec_of(make_env("CartPole-v1"))
    out = ObservationScaler(cp, normalize=True)(np.array([1.0, 3.0, 0.1, 5.0]))
    assert out[1] == 3.0 and out[3] == 5.0  # infinite bounds pass through


def test_potential_grows_with_the_cars_energy():
    low = potential("MountainCar-v0", np.array([-0.52, 0.0]), 10.0)  # valley floor, at rest
    high = potential("MountainCar-v0", np.array([0.5, 0.0]), 10.0)  # at the flag
    fast = potential("MountainCar-v0", np.array([-0.52, 0.07]), 10.0)
    assert 0 <= low < high <= 10 and fast > low
    with pytest.raises(EnvError, match="defined for MountainCar-v0"):
        potential("CartPole-v1", np.zeros(4), 1.0)
