"""Tabular Q-learning (Watkins 1989) on an `rl.mdp.MDP`, as one pure function of the key.

`make_q_learning(mdp, ...)` returns `train(rng) -> (Q, returns)`: the whole run is one
`lax.scan` over environment steps (epsilon-greedy behaviour, linearly decaying learning rate
and epsilon, episodes restarting from the start distribution), so many seeds train at once
with `jax.jit(jax.vmap(train))(keys)`.
"""

import jax
import jax.numpy as jnp

from rl.mdp import MDP


def make_q_learning(mdp: MDP, num_steps: int = 50_000, learning_rate: float = 0.5, final_learning_rate: float = 0.01,
                    epsilon: float = 1.0, final_epsilon: float = 0.05, max_episode_steps: int = 100):
    """Makes a pure tabular Q-learning run `train(rng) -> (Q, episode_returns)`.

    Learning rate and epsilon decay linearly to their final values over `num_steps`.

    Args:
        mdp: The MDP to learn on.
        num_steps: Number of environment steps.
        learning_rate: Initial learning rate.
        final_learning_rate: Learning rate at the last step.
        epsilon: Initial exploration rate of the epsilon-greedy behaviour.
        final_epsilon: Exploration rate at the last step.
        max_episode_steps: Episodes are truncated after this many steps.

    Returns:
        `train(rng) -> (Q, episode_returns)` with `Q` the `(S, A)` float action values and
        `episode_returns` `(num_steps,)` float, where `episode_returns[t]` is the return of the episode
        that ended at step `t` and NaN elsewhere.
    """
    S, A = mdp.P.shape[:2]

    def train(rng):
        def reset(key):
            return jax.random.choice(key, S, p=mdp.start)

        def step(carry, t):
            Q, s, ret, length, key = carry
            key, k_explore, k_action, k_next, k_reset = jax.random.split(key, 5)
            frac = t / num_steps
            eps = epsilon + frac * (final_epsilon - epsilon)
            lr = learning_rate + frac * (final_learning_rate - learning_rate)
            greedy = jnp.argmax(Q[s] + 1e-6 * jax.random.uniform(k_action, (A,)))  # random tie-break
            a = jnp.where(jax.random.uniform(k_explore) < eps, jax.random.randint(k_action, (), 0, A), greedy)
            s2 = jax.random.choice(k_next, S, p=mdp.P[s, a])
            r = mdp.R[s, a, s2]
            done = mdp.terminal[s2] | (length + 1 >= max_episode_steps)
            target = r + mdp.gamma * jnp.where(mdp.terminal[s2], 0.0, Q[s2].max())
            Q = Q.at[s, a].add(lr * (target - Q[s, a]))
            ret = ret + r
            ended = jnp.where(done, ret, jnp.nan)
            s = jnp.where(done, reset(k_reset), s2)
            return (Q, s, jnp.where(done, 0.0, ret), jnp.where(done, 0, length + 1), key), ended

        key, k0 = jax.random.split(rng)
        init = (jnp.zeros((S, A)), reset(k0), jnp.float32(0.0), jnp.int32(0), key)
        (Q, *_), returns = jax.lax.scan(step, init, jnp.arange(num_steps))
        return Q, returns

    return train
