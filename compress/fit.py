"""The small training loop the compression pipelines share, and test accuracy of a classifier.

The loop takes minibatch steps of any optax transformation on any differentiable parameter tree
(dense weights, codebooks, factors, latent binary weights), resumable from a checkpoint file.
"""

import json
import os
from typing import Callable

import flax.serialization
import jax
import numpy as np
import optax
from tqdm.auto import tqdm

from train.errors import Interrupted, UserError
from train.interrupts import ctrl_c_between_steps
from train.keyed_jit import keyed_jit
from train.overrides import changed_fields


@keyed_jit(("loss_fn", "tx"))
def _step(loss_fn, tx, values, opt_state, x, y, rng):
    grads = jax.grad(loss_fn)(values, x, y, rng)
    updates, opt_state = tx.update(grads, opt_state, values)
    return optax.apply_updates(values, updates), opt_state


def fit(loss_fn: Callable, values, tx: optax.GradientTransformation, split: dict, steps: int,
        batch_size: int = 64, seed: int = 0, desc: str | None = None, progress: bool = True, opt_state=None,
        checkpoint: str | None = None, checkpoint_every: int = 250):
    """Train `values` by `steps` updates of `tx` on `loss_fn(values, x, y, rng) -> scalar`.

    Batches are drawn from a fresh permutation every epoch (seeded). `tx.update` receives the
    values, so wrappers such as `compress.prune.wrap` work; pass the returned `opt_state` back
    to continue a schedule.

    A Ctrl-C stops after the step in flight. `checkpoint`: a file that keeps the step, values
    and optimizer state every `checkpoint_every` steps, at the end and at a Ctrl-C (written
    through a rename, so never half-written; the Ctrl-C then raises `train.errors.Interrupted`).
    A call that finds it continues from its step with the batches an uninterrupted call would
    have drawn, and one that finds it finished trains nothing: a pipeline's rerun resumes where
    it stopped.

    The step is one `jax.jit` program per shapes, `loss_fn` and `tx`, both keyed by what they
    compute (`train.keyed_jit`): a second call with an equal new loss or optimizer does not compile.

    Args:
        loss_fn: `loss_fn(values, x, y, rng) -> scalar`, differentiable in `values`.
        values: the parameter tree to train.
        tx: the optimizer.
        split: `{"inputs": (N, ...), "label": (N,)}`.
        steps: the total number of steps (including those a checkpoint already holds).
        batch_size: examples per step, at most `N`.
        seed: seeds the batch order and the per-step `rng`.
        desc: the progress bar's label.
        progress: whether to show a progress bar.
        opt_state: the optimizer state to continue from; `None` starts with `tx.init(values)`.
        checkpoint: a file that keeps the step, values and optimizer state (see above).
        checkpoint_every: the steps between checkpoints.

    Returns:
        `(values, opt_state)`.

    Raises:
        ValueError: if `batch_size` exceeds the training examples.
        UserError: if the checkpoint is damaged or from another configuration.
        Interrupted: at a Ctrl-C with a `checkpoint` (without one, `KeyboardInterrupt`).
    """
    n = len(split["label"])
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} training examples")

    opt_state = tx.init(values) if opt_state is None else opt_state
    start = 0
    if checkpoint and os.path.exists(checkpoint):
        start, values, opt_state = _restore(checkpoint, values, opt_state)
    batches, key = _batch_indices(n, batch_size, seed), jax.random.key(seed)
    for _ in range(start):  # the batches drawn before the checkpoint
        next(batches)
    with ctrl_c_between_steps() as requested:
        for i in tqdm(range(start, steps), desc=desc, disable=not progress, leave=False, initial=start, total=steps):
            idx = next(batches)
            values, opt_state = _step(loss_fn, tx, values, opt_state, split["inputs"][idx], split["label"][idx],
                                     jax.random.fold_in(key, i))
            if checkpoint and ((i + 1) % checkpoint_every == 0 or i + 1 == steps or requested):
                _save(checkpoint, i + 1, values, opt_state)
            if requested:
                if not checkpoint:
                    raise KeyboardInterrupt
                raise Interrupted(f"interrupted after step {i + 1} of {desc or 'fit'}; saved to {checkpoint}: "
                                  f"rerun the same command to resume")
    return values, opt_state


