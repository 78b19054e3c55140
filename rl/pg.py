"""Vanilla policy gradients on gymnax environments: REINFORCE and A2C.

REINFORCE uses a learned baseline (Williams 1992); synchronous advantage actor-critic (A2C) is
the synchronous form of Mnih et al. 2016. Each is one jit-able `make_*(config) -> train(rng)`.
PPO lives in `rl.ppo`.

Both minimize `-E[log pi(a|s) A] + vf_coef * 0.5 E[(V(s) - target)^2] - ent_coef * H[pi]`
with one gradient step per batch of experience; they differ in the advantage `A`:

- REINFORCE: every update plays `num_envs` complete episodes from a fresh reset (steps after an
  episode's end are masked out) and uses the Monte-Carlo return-to-go `G_t` minus the baseline
  `V(s_t)`; the baseline regresses on `G_t`. Unbiased, high variance.
- A2C: `num_steps`-step rollouts of `num_envs` environments that keep running across updates;
  advantages by GAE (`gae_lambda = 1` gives n-step returns) bootstrapped from the critic.
"""

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from rl.advantages import bootstrapped_advantages, gae
from rl.envs import (greedy_return, log_prob_and_entropy, make_env, make_rollout, policy_argmax, progress_callback,
                     record_update, reset_envs)
from zoo.actor_critic import ActorCritic


def pg_loss(params, apply_fn, batch, mask, vf_coef: float, ent_coef: float, normalize: bool):
    """Computes the masked policy-gradient loss over the rows of `batch`.

    `advantages` are treated as constants (optionally normalized over the masked rows).

    Args:
        params: Actor-critic parameters (differentiated).
        apply_fn: `apply_fn(params, obs) -> (logits, value)`.
        batch: Dict with `obs`, `action`, `advantages`, `targets`, each `(N, ...)`.
        mask: `(N,)` float weights, 1 for real steps and 0 for padding.
        vf_coef: Weight of the value loss.
        ent_coef: Weight of the entropy bonus.
        normalize: Whether to normalize the advantages over the masked rows.

    Returns:
        A tuple `(loss, metrics)`: the float scalar loss and a dict of scalar `policy_loss`,
        `value_loss` and `entropy`.
    """
    logits, value = apply_fn(params, batch["obs"])
    log_prob, entropy = log_prob_and_entropy(logits, batch["action"])
    count = jnp.maximum(mask.sum(), 1.0)
    masked_mean = lambda x: jnp.sum(mask * x) / count
    adv = jax.lax.stop_gradient(batch["advantages"])
    if normalize:
        mu = masked_mean(adv)
        adv = (adv - mu) / (jnp.sqrt(masked_mean((adv - mu) ** 2)) + 1e-8)
    policy_loss = -masked_mean(log_prob * adv)
    value_loss = 0.5 * masked_mean((value - batch["targets"]) ** 2)
    loss = policy_loss + vf_coef * value_loss - ent_coef * masked_mean(entropy)
    return loss, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": masked_mean(entropy)}


def _flatten(tree):
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), tree)


def _setup(config, num_updates: int):
    env, env_params, num_actions = make_env(config.env)
    network = ActorCritic(num_actions, tuple(config.hidden))
    lr = optax.linear_schedule(config.learning_rate, 0.0, num_updates) if config.anneal_lr else config.learning_rate
    tx = optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(lr))
    return env, env_params, network, tx


def _gradient_step(state, batch, mask, config):
    grads, metrics = jax.grad(pg_loss, has_aux=True)(state.params, state.apply_fn, batch, mask, config.vf_coef,
                                                     config.ent_coef, config.normalize_advantages)
    return state.apply_gradients(grads=grads), metrics


def _finish(env, env_params, state, metrics, rng):
    metrics["greedy_return"] = greedy_return(env, env_params, policy_argmax(state.apply_fn, state.params), rng)
    return {"metrics": metrics, "params": state.params}


