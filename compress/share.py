"""Weight sharing by per-layer k-means (Han et al. 2016, "Deep Compression", section 3).

Each prunable array (at least `min_ndim` dims) is replaced by a codebook of `2**bits - 1` float
centroids and one `bits`-bit integer index per weight, the last index value standing for 0.
Centroids start linearly spaced between the layer's smallest and largest weight (the paper's best initialization: it keeps the rare large
weights) and move by Lloyd iterations in a `lax.fori_loop`. Weights that are exactly zero
(pruned) keep that zero index, so sparsity survives sharing.

Fine-tuning moves the centroids: the gradient of a centroid is the sum of the gradients of the
weights that share it. Differentiating a loss of `reconstruct(with_trainable(shared, values))`
with respect to `values = trainable(shared)` gives exactly that (the gather's transpose is the
per-cluster sum that `codebook_gradients` spells out), so any optax optimizer trains the
codebooks while the indices stay fixed.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Shared(NamedTuple):
    """One shared layer.

    Attributes:
        codebook: `(k,)` float32 centroids.
        indices: int32 integers in `[0, k]` shaped like the layer's weights (k means 0).
    """

    codebook: jax.Array
    indices: jax.Array


def kmeans_1d(values, k: int, iterations: int = 30, ignore_zeros: bool = True):
    """Cluster the scalars of `values` by Lloyd's k-means, linearly initialized over `[min, max]`.

    Args:
        values: an array of any shape.
        k: the number of centroids.
        iterations: the Lloyd iterations.
        ignore_zeros: exact zeros take index `k` and do not move any centroid.

    Returns:
        `(codebook, indices)`: `(k,)` float32 centroids and int32 indices shaped like `values`.
    """
    x = values.ravel().astype(jnp.float32)
    live = (x != 0) if ignore_zeros else jnp.ones_like(x, bool)
    lo = jnp.min(jnp.where(live, x, jnp.inf))
    hi = jnp.max(jnp.where(live, x, -jnp.inf))
    codebook = jnp.linspace(lo, hi, k)

    def assign(codebook):
        return jnp.argmin(jnp.abs(x[:, None] - codebook[None, :]), axis=1)

    def lloyd(_, codebook):
        idx = assign(codebook)
        weight = live.astype(jnp.float32)
        sums = jax.ops.segment_sum(x * weight, idx, num_segments=k)
        counts = jax.ops.segment_sum(weight, idx, num_segments=k)
        return jnp.where(counts > 0, sums / jnp.maximum(counts, 1.0), codebook)  # empty clusters stay put

    codebook = jax.lax.fori_loop(0, iterations, lloyd, codebook)
    indices = jnp.where(live, assign(codebook), k).reshape(values.shape)
    return codebook, indices.astype(jnp.int32)


def share(params, bits: int = 4, min_ndim: int = 2, iterations: int = 30):
    """Replace every prunable array of `params` by a `Shared` of per-layer k-means centroids.

    Args:
        params: the parameter tree.
        bits: each layer gets `2**bits - 1` centroids and `bits`-bit indices (index `2**bits - 1`
            is zero).
        min_ndim: arrays with at least this many dims are shared.
        iterations: the Lloyd iterations.

    Returns:
        The tree with `Shared` leaves in place of the prunable arrays.
    """
    def leaf(w):
        if jnp.ndim(w) < min_ndim:
            return w
        return Shared(*kmeans_1d(w, 2 ** bits - 1, iterations))
    return jax.tree.map(leaf, params)


def _is_shared(x) -> bool:
    return isinstance(x, Shared)


def reconstruct(shared):
    """Rebuild the dense parameter tree: `codebook[indices]` per shared layer (index k gives 0)."""
    def leaf(x):
        if not _is_shared(x):
            return x
        table = jnp.concatenate([x.codebook, jnp.zeros((1,), x.codebook.dtype)])
        return table[x.indices]
    return jax.tree.map(leaf, shared, is_leaf=_is_shared)


def codebook_gradients(grads, shared):
    """Compute per-layer centroid gradients from dense weight gradients.

    For centroid `j`, the sum of `grads` over the weights whose index is `j` (pruned weights
    excluded). Non-shared leaves keep their gradient.

    Args:
        grads: dense gradients, a tree like `reconstruct(shared)`.
        shared: the tree from `share`.

    Returns:
        A tree like `trainable(shared)`: `(k,)` gradients per shared layer.
    """
    def leaf(g, x):
        if not _is_shared(x):
            return g
        k = x.codebook.shape[0]
        return jax.ops.segment_sum(g.ravel(), x.indices.ravel(), num_segments=k + 1)[:k]
    return jax.tree.map(leaf, grads, shared, is_leaf=_is_shared)


def trainable(shared):
    """Extract the tree an optimizer fine-tunes: codebooks of shared layers, the other leaves as they are."""
    return jax.tree.map(lambda x: x.codebook if _is_shared(x) else x, shared, is_leaf=_is_shared)


def with_trainable(shared, values):
    """Replace the codebooks (and unshared leaves) of `shared` by `values` (from `trainable`)."""
    return jax.tree.map(lambda x, v: x._replace(codebook=v) if _is_shared(x) else v, shared, values,
                        is_leaf=_is_shared)
