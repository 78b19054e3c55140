"""Advantage estimators shared by the actor-critic methods (A2C, PPO) and REINFORCE."""

import chex
import jax
import jax.numpy as jnp

from train.checks import argument


def gae(rewards, values, next_values, dones, gamma: float, lam: float):
    """Generalized advantage estimates and value targets over axis 0 (time).

    `delta_t = r_t + gamma * next_value_t - value_t`, `A_t = delta_t + gamma * lam *
    (1 - done_t) * A_{t+1}`; returns `(advantages, advantages + values)`, shapes as `rewards`.
    With `lam = 1` and zero values this is the discounted return-to-go within each episode.
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
    """GAE over a `Transition` trajectory `(T, num_envs)`: every next observation's value comes
    from one batched critic pass, zeroed after terminations (truncations still bootstrap).
    """
    _, next_value = apply_fn(params, traj.next_obs.reshape((-1,) + traj.next_obs.shape[2:]))
    next_value = (1.0 - traj.terminated) * next_value.reshape(traj.reward.shape)
    return gae(traj.reward, traj.value, next_value, traj.done, gamma, lam)
