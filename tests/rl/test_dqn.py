"""DQN's replay buffer and TD loss against their definitions, and a short run that learns."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl.dqn import replay_add, replay_init, replay_sample, td_loss


def test_replay_is_a_ring_buffer():
    buffer = replay_init(4, (2,))
    for start in (0, 3):  # 3 transitions, then 3 more: the oldest two are overwritten
        r = jnp.arange(start, start + 3, dtype=jnp.float32)
        buffer = replay_add(buffer, jnp.stack([r, r], 1), r.astype(jnp.int32), r, -jnp.stack([r, r], 1),
                            jnp.zeros(3))
    np.testing.assert_array_equal(buffer.reward, [4.0, 5.0, 2.0, 3.0])
    np.testing.assert_array_equal(buffer.next_obs[:, 0], -buffer.reward)
    assert int(buffer.position) == 2 and int(buffer.size) == 4
    sample = replay_sample(buffer, jax.random.key(0), 64)
    assert set(np.asarray(sample["reward"]).tolist()) <= {2.0, 3.0, 4.0, 5.0}
    np.testing.assert_array_equal(sample["obs"][:, 0], sample["reward"])  # fields stay aligned


def test_replay_samples_only_what_was_stored():
    buffer = replay_add(replay_init(100, (1,)), jnp.ones((2, 1)), jnp.zeros(2, jnp.int32), jnp.array([7.0, 8.0]),
                        jnp.ones((2, 1)), jnp.zeros(2))
    assert set(np.asarray(replay_sample(buffer, jax.random.key(1), 50)["reward"]).tolist()) == {7.0, 8.0}


def table_q(table):
    """An apply_fn whose 'params' are a Q table indexed by the integer state in obs[:, 0]."""
    return lambda params, obs: params[obs[:, 0].astype(jnp.int32)]


@pytest.mark.parametrize("double", [False, True])
def test_td_target_dqn_and_double_dqn(double):
    online = jnp.array([[0.0, 0.0], [1.0, 5.0]])   # online net prefers action 1 in state 1
    target = jnp.array([[0.0, 0.0], [3.0, 2.0]])   # target net prefers action 0 in state 1
    batch = {"obs": jnp.array([[0.0], [0.0]]), "action": jnp.array([0, 1]), "reward": jnp.array([1.0, 1.0]),
             "next_obs": jnp.array([[1.0], [1.0]]), "terminated": jnp.array([0.0, 1.0])}
    loss, aux = td_loss(online, target, table_q(None), batch, 0.5, double, None)
    bootstrap = 2.0 if double else 3.0           # target's value of the online argmax / of its own argmax
    targets = np.array([1.0 + 0.5 * bootstrap, 1.0])  # the terminated transition does not bootstrap
    np.testing.assert_allclose(loss, np.mean(0.5 * targets ** 2), rtol=1e-6)
    assert float(aux["q"]) == 0.0


def test_huber_td_loss_is_linear_beyond_delta_and_the_target_is_constant():
    batch = {"obs": jnp.array([[0.0]]), "action": jnp.array([0]), "reward": jnp.array([10.0]),
             "next_obs": jnp.array([[0.0]]), "terminated": jnp.array([1.0])}
    q = jnp.zeros((1, 1))
    loss, _ = td_loss(q, q, table_q(None), batch, 0.9, False, 1.0)
    np.testing.assert_allclose(loss, 10.0 - 0.5, rtol=1e-6)
    grad = jax.grad(lambda p: td_loss(p, p, table_q(None), batch, 0.9, False, 1.0)[0])(q)
    np.testing.assert_allclose(grad, [[-1.0]])  # Huber slope, and no gradient through the target


@pytest.mark.slow
def test_dqn_learns_cartpole_beyond_a_random_policy():
    """CartPole's random policy scores about 22; 60k steps of DQN should at least triple it."""
    from rl.cli import config_of, final_returns, train_seeds

    config = config_of("dqn", overrides={"total_steps": "60000", "learning_starts": "2000",
                                         "exploration_fraction": "0.3", "log_every": "2000"})
    result = train_seeds("dqn", config, seeds=2, progress=False)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(result["params"]))
    assert final_returns(result["metrics"]["episode_return"]).mean() > 66
