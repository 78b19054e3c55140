"""REINFORCE with a learned baseline: whole episodes, Monte-Carlo returns, one step per batch."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the default REINFORCE config; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.env = "CartPole-v1"          # gymnax environment with discrete actions
    c.num_updates = 500            # gradient steps; each plays num_envs whole episodes
    c.num_envs = 16                # episodes per gradient step (vmap)
    c.learning_rate = 3e-3         # Adam step size at the start
    c.anneal_lr = True             # decay the learning rate linearly to 0
    c.gamma = 0.99                 # discount of the returns-to-go
    c.normalize_advantages = True  # standardize G_t - V(s_t) over the batch's real steps
    c.ent_coef = 0.0               # entropy bonus
    c.vf_coef = 0.5                # baseline (value) loss weight
    c.max_grad_norm = 1.0          # global-norm gradient clipping
    c.hidden = (64, 64)            # policy and baseline widths
    return c
