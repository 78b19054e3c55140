"""Attribution: which pixels a class score depends on.

Every function takes a pure `apply_fn(params, x) -> logits` (`x: (B, H, W, C)`) and is batched
with `vmap` over examples (`batch_size` chunks the batch with `lax.map` where memory demands);
none loops over examples, noise samples, path steps or occluder positions in Python. Each is
one `jax.jit` program compiled once per shapes, sizes and `apply_fn`, where `apply_fn` is keyed
by what it computes (`train.keyed_jit`): a fresh inline lambda over the same model reuses the
compiled program.

- `saliency` (Simonyan et al. 2014): `max_c |d S_y / d x|`, the gradient of the unnormalized
  class score.
- `smoothgrad` (Smilkov et al. 2017): the gradient averaged over Gaussian-noised copies.
- `integrated_gradients` (Sundararajan et al. 2017): `(x - x') * mean_a dS(x' + a (x - x'))/dx`
  on a midpoint Riemann sum; attributions sum to `S(x) - S(x')` (completeness).
- `guided_backprop` (Springenberg et al. 2015): the gradient through `guided_relu`, a
  `jax.custom_vjp` ReLU that also zeroes negative incoming gradients, swapped in through the
  model's `act` field (the model is not edited).
- `layer_gradient`, `grad_cam` (Selvaraju et al. 2017), `neuron_gradient`: gradients at or of a
  named intermediate layer, reached through Flax method interception.
- `occlusion` (Zeiler & Fergus 2014): the score drop when a square patch is greyed out, per
  position of a sliding occluder, averaged over the occluders covering each pixel.
"""

from functools import partial
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from interpret.inputs import IMAGES, checked_batch
from train.keyed_jit import keyed_jit


def _per_example(fn: Callable, *arrays, batch_size: int | None = None):
    """`vmap(fn)` over the leading axis of `arrays`, in `lax.map` chunks of `batch_size`."""
    if batch_size is None:
        return jax.vmap(fn)(*arrays)
    return jax.lax.map(lambda args: fn(*args), arrays, batch_size=batch_size)


def class_score(apply_fn: Callable, params) -> Callable:
    """Make the class-score function of one example.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`.
        params: the model's parameters.

    Returns:
        The function
        `score(x: (H, W, C), label) -> scalar`: the unnormalized score (logit) of `label`.
    """
    return lambda x, label: apply_fn(params, x[None])[0, label]


@keyed_jit(["apply_fn"], static_argnames=("batch_size"))
def input_gradient(apply_fn, params, x, labels, batch_size=None):
    """Compute the gradient of each example's class score with respect to its pixels.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        batch_size: examples per `lax.map` chunk; `None` vmaps the whole batch at once.

    Returns:
        `(B, H, W, C)` gradients.
    """
    return _per_example(jax.grad(class_score(apply_fn, params)), x, labels, batch_size=batch_size)


def to_map(attributions):
    """Reduce attributions to a map: the largest absolute attribution over channels.

    Args:
        attributions: `(B, H, W, C)` attributions.

    Returns:
        `(B, H, W)` maps.
    """
    return jnp.max(jnp.abs(attributions), axis=-1)


@checked_batch()
@keyed_jit(["apply_fn"], static_argnames=("batch_size"))
def saliency(apply_fn, params, x, labels, batch_size=None):
    """Compute saliency maps `max_c |dS_label / dx|` (Simonyan et al. 2014).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        batch_size: examples per `lax.map` chunk; `None` vmaps the whole batch at once.

    Returns:
        `(B, H, W)` saliency maps.

    Raises:
        ValueError: on a bad rank of `x`, bad `labels` or non-finite `x`.
    """
    return to_map(input_gradient(apply_fn, params, x, labels, batch_size))


@checked_batch()
@keyed_jit(["apply_fn"], static_argnames=("samples", "batch_size"))
def smoothgrad(apply_fn, params, x, labels, rng, samples: int = 25, sigma: float = 0.15, batch_size=None):
    """Average gradients over noisy copies of each image (SmoothGrad, Smilkov et al. 2017).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        rng: a PRNG key for the noise.
        samples: the number of noisy copies per image.
        sigma: the noise level: the noise is N(0, sigma^2 (max - min)^2), `max - min` the
            image's range.
        batch_size: examples per `lax.map` chunk; `None` vmaps the whole batch at once.

    Returns:
        `(B, H, W, C)` averaged gradients.

    Raises:
        ValueError: on a bad rank of `x`, bad `labels` or non-finite `x`.
    """
    grad = jax.grad(class_score(apply_fn, params))

    def one(x, label, key):
        spread = sigma * (jnp.max(x) - jnp.min(x))
        noise = spread * jax.random.normal(key, (samples, *x.shape))
        return jnp.mean(jax.vmap(grad, in_axes=(0, None))(x[None] + noise, label), axis=0)

    return _per_example(one, x, labels, jax.random.split(rng, x.shape[0]), batch_size=batch_size)


