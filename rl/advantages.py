"""Advantage estimators shared by the actor-critic methods (A2C, PPO) and REINFORCE."""

import chex
import jax
import jax.numpy as jnp

from train.checks import argument


def gae(rewards, values, next_values, dones, gamma: float, lam: float):
    """Computes generalized advantage estimates and value targets over axis 0 (time).

    `delta_t = r_t + gamma * next_value_t - value_t` and
    `A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}`. With `lam = 1` and zero values this is
    the discounted return-to-go within each episode.

    Args:
        rewards: `(T,)` or `(T, num_envs)` float rewards.
        values: Value estimates `V(s_t)`, shaped like `rewards`.
        next_values: Value estimates of the next states (zero where nothing bootstraps), shaped like
            `rewards`.
        dones: Float, 1 where the episode ended at step `t`, shaped like `rewards`.
        gamma: Discount factor.
        lam: GAE lambda.

    Returns:
        A tuple `(advantages, advantages + values)` (advantages and value targets), both shaped like
        `rewards`.

    Raises:
        ShapeError: If `rewards` is not rank 1 or 2, or the other arrays are not shaped like it.
    """
    with argument("rewards", "rewards (T,) or (T, num_envs)", rewards):
        chex.assert_rank(rewards, {1, 2})
    for name, array in (("values", values), ("next_values", next_values), ("dones", dones)):
        with argument(name, f"shaped like rewards {tuple(jnp.shape(rewards))}", array):
            chex.assert_shape(array, jnp.shape(rewards))
    def backward(carry, step):
        reward, value, next_value, done = step
        delta = reward + gamma * next_value - value
        advantage = delta + gamma * lam * (1.0 - done) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(rewards[0]), (rewards, values, next_values, dones),
                                 reverse=True)
    return advantages, advantages + values


def bootstrapped_advantages(apply_fn, params, traj, gamma: float, lam: float):
    """Computes GAE over a `Transition` trajectory with leaves of shape `(T, num_envs, ...)`.

    Every next observation's value comes from one batched critic pass, zeroed after terminations
    (truncations still bootstrap).

    Args:
        apply_fn: `apply_fn(params, obs) -> (logits, value)` of the actor-critic network.
        params: Its parameters.
        traj: A `rl.envs.Transition` whose fields have leading axes `(T, num_envs)`.
        gamma: Discount factor.
        lam: GAE lambda.

    Returns:
        A tuple `(advantages, targets)`, each `(T, num_envs)` float, as returned by `gae`.
    """
    _, next_value = apply_fn(params, traj.next_obs.reshape((-1,) + traj.next_obs.shape[2:]))
    next_value = (1.0 - traj.terminated) * next_value.reshape(traj.reward.shape)
    return gae(traj.reward, traj.value, next_value, traj.done, gamma, lam)
