"""Proximal policy optimization (Schulman et al. 2017) with generalized advantage estimation.

GAE is Schulman et al. 2016. Training runs end to end in one jit: `make_train(config) -> train(rng)`.
Environments are gymnax environments vectorized with `vmap`; one update collects
`num_steps` transitions from each of `num_envs` environments (`lax.scan`), computes GAE, and
runs `update_epochs` epochs of `num_minibatches` clipped-objective minibatch steps, all inside
an outer `lax.scan` over updates. Many seeds train at once: `jax.jit(jax.vmap(train))(keys)`.
Time-limit truncations bootstrap from the value of the final observation; terminations do not.
"""

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from rl.advantages import bootstrapped_advantages
from rl.envs import (greedy_return, log_prob_and_entropy, make_env, make_rollout, policy_argmax, record_update,
                     reset_envs)
from zoo.actor_critic import ActorCritic


def ppo_loss(params, apply_fn, batch, clip_eps: float, vf_coef: float, ent_coef: float, clip_value: bool):
    """Computes the PPO loss on a minibatch of `Transition` fields plus `advantages` and `targets`.

    Policy: `-mean(min(rho A, clip(rho, 1 - eps, 1 + eps) A))` with `rho = pi / pi_old` and
    advantages normalized per minibatch; value: `0.5 (V - target)^2` (the elementwise max with
    the clipped version when `clip_value`); minus `ent_coef` times the mean entropy.

    Args:
        params: Actor-critic parameters (differentiated).
        apply_fn: `apply_fn(params, obs) -> (logits, value)`.
        batch: Dict with `obs`, `action`, `log_prob`, `value`, `advantages`, `targets`, each `(N, ...)`.
        clip_eps: Clipping range `eps` of the ratio (and of the value when `clip_value`).
        vf_coef: Weight of the value loss.
        ent_coef: Weight of the entropy bonus.
        clip_value: Whether to clip the value update too.

    Returns:
        A tuple `(loss, metrics)`: the float scalar loss and a dict of scalar `policy_loss`,
        `value_loss`, `entropy` and `clip_fraction`.
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


def make_network(config, num_actions: int) -> ActorCritic:
    """The actor-critic that `make_train` trains for `config`."""
    return ActorCritic(num_actions, tuple(config.hidden))


def make_train(config, progress=None):
    """Makes PPO `train(rng) -> {"metrics", "params"}` for a `rl/configs/ppo.py`-shaped config.

    Args:
        config: A config shaped like `rl/configs/ppo.py`.
        progress: Optional `progress(update, episode_return)`, called from the device after every
            update if given.

    Returns:
        The pure function `train(rng)`, which returns a dict of `metrics` and final `params`.
        Its `metrics["episode_return"]`, of shape `(num_updates,)`, is the mean return of the episodes
        that ended during each update (NaN if none did), `metrics["env_steps"]` the
        steps taken so far; losses are per update too; `metrics["greedy_return"]` (scalar) evaluates
        the final policy's argmax.

    Raises:
        UserError: If `config.env` is not a gymnax environment with discrete actions.
    """
    env, env_params, num_actions = make_env(config.env)
    batch_size = config.num_envs * config.num_steps
    num_updates = config.total_steps // batch_size
    minibatch = batch_size // config.num_minibatches
    network = make_network(config, num_actions)
    apply_fn = network.apply
    rollout = make_rollout(env, env_params, apply_fn, config.num_envs, config.num_steps)

    def schedule(count):
        frac = 1.0 - count // (config.num_minibatches * config.update_epochs) / num_updates
        return config.learning_rate * (frac if config.anneal_lr else 1.0)

    tx = optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(schedule, eps=1e-5))

    def train(rng):
        rng, init_rng, reset_rng, eval_rng = jax.random.split(rng, 4)
        obs, env_state = reset_envs(env, env_params, reset_rng, config.num_envs)
        state = TrainState.create(apply_fn=apply_fn, params=network.init(init_rng, obs), tx=tx)

        def minibatch_step(state, batch):
            grads, metrics = jax.grad(ppo_loss, has_aux=True)(state.params, apply_fn, batch, config.clip_eps,
                                                              config.vf_coef, config.ent_coef, config.clip_value)
            return state.apply_gradients(grads=grads), metrics

        def epoch(carry, _):
            state, data, rng = carry
            rng, perm_rng = jax.random.split(rng)
            perm = jax.random.permutation(perm_rng, batch_size)
            shuffled = jax.tree.map(lambda x: x[perm].reshape((config.num_minibatches, minibatch) + x.shape[1:]), data)
            state, metrics = jax.lax.scan(minibatch_step, state, shuffled)
            return (state, data, rng), metrics

        def update(carry, index):
            state, env_state, obs, running, rng = carry
            rng, rollout_rng = jax.random.split(rng)
            (env_state, obs, running), traj, finished = rollout(state.params, env_state, obs, running, rollout_rng)
            advantages, targets = bootstrapped_advantages(apply_fn, state.params, traj, config.gamma,
                                                          config.gae_lambda)
            data = {"obs": traj.obs, "action": traj.action, "log_prob": traj.log_prob, "value": traj.value,
                    "advantages": advantages, "targets": targets}
            data = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), data)
            (state, _, rng), metrics = jax.lax.scan(epoch, (state, data, rng), None, config.update_epochs)
            metrics = jax.tree.map(jnp.mean, metrics)
            return (state, env_state, obs, running, rng), record_update(metrics, finished, index, batch_size, progress)

        (state, *_), metrics = jax.lax.scan(update, (state, env_state, obs, jnp.zeros(config.num_envs), rng),
                                            jnp.arange(num_updates))
        metrics["greedy_return"] = greedy_return(env, env_params, policy_argmax(apply_fn, state.params), eval_rng)
        return {"metrics": metrics, "params": state.params}

    return train
