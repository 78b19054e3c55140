"""The small training loop the compression pipelines share: minibatch steps of any optax
transformation on any differentiable parameter tree (dense weights, codebooks, factors,
latent binary weights), and test accuracy of a classifier."""

from typing import Callable

import jax
import numpy as np
import optax
from tqdm.auto import tqdm


def fit(loss_fn: Callable, values, tx: optax.GradientTransformation, split: dict, steps: int,
        batch_size: int = 64, seed: int = 0, desc: str | None = None, progress: bool = True, opt_state=None):
    """`values` after `steps` updates of `tx` on `loss_fn(values, x, y, rng) -> scalar`.

    `split`: `{"inputs": (N, ...), "label": (N,)}`; batches are drawn from a fresh permutation
    every epoch (seeded). `tx.update` receives the values, so wrappers such as
    `compress.prune.wrap` work; pass the returned `opt_state` back to continue a schedule.
    Returns `(values, opt_state)`.
    """
    n = len(split["label"])
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} training examples")

    @jax.jit
    def step(values, opt_state, x, y, rng):
        grads = jax.grad(loss_fn)(values, x, y, rng)
        updates, opt_state = tx.update(grads, opt_state, values)
        return optax.apply_updates(values, updates), opt_state

    opt_state = tx.init(values) if opt_state is None else opt_state
    shuffle, queue, key = np.random.default_rng(seed), np.empty(0, np.int64), jax.random.key(seed)
    for i in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        if len(queue) < batch_size:
            queue = shuffle.permutation(n)
        idx, queue = queue[:batch_size], queue[batch_size:]
        values, opt_state = step(values, opt_state, split["inputs"][idx], split["label"][idx],
                                 jax.random.fold_in(key, i))
    return values, opt_state


def cross_entropy(logits_fn: Callable) -> Callable:
    """`loss_fn(params, x, y, rng)` for `fit`: mean softmax cross-entropy of `logits_fn(params, x)`."""
    return lambda params, x, y, rng: optax.softmax_cross_entropy_with_integer_labels(logits_fn(params, x), y).mean()


def accuracy(logits_fn: Callable, params, split: dict, batch_size: int = 1024) -> float:
    """Fraction of `split` that `logits_fn(params, x) -> (B, classes)` classifies correctly."""
    hits = 0
    for i in range(0, len(split["label"]), batch_size):
        logits = jax.jit(logits_fn)(params, split["inputs"][i:i + batch_size])
        hits += int((np.asarray(logits).argmax(-1) == split["label"][i:i + batch_size]).sum())
    return hits / len(split["label"])
