"""Binary and ternary weights as a parameter transform, trained with straight-through gradients.

The optimizer keeps full-precision *latent* weights; every forward pass uses their binary or
ternary image, and the gradient with respect to that image is passed back to the latent
weights (straight-through estimator). The model is not edited: a loss calls
`apply_fn(dict(variables, params=weights(values, method, rng)), x)`.

Methods (`METHODS`), applied to every kernel (at least `min_ndim` dims; biases stay float):

- `binary_connect` (Courbariaux et al. 2015): `+H` or `-H` by the sign of the latent weight,
  `H` the layer's Glorot-uniform bound `sqrt(6 / (fan_in + fan_out))`; `clip_latent` keeps the
  latent weights in `[-H, H]`, and the gradient is cancelled outside it.
- `binary_connect_stochastic`: `+H` with probability `hard_sigmoid(w / H) = clip((w/H + 1)/2, 0, 1)`
  during training (needs `rng`); inference uses the deterministic sign.
- `xnor` (the binary-weight networks of Rastegari et al. 2016): `alpha * sign(w)` with one
  scale per output channel, `alpha = mean |w|` over the channel's weights (differentiable).
- `ttq` (Trained Ternary Quantization, Zhu et al. 2017): `+W_p` above `t * max|w|`, `-W_n`
  below `-t * max|w|`, 0 between, with learned per-layer scales `W_p, W_n` (a `Ternary` leaf
  holds latent weights and both scales). Scale gradients are the sums of the weight gradients
  over their sets; latent gradients are scaled by `W_p`, `W_n` or 1.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

METHODS = ("binary_connect", "binary_connect_stochastic", "xnor", "ttq")


class Ternary(NamedTuple):
    """A TTQ kernel.

    Attributes:
        latent: the latent weights, of the kernel's shape.
        wp: the scalar positive scale (> 0).
        wn: the scalar negative scale (> 0).
    """

    latent: jax.Array
    wp: jax.Array
    wn: jax.Array


def glorot_bound(shape) -> float:
    """Compute the Glorot-uniform bound `sqrt(6 / (fan_in + fan_out))` of a kernel `(..., in, out)`.

    The receptive field is counted in both fans.
    """
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return (6.0 / (receptive * (shape[-2] + shape[-1]))) ** 0.5


def _ste_sign(w, bound):
    """`sign(w)` (0 counts as +) forward; gradient 1 inside `[-bound, bound]`, 0 outside."""
    return _straight_through(jnp.where(w >= 0, 1.0, -1.0), w, bound)


def _straight_through(value, w, bound=None):
    """`value` exactly in the forward pass, with the gradient of `w` (zeroed where `|w| > bound`)."""
    if bound is not None:
        w = jnp.where(jnp.abs(w) <= bound, w, jax.lax.stop_gradient(w))
    return value + (w - jax.lax.stop_gradient(w))


def binary_connect(w, rng=None):
    """Binarize latent `w` to a `+-H` kernel (BinaryConnect, Courbariaux et al. 2015).

    Args:
        w: the latent kernel `(..., in, out)`.
        rng: a PRNG key for stochastic binarization; `None` for the deterministic sign.

    Returns:
        The binary kernel, the shape of `w`, with straight-through gradients.
    """
    h = glorot_bound(w.shape)
    if rng is None:
        return h * _ste_sign(w, h)
    p = jnp.clip((w / h + 1) / 2, 0.0, 1.0)
    sign = jnp.where(jax.random.uniform(rng, w.shape) < p, 1.0, -1.0)
    return h * _straight_through(sign, w / h, 1.0)


def xnor(w):
    """Binarize `w` to `alpha * sign(w)`, `alpha: (1, ..., out)` the mean magnitude per output channel."""
    alpha = jnp.mean(jnp.abs(w), axis=tuple(range(w.ndim - 1)), keepdims=True)
    return alpha * _ste_sign(w, jnp.max(jnp.abs(jax.lax.stop_gradient(w))))


def ternary(t: Ternary, threshold: float = 0.05):
    """Make the TTQ kernel `W_p * [w > d] - W_n * [w < -d]`, `d = threshold * max|w|`, with TTQ's gradients."""
    w = t.latent
    delta = threshold * jnp.max(jnp.abs(jax.lax.stop_gradient(w)))
    pos, neg = w > delta, w < -delta
    values = t.wp * pos - t.wn * neg
    scale = jax.lax.stop_gradient(jnp.where(pos, t.wp, jnp.where(neg, t.wn, 1.0)))
    return _straight_through(values, scale * w)


def _check(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def init(params, method: str, threshold: float = 0.05, min_ndim: int = 2):
    """Make the trainable values for `method`.

    Args:
        params: the full-precision parameter tree.
        method: one of `METHODS`.
        threshold: TTQ's threshold, a fraction of `max|w|`.
        min_ndim: arrays with at least this many dims are kernels.

    Returns:
        `params` themselves as latent weights, or for `ttq` every kernel as a `Ternary` whose
        scales start at the mean magnitude of its two sets.

    Raises:
        ValueError: on an unknown `method`.
    """
    _check(method)
    if method != "ttq":
        return params

    def leaf(w):
        if jnp.ndim(w) < min_ndim:
            return w
        delta = threshold * jnp.max(jnp.abs(w))
        mean_over = lambda m: jnp.sum(jnp.abs(w) * m) / jnp.maximum(jnp.sum(m), 1)
        return Ternary(w, mean_over(w > delta), mean_over(w < -delta))

    return jax.tree.map(leaf, params)


def weights(values, method: str, rng=None, threshold: float = 0.05, min_ndim: int = 2):
    """Make the parameter tree the model runs with: kernels binarized or ternarized from `values`.

    Args:
        values: the trainable values, from `init`.
        method: one of `METHODS`.
        rng: turns on stochastic BinaryConnect (training only).
        threshold: TTQ's threshold, a fraction of `max|w|`.
        min_ndim: arrays with at least this many dims are kernels.

    Returns:
        A parameter tree of the structure of the model's params.

    Raises:
        ValueError: on an unknown `method`.
    """
    _check(method)
    if method == "ttq":
        return jax.tree.map(lambda x: ternary(x, threshold) if isinstance(x, Ternary) else x, values,
                            is_leaf=lambda x: isinstance(x, Ternary))
    leaves, treedef = jax.tree.flatten(values)
    keys = (list(jax.random.split(rng, len(leaves))) if rng is not None and method == "binary_connect_stochastic"
            else [None] * len(leaves))

    def leaf(w, key):
        if jnp.ndim(w) < min_ndim:
            return w
        return xnor(w) if method == "xnor" else binary_connect(w, key)

    return jax.tree.unflatten(treedef, [leaf(w, k) for w, k in zip(leaves, keys)])


def clip_latent(tx: optax.GradientTransformation, min_ndim: int = 2) -> optax.GradientTransformation:
    """Follow `tx` by clipping every latent kernel to `[-H, H]` (BinaryConnect's rule; `H` as above).

    Returns:
        A `GradientTransformation`; its `update` raises `ValueError` when called without `params`.
    """
    def update(updates, state, params=None):
        if params is None:
            raise ValueError("compress.binary.clip_latent needs params: call tx.update(grads, state, params)")
        updates, state = tx.update(updates, state, params)

        def leaf(u, p):
            if jnp.ndim(p) < min_ndim:
                return u
            h = glorot_bound(p.shape)
            return jnp.clip(p + u, -h, h) - p

        return jax.tree.map(leaf, updates, params), state

    return optax.GradientTransformation(tx.init, update)