@checked_batch()
@keyed_jit(["apply_fn"], static_argnames=("steps", "batch_size"))
def integrated_gradients(apply_fn, params, x, labels, baseline=None, steps: int = 64, batch_size=None):
    """Integrate gradients along the straight path from `baseline` to `x` (Sundararajan et al. 2017).

    The integral is a midpoint Riemann sum; attributions sum to about `S(x) - S(baseline)`.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        baseline: the path's start, broadcast to `x`; `None` is black (zeros).
        steps: the number of points of the Riemann sum.
        batch_size: examples per `lax.map` chunk; `None` vmaps the whole batch at once.

    Returns:
        `(B, H, W, C)` attributions.

    Raises:
        ValueError: on a bad rank of `x`, bad `labels` or non-finite `x`.
    """
    baseline = jnp.zeros_like(x) if baseline is None else jnp.broadcast_to(baseline, x.shape)
    grad = jax.grad(class_score(apply_fn, params))
    alphas = (jnp.arange(steps) + 0.5) / steps  # midpoints

    def one(x, x0, label):
        path = x0[None] + alphas[:, None, None, None] * (x - x0)[None]
        return (x - x0) * jnp.mean(jax.vmap(grad, in_axes=(0, None))(path, label), axis=0)

    return _per_example(one, x, baseline, labels, batch_size=batch_size)


@jax.custom_vjp
def guided_relu(x):
    """ReLU whose backward pass keeps a gradient only where the input and the gradient are positive."""
    return jnp.maximum(x, 0)


def _guided_fwd(x):
    return jnp.maximum(x, 0), x


def _guided_bwd(x, g):
    return (g * (x > 0) * (g > 0),)


guided_relu.defvjp(_guided_fwd, _guided_bwd)


@checked_batch()
def guided_backprop(model: nn.Module, variables, x, labels, batch_size=None, **apply_kwargs):
    """Compute guided-backpropagation gradients (Springenberg et al. 2015).

    They are computed on a clone of `model` whose `act` is `guided_relu`.

    Args:
        model: a Flax module with an `act` field.
        variables: the model's variables.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        batch_size: examples per `lax.map` chunk; `None` vmaps the whole batch at once.
        **apply_kwargs: passed to `model.apply`.

    Returns:
        `(B, H, W, C)` gradients.

    Raises:
        ValueError: on a bad rank of `x`, bad `labels` or non-finite `x`.
    """
    return _guided_gradient(model.clone(act=guided_relu), variables, x, labels, batch_size,
                            tuple(sorted(apply_kwargs.items())))


@partial(jax.jit, static_argnames=("model", "batch_size", "apply_kwargs"))
def _guided_gradient(model, variables, x, labels, batch_size, apply_kwargs):
    return input_gradient(lambda v, x: model.apply(v, x, **dict(apply_kwargs)), variables, x, labels, batch_size)


