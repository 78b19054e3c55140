"""Optimizers from a config: `optax.chain(clip?, base optimizer with a schedule)`."""

import ml_collections
import optax

from train.errors import UserError

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


def make_schedule(config: ml_collections.ConfigDict, num_steps: int) -> optax.Schedule:
    """Linear warm-up for `warmup_steps`, then constant or cosine decay to 0 at `num_steps`."""
    lr, warmup = config.learning_rate, config.warmup_steps
    if config.schedule not in SCHEDULES:
        raise UserError(f"unknown optimizer.schedule '{config.schedule}'; choose one of {', '.join(SCHEDULES)}")
    if config.schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(num_steps, warmup + 1))
    if warmup:
        return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), optax.constant_schedule(lr)], [warmup])
    return optax.constant_schedule(lr)


def make_optimizer(config: ml_collections.ConfigDict, num_steps: int):
    """`(tx, schedule)` from the `optimizer` block of a recipe config.

    Fields: name (adam | adamw | sgd), learning_rate, schedule, warmup_steps, weight_decay, b1 and
    b2 (Adam's decay rates),
    momentum (sgd), grad_clip_norm (0 disables global-norm clipping), accumulate_steps
    (gradient accumulation, `optax.MultiSteps`: the update happens every k-th step with the
    mean gradient of the last k batches, so the effective batch is k times larger; schedules
    count updates). The returned `schedule(step)` is indexed by train step either way.
    """
    if config.name not in OPTIMIZERS:
        raise UserError(f"unknown optimizer.name '{config.name}'; choose one of {', '.join(OPTIMIZERS)}")
    k = config.get("accumulate_steps", 1)
    if k < 1 or num_steps % k:
        raise UserError(f"optimizer.accumulate_steps must be >= 1 and divide num_steps ({num_steps}); got {k}")
    schedule = make_schedule(config, num_steps // k)
    betas = dict(b1=config.get("b1", 0.9), b2=config.get("b2", 0.999))
    if config.name == "adam":
        base = optax.adam(schedule, **betas)
    elif config.name == "adamw":
        base = optax.adamw(schedule, weight_decay=config.weight_decay, **betas)
    else:
        base = optax.chain(optax.add_decayed_weights(config.weight_decay),
                           optax.sgd(schedule, momentum=config.momentum or None, nesterov=bool(config.momentum)))
    parts = [optax.clip_by_global_norm(config.grad_clip_norm)] if config.grad_clip_norm > 0 else []
    tx = optax.chain(*parts, base)
    if k == 1:
        return tx, schedule
    return optax.MultiSteps(tx, every_k_schedule=k), lambda step: schedule(step // k)
