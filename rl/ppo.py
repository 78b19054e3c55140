"""Proximal policy optimization (Schulman et al. 2017) with generalized advantage estimation
(Schulman et al. 2016), end to end in one jit: `make_train(config) -> train(rng)`.

Environments are gymnax environments vectorized with `vmap`; one update collects
`num_steps` transitions from each of `num_envs` environments (`lax.scan`), computes GAE, and
runs `update_epochs` epochs of `num_minibatches` clipped-objective minibatch steps, all inside
an outer `lax.scan` over updates. Many seeds train at once: `jax.jit(jax.vmap(train))(keys)`.
Time-limit truncations bootstrap from the value of the final observation; terminations do not.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from zoo.actor_critic import ActorCritic


class Transition(NamedTuple):
    """One step of every environment: arrays of shape `(num_envs, ...)`."""

    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    next_obs: jax.Array     # s', or the true last observation when the episode ended (gymnax auto-resets)
    terminated: jax.Array   # the episode ended in a terminal state (no bootstrap)
    done: jax.Array         # the episode ended here (terminated or truncated)


def gae(rewards, values, next_values, dones, gamma: float, lam: float):
    """Generalized advantage estimates and value targets over axis 0 (time).

    `delta_t = r_t + gamma * next_value_t - value_t`, `A_t = delta_t + gamma * lam *
    (1 - done_t) * A_{t+1}`; returns `(advantages, advantages + values)`, shapes as `rewards`.
    """
    def backward(carry, step):
        reward, value, next_value, done = step
        delta = reward + gamma * next_value - value
        advantage = delta + gamma * lam * (1.0 - done) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(rewards[0]), (rewards, values, next_values, dones),
                                 reverse=True)
    return advantages, advantages + values


def log_prob_and_entropy(logits, actions):
    """Categorical log-probability of `actions: (B,)` under `logits: (B, A)`, and the entropy `(B,)`."""
    log_p = jax.nn.log_softmax(logits)
    chosen = jnp.take_along_axis(log_p, actions[:, None], axis=1)[:, 0]
    return chosen, -jnp.sum(jnp.exp(log_p) * log_p, axis=1)


def ppo_loss(params, apply_fn, batch, clip_eps: float, vf_coef: float, ent_coef: float, clip_value: bool):
    """The PPO loss on a minibatch of `Transition` fields plus `advantages` and `targets`.

    Policy: `-mean(min(rho A, clip(rho, 1 - eps, 1 + eps) A))` with `rho = pi / pi_old` and
    advantages normalized per minibatch; value: `0.5 (V - target)^2` (the elementwise max with
    the clipped version when `clip_value`); minus `ent_coef` times the mean entropy.
    """
    logits, value = apply_fn(params, batch["obs"])
    log_prob, entropy = log_prob_and_entropy(logits, batch["action"])
    ratio = jnp.exp(log_prob - batch["log_prob"])
    adv = (batch["advantages"] - batch["advantages"].mean()) / (batch["advantages"].std() + 1e-8)
    policy_loss = -jnp.mean(jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv))
    value_loss = (value - batch["targets"]) ** 2
    if clip_value:
        clipped = batch["value"] + jnp.clip(value - batch["value"], -clip_eps, clip_eps)
        value_loss = jnp.maximum(value_loss, (clipped - batch["targets"]) ** 2)
    value_loss = 0.5 * value_loss.mean()
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy.mean()
    return loss, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy.mean(),
                  "clip_fraction": jnp.mean(jnp.abs(ratio - 1) > clip_eps)}


def make_train(config):
    """`train(rng) -> metrics` for a `rl/configs/ppo.py`-shaped config.

    `metrics["episode_return"]: (num_updates,)` is the mean return of the episodes that ended
    during each update (NaN if none did); losses are per update too.
    """
    import gymnax

    env, env_params = gymnax.make(config.env)
    num_actions = env.action_space(env_params).n
    num_updates = config.total_steps // (config.num_envs * config.num_steps)
    minibatch = config.num_envs * config.num_steps // config.num_minibatches
    network = ActorCritic(num_actions, tuple(config.hidden))
    apply_fn = network.apply

    def schedule(count):
        frac = 1.0 - count // (config.num_minibatches * config.update_epochs) / num_updates
        return config.learning_rate * (frac if config.anneal_lr else 1.0)

    tx = optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(schedule, eps=1e-5))
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def train(rng):
        rng, init_rng, reset_rng = jax.random.split(rng, 3)
        obs, env_state = reset(jax.random.split(reset_rng, config.num_envs), env_params)
        params = network.init(init_rng, obs)
        state = TrainState.create(apply_fn=apply_fn, params=params, tx=tx)
        running = jnp.zeros(config.num_envs)

        def rollout_step(carry, _):
            state, env_state, obs, running, rng = carry
            rng, act_rng, step_rng = jax.random.split(rng, 3)
            logits, value = apply_fn(state.params, obs)
            action = jax.random.categorical(act_rng, logits)
            log_prob, _ = log_prob_and_entropy(logits, action)
            next_obs, env_state, reward, terminated, truncated, info = step_env(
                jax.random.split(step_rng, config.num_envs), env_state, action, env_params)
            done = terminated | truncated
            true_next = jnp.where(done[:, None], info["final_observation"], next_obs)  # gymnax resets on done
            running = running + reward
            finished = (jnp.where(done, running, 0.0).sum(), done.sum())
            transition = Transition(obs, action, log_prob, value, reward, true_next, terminated.astype(jnp.float32),
                                    done.astype(jnp.float32))
            return (state, env_state, next_obs, jnp.where(done, 0.0, running), rng), (transition, finished)

        def minibatch_step(state, batch):
            grads, metrics = jax.grad(ppo_loss, has_aux=True)(state.params, apply_fn, batch, config.clip_eps,
                                                              config.vf_coef, config.ent_coef, config.clip_value)
            return state.apply_gradients(grads=grads), metrics

        def epoch(carry, _):
            state, data, rng = carry
            rng, perm_rng = jax.random.split(rng)
            perm = jax.random.permutation(perm_rng, config.num_envs * config.num_steps)
            shuffled = jax.tree.map(lambda x: x[perm].reshape((config.num_minibatches, minibatch) + x.shape[1:]), data)
            state, metrics = jax.lax.scan(minibatch_step, state, shuffled)
            return (state, data, rng), metrics

        def update(carry, _):
            state, env_state, obs, running, rng = carry
            (state, env_state, obs, running, rng), (traj, finished) = jax.lax.scan(
                rollout_step, (state, env_state, obs, running, rng), None, config.num_steps)
            # Bootstrap values of every next observation in one batched pass; none after a termination.
            _, next_value = apply_fn(state.params, traj.next_obs.reshape((-1,) + traj.next_obs.shape[2:]))
            next_value = (1.0 - traj.terminated) * next_value.reshape(traj.reward.shape)
            advantages, targets = gae(traj.reward, traj.value, next_value, traj.done, config.gamma,
                                      config.gae_lambda)
            data = {"obs": traj.obs, "action": traj.action, "log_prob": traj.log_prob, "value": traj.value,
                    "advantages": advantages, "targets": targets}
            data = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), data)
            (state, _, rng), metrics = jax.lax.scan(epoch, (state, data, rng), None, config.update_epochs)
            total, count = finished[0].sum(), finished[1].sum()
            metrics = jax.tree.map(jnp.mean, metrics)
            metrics["episode_return"] = jnp.where(count > 0, total / jnp.maximum(count, 1), jnp.nan)
            return (state, env_state, obs, running, rng), metrics

        _, metrics = jax.lax.scan(update, (state, env_state, obs, running, rng), None, num_updates)
        return metrics

    return train
