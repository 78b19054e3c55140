"""The vanilla policy-gradient loss against its definition, and REINFORCE / A2C runs that learn."""

import jax.numpy as jnp
import numpy as np
import pytest

from rl.pg import pg_loss


def fixed_policy(log_probs, values):
    """An apply_fn ignoring params and obs: the given per-row action log-probabilities and values."""
    return lambda params, obs: (log_probs, values)


def test_pg_loss_matches_its_definition_and_ignores_masked_rows():
    log_probs = jnp.log(jnp.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    values = jnp.array([1.0, 2.0, 3.0])
    batch = {"obs": jnp.zeros((3, 1)), "action": jnp.array([1, 0, 0]), "advantages": jnp.array([2.0, -1.0, 100.0]),
             "targets": jnp.array([0.0, 2.0, 0.0])}
    mask = jnp.array([1.0, 1.0, 0.0])  # the third row is padding: its huge advantage must not count
    loss, m = pg_loss(None, fixed_policy(log_probs, values), batch, mask, vf_coef=0.5, ent_coef=0.1, normalize=False)
    policy = -np.mean([np.log(0.8) * 2.0, np.log(0.5) * -1.0])
    value = 0.5 * np.mean([1.0, 0.0])
    entropy = np.mean([-(0.2 * np.log(0.2) + 0.8 * np.log(0.8)), np.log(2)])
    np.testing.assert_allclose([m["policy_loss"], m["value_loss"], m["entropy"]], [policy, value, entropy], rtol=1e-5)
    np.testing.assert_allclose(loss, policy + 0.5 * value - 0.1 * entropy, rtol=1e-5)


def test_normalized_advantages_use_only_real_rows():
    log_probs = jnp.log(jnp.full((3, 2), 0.5))
    batch = {"obs": jnp.zeros((3, 1)), "action": jnp.zeros(3, jnp.int32), "advantages": jnp.array([1.0, 3.0, 1e6]),
             "targets": jnp.zeros(3)}
    _, m = pg_loss(None, fixed_policy(log_probs, jnp.zeros(3)), batch, jnp.array([1.0, 1.0, 0.0]), 0.0, 0.0, True)
    # normalized real advantages are -1 and +1: their log-prob-weighted mean cancels
    np.testing.assert_allclose(m["policy_loss"], 0.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("algo, overrides", [
    ("reinforce", {"num_updates": "60"}),
    ("a2c", {"total_steps": "60000"}),
])
def test_policy_gradients_learn_cartpole_beyond_a_random_policy(algo, overrides):
    """CartPole's random policy scores about 22; a short run should at least triple it."""
    from rl.cli import config_of, final_returns, train_seeds

    result = train_seeds(algo, config_of(algo, overrides=overrides), seeds=2, progress=False)
    assert final_returns(result["metrics"]["episode_return"]).mean() > 66
