"""Train and eval step factories around a user loss.

Steps are pure functions; callers jit them where they are used, donating the state:
`jax.jit(make_train_step(loss_fn), donate_argnums=0)`.
"""

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from train.state import TrainState

# loss_fn(params, state, batch, rng) -> (loss, (metrics, updates)): `metrics` is a dict of
# scalars, `updates` a dict of state fields to replace (e.g. {"batch_stats": ...}).
LossFn = Callable


def make_train_step(loss_fn: LossFn, learning_rate_fn: Callable | None = None) -> Callable:
    """Build `train_step(state, batch, rng) -> (state, metrics)` around `loss_fn`.

    The step key is `fold_in(rng, state.step)`, so a resumed run draws the same keys.

    With a dynamic loss scale in `state.loss_scale` (float16 training, `train.precision`) the
    loss is scaled before differentiation and the gradients unscaled; a step whose gradients
    are not all finite leaves params, optimizer state and batch stats unchanged and halves the
    scale.

    Args:
        loss_fn: `loss_fn(params, state, batch, rng) -> (loss, (metrics, updates))`, where `loss`
            is a scalar, `metrics` a dict of scalars and `updates` a dict of state fields to
            replace (e.g. `{"batch_stats": ...}`).
        learning_rate_fn: Optional schedule `step -> learning rate`, reported in the metrics.

    Returns:
        The pure (unjitted) `train_step` function. Its metrics dict holds the recipe's own scalars
        plus `loss`, `l2_grads`, `l2_params` (global norms before the update), `learning_rate`
        (float32) when `learning_rate_fn` is given, and with a loss scale also `loss_scale` (the
        scale used) and `grads_finite` (float32 0 or 1).
    """

    def train_step(state: TrainState, batch, rng):
        step_rng = jax.random.fold_in(rng, state.step)
        if state.loss_scale is None:
            grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
            (loss, (metrics, updates)), grads = grad_fn(state.params, state, batch, step_rng)
        else:
            scaled_grad_fn = state.loss_scale.value_and_grad(loss_fn, has_aux=True)
            loss_scale, finite, (loss, (metrics, updates)), grads = scaled_grad_fn(state.params, state, batch,
                                                                                   step_rng)
            metrics = dict(metrics, loss_scale=state.loss_scale.scale, grads_finite=finite.astype(jnp.float32))
        metrics = dict(metrics, loss=loss, l2_grads=optax.global_norm(grads),
                       l2_params=optax.global_norm(state.params))
        if learning_rate_fn is not None:
            metrics["learning_rate"] = jnp.asarray(learning_rate_fn(state.step), jnp.float32)
        new_state = state.apply_gradients(grads=grads, **updates)
        if state.loss_scale is not None:  # a non-finite gradient skips the update (the step still counts)
            keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, old)
            new_state = new_state.replace(params=keep(new_state.params, state.params),
                                          opt_state=keep(new_state.opt_state, state.opt_state),
                                          batch_stats=keep(new_state.batch_stats, state.batch_stats),
                                          loss_scale=loss_scale)
        return new_state, metrics

    return train_step


def make_eval_step(metrics_fn: Callable) -> Callable:
    """Build `eval_step(state, batch) -> sums` that sums per-example metrics under a mask.

    Per-example values are summed under `batch["mask"]` (padding excluded) and `count` is
    added, so a full pass is `{k: total[k] / total["count"]}` (see `mean_over_batches`).

    Args:
        metrics_fn: `metrics_fn(state, batch) -> {name: values}` with per-example `values` of
            shape `(B,)`. `batch["mask"]` has shape `(B,)`, 1 for real examples, 0 for padding.

    Returns:
        The pure `eval_step` function; it returns a dict of scalar sums, one per metric, plus
        `count` (the number of unmasked examples).
    """

    def eval_step(state: TrainState, batch):
        mask = batch["mask"]
        sums = {k: jnp.sum(v * mask) for k, v in metrics_fn(state, batch).items()}
        return dict(sums, count=jnp.sum(mask))

    return eval_step


def mean_over_batches(eval_step: Callable, state: TrainState, batches) -> dict[str, float]:
    """Run `eval_step` over `batches` and return the masked means as Python floats.

    Args:
        eval_step: A step from `make_eval_step` (jitted or not).
        state: The state to evaluate.
        batches: An iterable of batches, each with a `"mask"` entry.

    Returns:
        A dict mapping each metric's name to its sum over all batches divided by the total `count`.
    """
    total = None
    for batch in batches:
        sums = eval_step(state, batch)
        total = sums if total is None else jax.tree.map(jnp.add, total, sums)
    count = float(total.pop("count"))
    return {k: float(v) / count for k, v in total.items()}
