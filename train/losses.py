"""Losses shared by tasks and benchmarks, in the shape `train.steps.make_train_step` takes.

That shape is `loss_fn(params, state, batch, rng)`.
"""

import jax.numpy as jnp
import optax


def cross_entropy_loss(params, state, batch, rng):
    """Softmax cross-entropy of `state.apply_fn` on `batch["inputs"]` against integer labels.

    Runs in training mode (dropout from `rng`, BatchNorm statistics updated when the state has
    them).

    Args:
        params: The parameters to differentiate.
        state: The `TrainState`, for `apply_fn` and batch stats.
        batch: `{"inputs": (B, ...), "label": (B,) int}`.
        rng: The key for dropout.

    Returns:
        `(loss, ({"accuracy"}, {"batch_stats"?}))`: the scalar mean loss, the metrics, and the
        updated batch stats when the state has them.
    """
    mutable = ["batch_stats"] if state.batch_stats is not None else []
    logits, updates = state.apply_fn(state.variables(params), batch["inputs"], train=True, mutable=mutable,
                                     rngs={"dropout": rng})
    logits = logits.astype(jnp.float32)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"]).mean()
    accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["label"])
    return loss, ({"accuracy": accuracy}, dict(updates))
