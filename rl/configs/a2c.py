"""Synchronous advantage actor-critic: short rollouts, bootstrapped advantages, one step each."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the default A2C config; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.env = "CartPole-v1"          # gymnax environment with discrete actions
    c.total_steps = 2_000_000      # environment steps per seed
    c.num_envs = 16                # environments stepped in parallel (vmap)
    c.num_steps = 8                # steps per environment per gradient step
    c.learning_rate = 1e-3         # Adam step size at the start
    c.anneal_lr = True             # decay the learning rate linearly to 0
    c.gamma = 0.99                 # discount
    c.gae_lambda = 1.0             # 1: n-step returns; < 1: GAE
    c.normalize_advantages = False # standardize advantages per batch
    c.ent_coef = 0.01              # entropy bonus
    c.vf_coef = 0.5                # value-loss weight
    c.max_grad_norm = 0.5          # global-norm gradient clipping
    c.hidden = (64, 64)            # actor and critic widths
    return c
