"""Magnitude pruning as an optax wrapper (the model is not edited).

`wrap(tx, sparsity)` returns a `GradientTransformation` whose state holds one 0/1 mask per
prunable parameter (arrays with at least `min_ndim` dims: kernels, not biases or norms). Every
update is rewritten so that the new parameters are `mask * (params + update)`: pruned weights
are zero after every step, and because the masks live in the optimizer state they are saved,
restored and sharded with it. At steps `begin, begin + every, ...` up to `end` the masks are
recomputed from the weights' magnitudes at the current target sparsity:

- `scope="layer"`: each array loses its `s` smallest-magnitude fraction; `scope="global"`: one
  threshold over all prunable weights together (Han et al. 2015 prune per layer; global
  thresholds let layers differ);
- `structured=True`: whole output channels/units (the last axis) by their L2 norm, so the
  pruned layer is a smaller dense layer;
- `sparsity` is a number (one-shot at `begin`) or a schedule such as `polynomial_sparsity`,
  the gradual schedule of Zhu & Gupta (2017), "To prune, or not to prune".

Iterative prune/retrain is `wrap` with a stepwise schedule (`optax.piecewise_constant_schedule`).
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax


class PruneState(NamedTuple):
    """The optimizer state of `wrap`.

    Attributes:
        masks: 0/1 arrays shaped like the prunable params; None for the others.
        count: int32 scalar, the steps taken.
        inner: the wrapped transformation's state.
    """

    masks: optax.Params    # 0/1 arrays shaped like the prunable params; None for the others
    count: jax.Array       # steps taken
    inner: optax.OptState


def polynomial_sparsity(final: float, begin: int, end: int, initial: float = 0.0, power: float = 3.0) -> Callable:
    """Make Zhu & Gupta's (2017) gradual sparsity schedule.

    `s_t = final + (initial - final) (1 - (t - begin) / (end - begin))^power` for
    `begin <= t <= end`, `initial` before and `final` after.

    Args:
        final: the sparsity reached at `end`.
        begin: the first step of the ramp.
        end: the last step of the ramp.
        initial: the sparsity before `begin`.
        power: the exponent of the ramp.

    Returns:
        `schedule(step) -> sparsity`, a fraction in `[0, 1]`.
    """
    def schedule(step):
        frac = jnp.clip((step - begin) / max(end - begin, 1), 0.0, 1.0)
        return final + (initial - final) * (1.0 - frac) ** power
    return schedule


def _prunable(x, min_ndim: int) -> bool:
    return x is not None and jnp.ndim(x) >= min_ndim


def _scores(w, structured: bool):
    """Magnitude per weight, or the L2 norm of each output unit broadcast over its weights."""
    if not structured:
        return jnp.abs(w)
    norms = jnp.sqrt(jnp.sum(w.astype(jnp.float32) ** 2, axis=tuple(range(w.ndim - 1)), keepdims=True))
    return jnp.broadcast_to(norms, w.shape)


def _threshold(scores, sparsity, units: int):
    """The score below which a `sparsity` fraction of `units` equal-sized groups falls."""
    flat = jnp.sort(scores.ravel())
    k = jnp.clip(jnp.floor(sparsity * units).astype(jnp.int32), 0, units - 1)
    per_unit = flat.size // units
    return jnp.where(sparsity > 0, flat[k * per_unit], -jnp.inf)


def magnitude_masks(params, sparsity, scope: str = "layer", structured: bool = False, min_ndim: int = 2):
    """Compute 0/1 masks that keep the largest-magnitude weights.

    A `sparsity` fraction of each prunable array (`scope="layer"`) or of all of them together
    (`"global"`) is zero; ties at the threshold are kept.

    Args:
        params: the parameter tree.
        sparsity: the fraction to prune, a float or a traced scalar.
        scope: `"layer"` or `"global"`.
        structured: prune whole output units (the last axis) by their L2 norm.
        min_ndim: arrays with at least this many dims are prunable.

    Returns:
        A tree like `params` of 0/1 masks in each array's dtype, None for non-prunable leaves.

    Raises:
        ValueError: on an unknown `scope`.
    """
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global'; got {scope!r}")
    leaves, treedef = jax.tree.flatten(params, is_leaf=lambda x: x is None)
    prunable = [_prunable(x, min_ndim) for x in leaves]
    scores = [_scores(x, structured) if p else None for x, p in zip(leaves, prunable)]
    if scope == "global":
        chosen = [s for s, p in zip(scores, prunable) if p]
        if structured:  # one score per output unit
            pooled = jnp.concatenate([s.reshape(-1, s.shape[-1])[0] for s in chosen])
        else:
            pooled = jnp.concatenate([s.ravel() for s in chosen])
        cut = _threshold(pooled, sparsity, pooled.size)
        masks = [(s >= cut).astype(x.dtype) if p else None for s, x, p in zip(scores, leaves, prunable)]
    else:
        masks = [(s >= _threshold(s, sparsity, s.shape[-1] if structured else s.size)).astype(x.dtype) if p else None
                 for s, x, p in zip(scores, leaves, prunable)]
    return jax.tree.unflatten(treedef, masks)


def wrap(tx: optax.GradientTransformation, sparsity, scope: str = "layer", structured: bool = False,
         begin: int = 0, end: int | None = None, every: int = 100, min_ndim: int = 2) -> optax.GradientTransformation:
    """Follow `tx` by magnitude pruning; see the module docstring.

    Args:
        tx: the optimizer to wrap.
        sparsity: a float or a schedule `step -> fraction`.
        scope: `"layer"` or `"global"` (see `magnitude_masks`).
        structured: prune whole output units.
        begin: the first step at which masks are computed.
        end: masks are recomputed at `begin + i * every` until `end` (default: only at `begin`,
            i.e. one-shot).
        every: the steps between mask updates.
        min_ndim: arrays with at least this many dims are prunable.

    Returns:
        A `GradientTransformation` with `PruneState`; its `update` raises `ValueError` when
        called without `params`.
    """
    schedule = sparsity if callable(sparsity) else (lambda step: sparsity)
    end = begin if end is None else end

    def init(params):
        masks = jax.tree.map(lambda x: jnp.ones_like(x) if _prunable(x, min_ndim) else None, params)
        return PruneState(masks, jnp.zeros([], jnp.int32), tx.init(params))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("compress.prune.wrap needs params: call tx.update(grads, state, params)")
        updates, inner = tx.update(updates, state.inner, params)
        new_params = optax.apply_updates(params, updates)
        t = state.count
        due = (t >= begin) & (t <= end) & ((t - begin) % every == 0)
        masks = jax.lax.cond(due, lambda: magnitude_masks(new_params, schedule(t), scope, structured, min_ndim),
                             lambda: state.masks)
        pruned = jax.tree.map(lambda p, m: p if m is None else p * m, new_params, masks, is_leaf=lambda x: x is None)
        updates = jax.tree.map(lambda new, old: new - old, pruned, params)
        return updates, PruneState(masks, t + 1, inner)

    return optax.GradientTransformation(init, update)


def sparsity_of(params, min_ndim: int = 2) -> float:
    """Compute the fraction of exactly-zero weights among the prunable arrays.

    Args:
        params: the parameter tree.
        min_ndim: arrays with at least this many dims count.

    Returns:
        The fraction, a float.
    """
    arrays = [x for x in jax.tree.leaves(params) if jnp.ndim(x) >= min_ndim]
    return float(sum(jnp.sum(x == 0) for x in arrays) / sum(x.size for x in arrays))
