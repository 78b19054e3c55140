"""Pieces every gymnax-based algorithm shares: environments, batched rollouts, episode bookkeeping.

This covers making a discrete-action environment, stepping a batch of them with a policy inside
`lax.scan`, episode bookkeeping, and greedy evaluation.

Conventions: gymnax environments reset themselves when an episode ends, returning the first
observation of the next episode; the true last observation is `info["final_observation"]`.
`terminated` means a terminal state (no bootstrap), `done` means terminated or truncated by
the time limit.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from train.errors import UserError


class Transition(NamedTuple):
    """One step of every environment: arrays of shape `(num_envs, ...)`.

    Attributes:
        obs: `(num_envs, obs_dim)` observations the actions were taken in.
        action: `(num_envs,)` int sampled actions.
        log_prob: `(num_envs,)` float log-probabilities of the actions under the behaviour policy.
        value: `(num_envs,)` float critic values of `obs`.
        reward: `(num_envs,)` float rewards.
        next_obs: `(num_envs, obs_dim)` next observations `s'`, or the true last observation when the
            episode ended.
        terminated: `(num_envs,)` float, 1 where the episode ended in a terminal state.
        done: `(num_envs,)` float, 1 where the episode ended here (terminated or truncated).
    """

    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    next_obs: jax.Array     # s', or the true last observation when the episode ended
    terminated: jax.Array   # float: the episode ended in a terminal state
    done: jax.Array         # float: the episode ended here (terminated or truncated)


def make_env(name: str):
    """Makes a gymnax environment with discrete actions.

    Args:
        name: A registered gymnax environment name, e.g. `CartPole-v1`.

    Returns:
        A tuple `(env, env_params, num_actions)`.

    Raises:
        UserError: (one line) For an unknown name or a continuous action space.
    """
    import gymnax

    if name not in gymnax.registered_envs:
        close = [e for e in gymnax.registered_envs if name.lower().split("-")[0] in e.lower()][:5]
        hint = f" (close: {', '.join(close)})" if close else ""
        raise UserError(f"unknown gymnax environment '{name}'{hint}; e.g. CartPole-v1, Acrobot-v1, MountainCar-v0")
    env, env_params = gymnax.make(name)
    space = env.action_space(env_params)
    if not hasattr(space, "n"):
        raise UserError(f"{name} has a continuous action space; these algorithms need discrete actions")
    return env, env_params, int(space.n)


def log_prob_and_entropy(logits, actions):
    """Computes the categorical log-probability of actions and the entropy of the distribution.

    Args:
        logits: `(B, A)` float unnormalized log-probabilities.
        actions: `(B,)` int actions.

    Returns:
        A tuple `(log_prob, entropy)`, each `(B,)` float.
    """
    log_p = jax.nn.log_softmax(logits)
    chosen = jnp.take_along_axis(log_p, actions[:, None], axis=1)[:, 0]
    return chosen, -jnp.sum(jnp.exp(log_p) * log_p, axis=1)


def make_rollout(env, env_params, apply_fn: Callable, num_envs: int, num_steps: int):
    """Makes `rollout(params, env_state, obs, running, rng) -> ((env_state, obs, running), traj, finished)`.

    The rollout samples actions from `apply_fn(params, obs) -> (logits, value)` for `num_steps`
    steps of `num_envs` environments. `running: (num_envs,)` carries each episode's return so far;
    `traj` is a `Transition` with leading axes `(num_steps, num_envs)`; `finished` is
    `(sum of returns of episodes that ended, how many ended)`.

    Args:
        env: A gymnax environment.
        env_params: Its parameters.
        apply_fn: `apply_fn(params, obs) -> (logits, value)` of the actor-critic network.
        num_envs: Number of environments stepped in parallel.
        num_steps: Steps per rollout.

    Returns:
        The pure `rollout` function described above.
    """
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def step(carry, _):
        params, env_state, obs, running, rng = carry
        rng, act_rng, step_rng = jax.random.split(rng, 3)
        logits, value = apply_fn(params, obs)
        action = jax.random.categorical(act_rng, logits)
        log_prob, _ = log_prob_and_entropy(logits, action)
        next_obs, env_state, reward, terminated, truncated, info = step_env(
            jax.random.split(step_rng, num_envs), env_state, action, env_params)
        done = terminated | truncated
        true_next = jnp.where(done[:, None], info["final_observation"], next_obs)
        running = running + reward
        finished = (jnp.where(done, running, 0.0).sum(), done.sum())
        transition = Transition(obs, action, log_prob, value, reward, true_next, terminated.astype(jnp.float32),
                                done.astype(jnp.float32))
        return (params, env_state, next_obs, jnp.where(done, 0.0, running), rng), (transition, finished)

    def rollout(params, env_state, obs, running, rng):
        (_, env_state, obs, running, _), (traj, finished) = jax.lax.scan(
            step, (params, env_state, obs, running, rng), None, num_steps)
        return (env_state, obs, running), traj, (finished[0].sum(), finished[1].sum())

    return rollout


def mean_return(finished):
    """Computes the mean return of the episodes summarized by `finished = (sum, count)`; NaN when none ended."""
    total, count = finished
    return jnp.where(count > 0, total / jnp.maximum(count, 1), jnp.nan)


def reset_envs(env, env_params, rng, num_envs: int):
    """Resets `num_envs` fresh episodes; returns `(obs: (num_envs, obs_dim), env_state)`."""
    return jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(rng, num_envs), env_params)


def greedy_return(env, env_params, act: Callable, rng, num_episodes: int = 16):
    """Evaluates a deterministic policy by its mean undiscounted return.

    Runs `num_episodes` episodes to their end (or the time limit).

    Args:
        env: A gymnax environment.
        env_params: Its parameters.
        act: The policy `act(obs: (B, obs_dim)) -> actions: (B,)`.
        rng: PRNG key.
        num_episodes: Number of episodes.

    Returns:
        A float scalar, the mean return.
    """
    obs, env_state = reset_envs(env, env_params, rng, num_episodes)
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def step(carry, key):
        env_state, obs, total, alive = carry
        obs, env_state, reward, terminated, truncated, _ = step_env(
            jax.random.split(key, num_episodes), env_state, act(obs), env_params)
        total = total + alive * reward
        return (env_state, obs, total, alive * (1.0 - (terminated | truncated))), None

    keys = jax.random.split(rng, env_params.max_steps_in_episode)
    (_, _, total, _), _ = jax.lax.scan(step, (env_state, obs, jnp.zeros(num_episodes), jnp.ones(num_episodes)),
                                       keys)
    return total.mean()


def policy_argmax(apply_fn: Callable, params):
    """Makes the deterministic policy `obs -> argmax of the logits`, for `greedy_return`.

    Args:
        apply_fn: An actor-critic `apply_fn(params, obs) -> (logits, value)`.
        params: Its parameters.

    Returns:
        A function from `(B, obs_dim)` observations to `(B,)` int actions.
    """
    return lambda obs: jnp.argmax(apply_fn(params, obs)[0], axis=-1)


def q_argmax(apply_fn: Callable, params):
    """Makes the greedy policy `obs -> argmax of the Q-values` of a Q-network `apply_fn(params, obs) -> q`."""
    return lambda obs: jnp.argmax(apply_fn(params, obs), axis=-1)


def record_update(metrics: dict, finished, index, steps_per_update: int, progress: Callable | None) -> dict:
    """Adds the per-update fields every rollout-based algorithm reports, and reports progress.

    The fields are `episode_return` (of the episodes that ended) and cumulative `env_steps`.

    Args:
        metrics: The update's metrics, modified in place.
        finished: `(sum of returns, count)` of the episodes that ended in this update.
        index: Index of the update (0-based).
        steps_per_update: Environment steps per update (all environments together).
        progress: Optional host callback `progress(update, episode_return)`.

    Returns:
        `metrics`.
    """
    metrics["episode_return"] = mean_return(finished)
    metrics["env_steps"] = (index + 1) * steps_per_update
    progress_callback(progress, index, metrics["episode_return"])
    return metrics


def progress_callback(callback: Callable | None, update, episode_return):
    """Reports `(update, episode_return)` to the host for live progress (`jax.debug.callback`).

    Does nothing when `callback` is None.
    """
    if callback is not None:
        jax.debug.callback(callback, update, episode_return)
