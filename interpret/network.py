"""Looking at a trained network: filters, neighbours, embeddings, receptive fields, top patches.

- `filter_images`: first-layer kernels as small images (Krizhevsky et al. 2012, Fig. 3).
- `nearest_neighbours`: the closest examples of a bank by Euclidean distance, in feature
  space or in pixel space (Krizhevsky et al. 2012, Fig. 4).
- `embed_2d`: 2-d coordinates of features by PCA (in JAX) or t-SNE (van der Maaten &
  Hinton 2008, through scikit-learn).
- `receptive_field`: the input box each unit of a layer sees, computed from the support of
  input gradients (not from a formula), and `max_activating_patches`: the crops of the images
  that excite one channel of a layer most (Girshick et al. 2014; Zeiler & Fergus 2014).
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from train import draws
from train.keyed_jit import keyed_jit
from train.unsupervised import pca_fit, pca_transform


def filter_images(kernel):
    """Turn a conv kernel into one image per output channel, each scaled to [0, 1] on its own.

    Args:
        kernel: a `(kh, kw, in, out)` conv kernel.

    Returns:
        `(out, kh, kw, c)` float images; `c = in` for 1 or 3 input channels, else the mean over
        input channels (`c = 1`).

    Raises:
        ValueError: if `kernel` is not 4-d.
    """
    kernel = jnp.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"expected a 2-d conv kernel (kh, kw, in, out); got shape {kernel.shape}")
    images = jnp.moveaxis(kernel, -1, 0)
    if images.shape[-1] not in (1, 3):
        images = images.mean(-1, keepdims=True)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    return (images - low) / jnp.maximum(high - low, 1e-12)


def nearest_neighbours(queries, bank, k: int = 5):
    """Find the `k` nearest rows of `bank` to each query by Euclidean distance on the flattened arrays.

    Args:
        queries: `(Q, ...)` queries.
        bank: `(N, ...)` examples of the same example shape.
        k: the number of neighbours, in `[1, N]`.

    Returns:
        `(Q, k)` int indices into `bank`, closest first.

    Raises:
        ValueError: on different example shapes or `k` out of range.
    """
    q = jnp.reshape(queries, (queries.shape[0], -1)).astype(jnp.float32)
    b = jnp.reshape(bank, (bank.shape[0], -1)).astype(jnp.float32)
    if q.shape[1] != b.shape[1] or not 1 <= k <= b.shape[0]:
        raise ValueError(f"queries {queries.shape} and bank {bank.shape} must have the same example shape, "
                         f"and 1 <= k <= {b.shape[0]}; got k={k}")
    distances = jnp.sum(q ** 2, 1)[:, None] - 2 * q @ b.T + jnp.sum(b ** 2, 1)[None, :]
    return jax.lax.top_k(-distances, k)[1]


def embed_2d(features, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Embed features in 2-d by PCA (in JAX) or t-SNE (scikit-learn).

    Args:
        features: `(N, ...)` features, flattened per example.
        method: `"pca"` or `"tsne"` (perplexity `min(30, (N - 1) / 3)`, PCA initialization).
        seed: the t-SNE random state.

    Returns:
        `(N, 2)` coordinates.

    Raises:
        ValueError: on an unknown `method`.
    """
    x = np.asarray(features, np.float32).reshape(len(features), -1)
    if method == "pca":
        return np.asarray(pca_transform(pca_fit(jnp.asarray(x)), x, 2))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(x) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    raise ValueError(f"method must be 'pca' or 'tsne'; got {method!r}")


class ReceptiveField(NamedTuple):
    """The input box each unit of a layer sees.

    Unit `(i, j)` of the layer sees input rows `offset[0] + stride[0] i` to that plus
    `size[0] - 1` (columns likewise); offsets may be negative (the box reaches into padding).

    Attributes:
        size: `(rows, columns)` of the box.
        stride: `(rows, columns)` the box moves per unit.
        offset: `(row, column)` of the box of unit `(0, 0)`.
    """

    size: tuple
    stride: tuple
    offset: tuple


