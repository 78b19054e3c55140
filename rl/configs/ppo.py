"""PPO with GAE, clipped objective, minibatch epochs and an annealed learning rate."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the default PPO config; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.env = "CartPole-v1"        # gymnax environment with discrete actions
    c.total_steps = 500_000      # environment steps per seed
    c.num_envs = 4               # environments stepped in parallel (vmap)
    c.num_steps = 128            # steps per environment per update
    c.update_epochs = 4          # passes over each batch of transitions
    c.num_minibatches = 4        # minibatches per pass
    c.learning_rate = 1e-3       # Adam step size at the start
    c.anneal_lr = True           # decay the learning rate linearly to 0
    c.gamma = 0.99               # discount
    c.gae_lambda = 0.95          # GAE lambda
    c.clip_eps = 0.2             # ratio (and value, if clip_value) clipping
    c.clip_value = False         # clip the value update around the old value
    c.ent_coef = 0.01            # entropy bonus
    c.vf_coef = 0.5              # value-loss weight
    c.max_grad_norm = 0.5        # global-norm gradient clipping
    c.hidden = (64, 64)          # actor and critic widths
    return c