def _at_layer(path: str, transform: Callable):
    """Make an interceptor applying `transform(output)` to the output of the submodule at `path`.

    `path` is the submodule's names joined by "/", e.g. "conv1_1".
    """
    def interceptor(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and "/".join(context.module.path) == path:
            return transform(out)
        return out
    return interceptor


@checked_batch()
@keyed_jit(["apply_fn"], static_argnames=("layer"))
def layer_gradient(apply_fn, params, x, labels, layer: str):
    """Compute the activations of layer `layer` and the class score's gradient there.

    The gradient is taken by adding a zero perturbation to the layer's output and differentiating.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        layer: the submodule path, names joined by "/" (e.g. "conv1_1").

    Returns:
        `(activations, gradients)`, both shaped like that layer's output `(B, ...)`.

    Raises:
        ValueError: if no layer `layer` is called, or on a bad rank of `x`, bad `labels` or
            non-finite `x`.
    """
    seen = {}

    def record(out):
        seen["shape"] = out.shape
        return out

    with nn.intercept_methods(_at_layer(layer, record)):
        jax.eval_shape(lambda x: apply_fn(params, x), x)
    if "shape" not in seen:
        raise ValueError(f"no layer named {layer!r} was called; name a submodule path such as 'conv1_1'")

    def scores(delta):
        acts = {}

        def add(out):
            acts["value"] = out
            return out + delta

        with nn.intercept_methods(_at_layer(layer, add)):
            logits = apply_fn(params, x)
        return jnp.sum(jnp.take_along_axis(logits, labels[:, None], axis=1)), acts["value"]

    grads, activations = jax.grad(scores, has_aux=True)(jnp.zeros(seen["shape"], x.dtype))
    return activations, grads


@checked_batch(IMAGES)
@keyed_jit(["apply_fn"], static_argnames=("layer"))
def grad_cam(apply_fn, params, x, labels, layer: str):
    """Compute Grad-CAM maps (Selvaraju et al. 2017), resized to the image.

    The map is `relu(sum_k w_k A_k)` with `w_k` the spatial mean of the score's gradient at
    channel `k` of layer `layer`.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        layer: the submodule path of a conv output `(B, h, w, K)`, names joined by "/".

    Returns:
        `(B, H, W)` maps.

    Raises:
        ValueError: if no layer `layer` is called, or on a bad rank of `x`, bad `labels` or
            non-finite `x`.
    """
    acts, grads = layer_gradient(apply_fn, params, x, labels, layer)
    cam = jax.nn.relu(jnp.sum(jnp.mean(grads, axis=(1, 2), keepdims=True) * acts, axis=-1))
    return jax.image.resize(cam, (x.shape[0], *x.shape[1:3]), "bilinear")


@checked_batch(labels=None)
@keyed_jit(["apply_fn"], static_argnames=("layer", "index"))
def neuron_gradient(apply_fn, params, x, layer: str, index: tuple):
    """Compute the gradient of one unit of layer `layer` with respect to each image.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        layer: the submodule path, names joined by "/".
        index: the unit's index into the layer's per-example output, e.g. `(row, col, channel)`.

    Returns:
        `(B, H, W, C)` gradients.

    Raises:
        ValueError: if no layer `layer` is called, or on a bad rank of `x` or non-finite `x`.
    """
    def unit(x):
        value = {}

        def grab(out):
            value["unit"] = out[(slice(None), *index)]
            return out

        with nn.intercept_methods(_at_layer(layer, grab)):
            apply_fn(params, x)
        if "unit" not in value:
            raise ValueError(f"no layer named {layer!r} was called")
        return jnp.sum(value["unit"])

    return jax.grad(unit)(x)


@checked_batch(IMAGES)
@keyed_jit(["apply_fn"], static_argnames=("size", "stride", "batch_size"))
def occlusion(apply_fn, params, x, labels, size: int = 3, stride: int = 1, value: float = 0.0,
              batch_size: int | None = None):
    """Compute the mean drop of the class score when an occluding patch covers each pixel.

    Occlusion after Zeiler & Fergus 2014: a `size x size` patch set to `value` slides with
    `stride` (positions mapped with `lax.map`).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` float images.
        labels: `(B,)` integer classes whose score is attributed.
        size: the patch side, in `[1, min(H, W)]`.
        stride: the step between patch positions (>= 1).
        value: the value of the occluded pixels.
        batch_size: positions per `lax.map` chunk; `None` maps them one at a time.

    Returns:
        `(B, H, W)` mean score drops.

    Raises:
        ValueError: on a bad `size` or `stride`, a bad rank of `x`, bad `labels` or non-finite `x`.
    """
    b, h, w, _ = x.shape
    if size > min(h, w) or size < 1 or stride < 1:
        raise ValueError(f"occluder size must be in [1, {min(h, w)}] and stride >= 1; got {size}, {stride}")
    rows, cols = jnp.arange(0, h - size + 1, stride), jnp.arange(0, w - size + 1, stride)
    corners = jnp.stack(jnp.meshgrid(rows, cols, indexing="ij"), -1).reshape(-1, 2)
    score = lambda x: jnp.take_along_axis(apply_fn(params, x), labels[:, None], axis=1)[:, 0]
    clean = score(x)
    ii, jj = jnp.arange(h)[:, None], jnp.arange(w)[None, :]

    def at(corner):
        patch = ((ii >= corner[0]) & (ii < corner[0] + size) & (jj >= corner[1]) & (jj < corner[1] + size))
        occluded = jnp.where(patch[None, :, :, None], value, x)
        return (clean - score(occluded))[:, None, None] * patch[None], patch

    drops, patches = jax.lax.map(at, corners, batch_size=batch_size)
    return jnp.sum(drops, 0) / jnp.maximum(jnp.sum(patches, 0), 1)[None]