def receptive_field(layer_fn: Callable, channels: int, canvas: int = 64, samples: int = 32,
                    seed: int = 0) -> ReceptiveField:
    """Measure the receptive field of the `(B, h, w, K)` map `layer_fn(x)` for inputs `(B, H, W, channels)`.

    On a `canvas x canvas` input (large enough that the field of a central unit is not cut by
    the border; the layer must accept that size, as convolutional layers do), the input
    gradient of the central unit and of its lower-right neighbour is taken at `samples` random
    inputs; the union of their non-zero supports is the field (one input could leave out pixels
    that a max pool or a dead ReLU ignores there). Their offset gives the stride.

    Args:
        layer_fn: maps `(B, H, W, channels)` inputs to a `(B, h, w, K)` feature map.
        channels: the input channels.
        canvas: the side of the square probe input.
        samples: the number of random probe inputs.
        seed: the seed of the probe inputs.

    Returns:
        The `ReceptiveField` of the layer's units.

    Raises:
        ValueError: if the output is not a feature map, the canvas is too small, or the unit's
            input gradient is zero everywhere.
    """
    x = draws.normal(jax.random.key(seed), (samples, canvas, canvas, channels))
    out_shape = jax.eval_shape(layer_fn, x[:1]).shape
    if len(out_shape) != 4:
        raise ValueError(f"the layer's output must be a feature map (B, h, w, K); got shape {out_shape}")
    ci, cj = out_shape[1] // 2, out_shape[2] // 2
    if ci + 1 >= out_shape[1] or cj + 1 >= out_shape[2]:
        raise ValueError(f"the layer's map on a {canvas}x{canvas} canvas is {out_shape[1:3]}; use a larger canvas")

    def support(i, j):
        unit = lambda x: jnp.sum(layer_fn(x)[:, i, j, :])
        seen = np.asarray(jnp.any(jax.grad(unit)(x) != 0, axis=(0, 3)))
        rows, cols = np.nonzero(seen.any(1))[0], np.nonzero(seen.any(0))[0]
        if rows.size == 0:
            raise ValueError("the unit's input gradient is zero everywhere; is the layer connected to the input?")
        return rows[0], rows[-1], cols[0], cols[-1]

    top, bottom, left, right = support(ci, cj)
    top2, _, left2, _ = support(ci + 1, cj + 1)
    if not (top > 0 and left > 0 and bottom < canvas - 1 and right < canvas - 1):
        raise ValueError(f"the receptive field reaches the border of a {canvas}x{canvas} canvas; use a larger canvas")
    stride = (int(top2 - top), int(left2 - left))
    return ReceptiveField(size=(int(bottom - top + 1), int(right - left + 1)), stride=stride,
                          offset=(int(top - stride[0] * ci), int(left - stride[1] * cj)))


class Patches(NamedTuple):
    """The crops of images that excite one channel of a layer most.

    Attributes:
        patches: `(k, size_h, size_w, C)` crops (zero outside the image).
        values: `(k,)` the channel's activation.
        where: `(k, 3)` int rows of (image index, unit row, unit column).
    """

    patches: jax.Array
    values: jax.Array
    where: jax.Array


@keyed_jit("layer_fn", static_argnames=("channel", "field", "k", "batch_size"))
def max_activating_patches(layer_fn: Callable, images, channel: int, field: ReceptiveField, k: int = 16,
                           batch_size: int = 64) -> Patches:
    """Find the `k` receptive-field crops of `images` where channel `channel` of `layer_fn`'s map is largest.

    One `jax.jit` program; `layer_fn` is keyed by what it computes (`train.keyed_jit`).

    Args:
        layer_fn: maps `(B, H, W, C)` images to a `(B, h, w, K)` feature map.
        images: `(N, H, W, C)` images.
        channel: the channel of the map to maximize.
        field: the layer's `ReceptiveField` (see `receptive_field`).
        k: the number of crops.
        batch_size: images per `lax.map` chunk of the activations.

    Returns:
        `Patches` of the `k` largest activations, largest first.
    """
    acts = jax.lax.map(lambda x: layer_fn(x[None])[0, ..., channel], images, batch_size=batch_size)
    n, h, w = acts.shape
    values, flat = jax.lax.top_k(acts.reshape(-1), k)
    where = jnp.stack([flat // (h * w), (flat // w) % h, flat % w], axis=1)
    (sh, sw), pad = field.size, max(field.size) + max(abs(o) for o in field.offset)
    padded = jnp.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))

    def crop(loc):
        top = field.offset[0] + field.stride[0] * loc[1] + pad
        left = field.offset[1] + field.stride[1] * loc[2] + pad
        return jax.lax.dynamic_slice(padded[loc[0]], (top, left, 0), (sh, sw, images.shape[-1]))

    return Patches(jax.vmap(crop)(where), values, where)
