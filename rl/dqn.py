"""Deep Q-networks (Mnih et al. 2015) with Double DQN (van Hasselt et al. 2016) as an option.

Training runs end to end in one jit: `make_train(config) -> train(rng)`. The replay buffer is a pure
JAX ring buffer carried in the scan state; the target network is refreshed every `target_every`
environment steps by `target <- tau * online + (1 - tau) * target` (`tau = 1`: the periodic copy of
the paper; `tau < 1`: Polyak averaging). Every iteration steps `num_envs` environments once with an
epsilon-greedy policy (epsilon annealed linearly) and, once `learning_starts` transitions are
stored, takes one gradient step on a TD loss (squared or Huber) every `train_every` iterations.
Iterations are grouped in blocks of about `log_every` steps, which are what `metrics` reports.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from rl.envs import greedy_return, make_env, mean_return, progress_callback, q_argmax, reset_envs
from zoo.mlp import MLP


class Replay(NamedTuple):
    """A ring buffer of `capacity` transitions; `position` is where the next one goes.

    Attributes:
        obs: `(capacity, obs_dim)` observations.
        action: `(capacity,)` int32 actions.
        reward: `(capacity,)` float rewards.
        next_obs: `(capacity, obs_dim)` next observations.
        terminated: `(capacity,)` float, 1 where there is no bootstrap from `next_obs`.
        position: `()` int32 index where the next transition goes.
        size: `()` int32 number of stored transitions, saturating at `capacity`.
    """

    obs: jax.Array          # (capacity, obs_dim)
    action: jax.Array       # (capacity,) int32
    reward: jax.Array       # (capacity,)
    next_obs: jax.Array     # (capacity, obs_dim)
    terminated: jax.Array   # (capacity,) float: no bootstrap from next_obs
    position: jax.Array     # () int32
    size: jax.Array         # () int32, saturates at capacity


def replay_init(capacity: int, obs_shape: tuple) -> Replay:
    """Creates an empty, zero-filled `Replay` of `capacity` transitions with observations shaped `obs_shape`."""
    zeros = jnp.zeros((capacity,))
    return Replay(jnp.zeros((capacity,) + tuple(obs_shape)), jnp.zeros((capacity,), jnp.int32), zeros,
                  jnp.zeros((capacity,) + tuple(obs_shape)), zeros, jnp.int32(0), jnp.int32(0))


def replay_add(buffer: Replay, obs, action, reward, next_obs, terminated) -> Replay:
    """Appends a batch of `k` transitions (leading axis `k <= capacity`), overwriting the oldest.

    Args:
        buffer: The replay buffer.
        obs: `(k, obs_dim)` observations.
        action: `(k,)` int actions.
        reward: `(k,)` float rewards.
        next_obs: `(k, obs_dim)` next observations.
        terminated: `(k,)` float terminal flags.

    Returns:
        The updated `Replay`.
    """
    capacity = buffer.reward.shape[0]
    k = reward.shape[0]
    idx = (buffer.position + jnp.arange(k)) % capacity
    return Replay(buffer.obs.at[idx].set(obs), buffer.action.at[idx].set(action), buffer.reward.at[idx].set(reward),
                  buffer.next_obs.at[idx].set(next_obs), buffer.terminated.at[idx].set(terminated),
                  (buffer.position + k) % capacity, jnp.minimum(buffer.size + k, capacity))


def replay_sample(buffer: Replay, rng, batch_size: int) -> dict:
    """Draws `batch_size` transitions uniformly (with replacement) from the stored ones.

    Returns:
        A dict with keys `obs`, `action`, `reward`, `next_obs`, `terminated`, each with leading axis
        `batch_size`.
    """
    idx = jax.random.randint(rng, (batch_size,), 0, jnp.maximum(buffer.size, 1))
    return {"obs": buffer.obs[idx], "action": buffer.action[idx], "reward": buffer.reward[idx],
            "next_obs": buffer.next_obs[idx], "terminated": buffer.terminated[idx]}


def td_loss(params, target_params, apply_fn, batch, gamma: float, double: bool, huber_delta: float | None):
    """Computes the mean TD loss between `Q(s, a)` and `r + gamma (1 - terminated) Q_target(s', a*)`.

    The loss is Huber with threshold `huber_delta`, or half the squared error when it is None; with
    `a* = argmax_a Q_target(s', a)` (DQN) or `argmax_a Q(s', a)` (Double DQN); the target is a
    constant.

    Args:
        params: Online network parameters (differentiated).
        target_params: Target network parameters.
        apply_fn: `apply_fn(params, obs) -> q` with `q` of shape `(B, num_actions)`.
        batch: Dict of `(B, ...)` arrays as returned by `replay_sample`.
        gamma: Discount factor.
        double: Whether to pick `a*` with the online network (Double DQN).
        huber_delta: Huber threshold, or None for the squared error.

    Returns:
        A tuple `(loss, {"q": mean Q(s, a)})` of float scalars.
    """
    q = apply_fn(params, batch["obs"])
    q_taken = jnp.take_along_axis(q, batch["action"][:, None], axis=1)[:, 0]
    next_target = apply_fn(target_params, batch["next_obs"])
    chooser = apply_fn(params, batch["next_obs"]) if double else next_target
    best = jnp.argmax(chooser, axis=1)
    next_value = jnp.take_along_axis(next_target, best[:, None], axis=1)[:, 0]
    target = jax.lax.stop_gradient(batch["reward"] + gamma * (1.0 - batch["terminated"]) * next_value)
    if huber_delta is None:
        loss = optax.l2_loss(q_taken, target)
    else:
        loss = optax.huber_loss(q_taken, target, delta=huber_delta)
    return loss.mean(), {"q": q_taken.mean()}


def refresh_target(params, target_params, iteration, every: int, tau: float):
    """Refreshes the target network to `tau * params + (1 - tau) * target_params` every `every` iterations.

    The refresh happens on iterations that are multiples of `every` (iteration 0 included);
    `target_params` is returned unchanged on the others.
    """
    return optax.incremental_update(params, target_params, jnp.where(iteration % every == 0, tau, 0.0))


class DQNState(TrainState):
    """A Flax `TrainState` that also carries the target network.

    Attributes:
        target_params: Parameters of the target network, same structure as `params`.
    """

    target_params: dict = None


def make_network(config, num_actions: int) -> MLP:
    """The Q-network that `make_train` trains for `config`."""
    return MLP(num_classes=num_actions, features=tuple(config.hidden))


def make_train(config, progress=None):
    """Makes `train(rng) -> {"metrics", "params", "target_params"}` for a `rl/configs/dqn.py`-shaped config.

    Args:
        config: A config shaped like `rl/configs/dqn.py`.
        progress: Optional host callback `progress(block, episode_return)` for live progress.

    Returns:
        The pure function `train(rng)`. Its `metrics` has one row per block of iterations:
        `episode_return` (mean of the episodes that ended in the block, NaN if none), `env_steps`,
        `epsilon` (of the block's last iteration), `loss`, `q` (NaN in blocks with no gradient step);
        plus the scalar `greedy_return` of the final network. `params` is the final online network,
        `target_params` the final target network.

    Raises:
        UserError: If `config.env` is not a gymnax environment with discrete actions.
    """
    env, env_params, num_actions = make_env(config.env)
    per_block = max(1, config.log_every // config.num_envs)
    num_blocks = config.total_steps // (per_block * config.num_envs)
    network = make_network(config, num_actions)
    clip = [optax.clip_by_global_norm(config.max_grad_norm)] if config.max_grad_norm > 0 else []
    num_grad_steps = max(1, (config.total_steps - config.learning_starts) // (config.num_envs * config.train_every))
    lr = optax.linear_schedule(config.learning_rate, 0.0, num_grad_steps) if config.anneal_lr else config.learning_rate
    tx = optax.chain(*clip, optax.adam(lr))
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    explore_steps = max(1, int(config.exploration_fraction * config.total_steps))
    target_every = max(1, config.target_every // config.num_envs)  # in iterations

    def epsilon_at(env_steps):
        frac = jnp.minimum(env_steps / explore_steps, 1.0)
        return config.epsilon_start + frac * (config.epsilon_end - config.epsilon_start)

    def train(rng):
        rng, init_rng, reset_rng, eval_rng = jax.random.split(rng, 4)
        obs, env_state = reset_envs(env, env_params, reset_rng, config.num_envs)
        params = network.init(init_rng, obs)
        state = DQNState.create(apply_fn=network.apply, params=params, target_params=params, tx=tx)
        buffer = replay_init(config.buffer_size, obs.shape[1:])

        def iteration(carry, it):
            state, buffer, env_state, obs, running, rng = carry
            rng, explore_rng, random_rng, step_rng, sample_rng = jax.random.split(rng, 5)
            env_steps = it * config.num_envs
            epsilon = epsilon_at(env_steps)
            greedy = jnp.argmax(network.apply(state.params, obs), axis=1)
            random = jax.random.randint(random_rng, greedy.shape, 0, num_actions)
            action = jnp.where(jax.random.uniform(explore_rng, greedy.shape) < epsilon, random, greedy)
            next_obs, env_state, reward, terminated, truncated, info = step_env(
                jax.random.split(step_rng, config.num_envs), env_state, action, env_params)
            done = terminated | truncated
            true_next = jnp.where(done[:, None], info["final_observation"], next_obs)
            buffer = replay_add(buffer, obs, action, reward, true_next, terminated.astype(jnp.float32))
            running = running + reward
            finished = (jnp.where(done, running, 0.0).sum(), done.sum())

            def learn(state):
                batch = replay_sample(buffer, sample_rng, config.batch_size)
                (loss, aux), grads = jax.value_and_grad(td_loss, has_aux=True)(
                    state.params, state.target_params, network.apply, batch, config.gamma, config.double,
                    config.huber_delta if config.loss == "huber" else None)
                return state.apply_gradients(grads=grads), (loss, aux["q"])

            def skip(state):
                return state, (jnp.float32(jnp.nan), jnp.float32(jnp.nan))

            ready = ((env_steps + config.num_envs) >= config.learning_starts) & (it % config.train_every == 0)
            state, (loss, q) = jax.lax.cond(ready, learn, skip, state)
            state = state.replace(target_params=refresh_target(state.params, state.target_params, it, target_every,
                                                               config.tau))
            carry = (state, buffer, env_state, next_obs, jnp.where(done, 0.0, running), rng)
            return carry, (finished, loss, q, epsilon)

        def block(carry, index):
            its = index * per_block + jnp.arange(per_block)
            carry, (finished, loss, q, epsilon) = jax.lax.scan(iteration, carry, its)
            metrics = {"episode_return": mean_return((finished[0].sum(), finished[1].sum())),
                       "env_steps": (index + 1) * per_block * config.num_envs, "epsilon": epsilon[-1],
                       "loss": jnp.nanmean(loss), "q": jnp.nanmean(q)}
            progress_callback(progress, index, metrics["episode_return"])
            return carry, metrics

        init = (state, buffer, env_state, obs, jnp.zeros(config.num_envs), rng)
        (state, *_), metrics = jax.lax.scan(block, init, jnp.arange(num_blocks))
        metrics["greedy_return"] = greedy_return(env, env_params, q_argmax(network.apply, state.params), eval_rng)
        return {"metrics": metrics, "params": state.params, "target_params": state.target_params}

    return train