def make_reinforce(config, progress=None):
    """Makes REINFORCE `train(rng) -> {"metrics", "params"}` for a `rl/configs/reinforce.py`-shaped config.

    Training takes `num_updates` gradient steps, each on `num_envs` whole episodes.

    Args:
        config: A config shaped like `rl/configs/reinforce.py`.
        progress: Optional host callback `progress(update, episode_return)` for live progress.

    Returns:
        The pure function `train(rng)`; its metrics are as `rl.ppo`'s.

    Raises:
        UserError: If `config.env` is not a gymnax environment with discrete actions.
    """
    env, env_params, network, tx = _setup(config, config.num_updates)
    horizon = env_params.max_steps_in_episode  # every episode ends by then
    rollout = make_rollout(env, env_params, network.apply, config.num_envs, horizon)

    def train(rng):
        rng, init_rng, eval_rng = jax.random.split(rng, 3)
        obs, _ = reset_envs(env, env_params, init_rng, config.num_envs)
        state = TrainState.create(apply_fn=network.apply, params=network.init(init_rng, obs), tx=tx)

        def update(carry, index):
            state, env_steps, rng = carry
            rng, reset_rng, rollout_rng = jax.random.split(rng, 3)
            obs, env_state = reset_envs(env, env_params, reset_rng, config.num_envs)
            _, traj, _ = rollout(state.params, env_state, obs, jnp.zeros(config.num_envs), rollout_rng)
            # alive[t] = the first episode has not ended before step t (the env resets itself after).
            alive = jnp.cumprod(jnp.concatenate([jnp.ones_like(traj.done[:1]), 1.0 - traj.done[:-1]]), axis=0)
            returns, _ = gae(traj.reward, jnp.zeros_like(traj.reward), jnp.zeros_like(traj.reward), traj.done,
                             config.gamma, 1.0)
            batch = {"obs": traj.obs, "action": traj.action, "advantages": returns - traj.value, "targets": returns}
            state, metrics = _gradient_step(state, _flatten(batch), alive.reshape(-1), config)
            env_steps = env_steps + alive.sum().astype(jnp.int32)
            metrics["episode_return"] = jnp.sum(alive * traj.reward, axis=0).mean()
            metrics["env_steps"] = env_steps
            progress_callback(progress, index, metrics["episode_return"])
            return (state, env_steps, rng), metrics

        (state, *_), metrics = jax.lax.scan(update, (state, jnp.int32(0), rng), jnp.arange(config.num_updates))
        return _finish(env, env_params, state, metrics, eval_rng)

    return train


def make_a2c(config, progress=None):
    """Makes A2C `train(rng) -> {"metrics", "params"}` for a `rl/configs/a2c.py`-shaped config.

    Training takes `total_steps // (num_envs * num_steps)` gradient steps.

    Args:
        config: A config shaped like `rl/configs/a2c.py`.
        progress: Optional host callback `progress(update, episode_return)` for live progress.

    Returns:
        The pure function `train(rng)`; its metrics are as `rl.ppo`'s.

    Raises:
        UserError: If `config.env` is not a gymnax environment with discrete actions.
    """
    batch_size = config.num_envs * config.num_steps
    num_updates = config.total_steps // batch_size
    env, env_params, network, tx = _setup(config, num_updates)
    rollout = make_rollout(env, env_params, network.apply, config.num_envs, config.num_steps)

    def train(rng):
        rng, init_rng, reset_rng, eval_rng = jax.random.split(rng, 4)
        obs, env_state = reset_envs(env, env_params, reset_rng, config.num_envs)
        state = TrainState.create(apply_fn=network.apply, params=network.init(init_rng, obs), tx=tx)

        def update(carry, index):
            state, env_state, obs, running, rng = carry
            rng, rollout_rng = jax.random.split(rng)
            (env_state, obs, running), traj, finished = rollout(state.params, env_state, obs, running, rollout_rng)
            advantages, targets = bootstrapped_advantages(network.apply, state.params, traj, config.gamma,
                                                          config.gae_lambda)
            batch = {"obs": traj.obs, "action": traj.action, "advantages": advantages, "targets": targets}
            state, metrics = _gradient_step(state, _flatten(batch), jnp.ones(batch_size), config)
            return (state, env_state, obs, running, rng), record_update(metrics, finished, index, batch_size, progress)

        (state, *_), metrics = jax.lax.scan(update, (state, env_state, obs, jnp.zeros(config.num_envs), rng),
                                            jnp.arange(num_updates))
        return _finish(env, env_params, state, metrics, eval_rng)

    return train