def _batch_indices(n: int, batch_size: int, seed: int):
    """Indices of each step's batch: a fresh seeded permutation of `range(n)` every epoch."""
    shuffle, queue = np.random.default_rng(seed), np.empty(0, np.int64)
    while True:
        if len(queue) < batch_size:
            queue = shuffle.permutation(n)
        idx, queue = queue[:batch_size], queue[batch_size:]
        yield idx


def _save(path: str, step: int, values, opt_state) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(flax.serialization.to_bytes({"step": step, "values": values, "opt_state": opt_state}))
    os.replace(tmp, path)


def _restore(path: str, values, opt_state):
    """Load `(step, values, opt_state)` from `path`, shaped like the given ones.

    Raises a `UserError` when they do not match (the file is from another configuration or damaged).
    """
    try:
        with open(path, "rb") as f:
            saved = flax.serialization.from_bytes({"step": 0, "values": values, "opt_state": opt_state}, f.read())
        if jax.tree.map(np.shape, saved["values"]) != jax.tree.map(np.shape, values):
            raise ValueError("other shapes")
    except Exception as e:  # msgpack's and flax's errors for a damaged or mismatched file vary
        reason = (str(e).splitlines() or [""])[0][:80]
        raise UserError(f"cannot resume from {path} ({type(e).__name__}: {reason}); "
                        f"rerun with --fresh to start afresh") from None
    return int(saved["step"]), saved["values"], saved["opt_state"]


def check_config(directory: str, config) -> None:
    """Keep `config` in `directory/config.json`, checking it against the one already there.

    Raises:
        UserError: when the directory already holds another pipeline config, naming the changed
            fields (its checkpoints belong to that one).
    """
    now = json.loads(json.dumps(config.to_dict()))
    path = os.path.join(directory, "config.json")
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        changed = changed_fields(saved, now)
        if changed:
            raise UserError(f"{directory} holds a run of another config (changed: {', '.join(changed)}); "
                            f"rerun with --fresh to start afresh, or use a new --workdir")
        return
    from train.files import make_workdir, write_json_atomic

    make_workdir(directory)
    write_json_atomic(path, now)


def cross_entropy(logits_fn: Callable) -> Callable:
    """Make the `loss_fn(params, x, y, rng)` for `fit`: mean softmax cross-entropy of `logits_fn(params, x)`."""
    return lambda params, x, y, rng: optax.softmax_cross_entropy_with_integer_labels(logits_fn(params, x), y).mean()


@keyed_jit("logits_fn")
def _logits(logits_fn, params, x):
    return logits_fn(params, x)


def correct(logits_fn: Callable, params, split: dict, batch_size: int = 1024) -> np.ndarray:
    """Tell which examples of `split` a classifier classifies correctly.

    Runs in batches of `batch_size` (one program per batch shape; `logits_fn` keyed by
    `train.keyed_jit`).

    Args:
        logits_fn: `logits_fn(params, x) -> (B, classes)`.
        params: the classifier's parameters.
        split: `{"inputs": (N, ...), "label": (N,)}`.
        batch_size: examples per batch.

    Returns:
        `(N,)` bool.
    """
    return np.concatenate([np.asarray(_logits(logits_fn, params, split["inputs"][i:i + batch_size])).argmax(-1)
                           == split["label"][i:i + batch_size] for i in range(0, len(split["label"]), batch_size)])


def accuracy(logits_fn: Callable, params, split: dict, batch_size: int = 1024) -> float:
    """Compute the fraction of `split` that `logits_fn` classifies correctly (`correct`)."""
    return float(correct(logits_fn, params, split, batch_size).mean())
