"""Batch iterators over in-memory arrays, shuffled by seed.

The training stream is a pure function of (seed, step): epoch `e` is the permutation drawn
from `default_rng([seed, e])`, so a run resumed at step `s` sees exactly the batches an
uninterrupted run would.
"""

from typing import Iterator, Mapping

import numpy as np


def _length(arrays: Mapping[str, np.ndarray]) -> int:
    lengths = {len(v) for v in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"all arrays must have the same length; got {dict((k, len(v)) for k, v in arrays.items())}")
    return lengths.pop()


def train_batches(arrays: Mapping[str, np.ndarray], batch_size: int, seed: int,
                  start_step: int = 0) -> Iterator[dict[str, np.ndarray]]:
    """Yields endless shuffled batches of exactly `batch_size` examples, starting at global step `start_step`.

    The remainder of each epoch is dropped.

    Args:
        arrays: Dict of arrays that share their leading (example) axis `N`.
        batch_size: Examples per batch.
        seed: Shuffling seed; epoch `e` uses `default_rng([seed, e])`.
        start_step: Global step of the first batch yielded.

    Yields:
        Dicts with the keys of `arrays`, each array of shape `(batch_size, ...)`.

    Raises:
        ValueError: If the arrays differ in length, or `batch_size` is larger than the number of examples.
    """
    n = _length(arrays)
    steps_per_epoch = n // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the {n} training examples")
    step, epoch, perm = start_step, None, None
    while True:
        e, i = divmod(step, steps_per_epoch)
        if e != epoch:
            epoch, perm = e, np.random.default_rng([seed, e]).permutation(n)
        idx = perm[i * batch_size:(i + 1) * batch_size]
        yield {k: v[idx] for k, v in arrays.items()}
        step += 1


def eval_batches(arrays: Mapping[str, np.ndarray], batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    """Yields one pass over `arrays` in order, every batch padded to `batch_size`.

    Padding keeps shapes static (one compilation); a float32 `mask` of shape `(batch_size,)` is 1
    for real examples.

    Args:
        arrays: Dict of arrays that share their leading (example) axis `N`.
        batch_size: Examples per batch.

    Yields:
        Dicts with the keys of `arrays` (each `(batch_size, ...)`, zero-padded) plus `mask`.

    Raises:
        ValueError: If the arrays differ in length.
    """
    n = _length(arrays)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        pad = batch_size - (stop - start)
        batch = {k: np.concatenate([v[start:stop], np.zeros((pad,) + v.shape[1:], v.dtype)]) if pad else v[start:stop]
                 for k, v in arrays.items()}
        batch["mask"] = (np.arange(batch_size) < stop - start).astype(np.float32)
        yield batch
