"""Config blocks shared by recipes (a module starting with `_` is not a recipe)."""

import ml_collections


def optimizer(**overrides) -> ml_collections.ConfigDict:
    """The `optimizer` block read by `train.optim.make_optimizer`, with `overrides` applied."""
    c = ml_collections.ConfigDict()
    c.name = "adam"           # adam | adamw | sgd
    c.learning_rate = 1e-3    # peak learning rate
    c.schedule = "cosine"     # constant | cosine (decays to 0 at num_steps)
    c.warmup_steps = 0        # linear warm-up from 0
    c.weight_decay = 0.0      # adamw / sgd decoupled weight decay
    c.momentum = 0.9          # sgd (Nesterov) momentum
    c.grad_clip_norm = 0.0    # clip gradients to this global norm; 0 = off
    c.accumulate_steps = 1    # gradient accumulation: update every k steps (effective batch k x batch_size)
    c.update(overrides)
    return c
