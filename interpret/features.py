"""Feature extractors for activation maximization, inversion, DeepDream, texture and style.

A feature function maps images `(B, H, W, C)` to `{name: (B, h, w, c)}`. Three sources:

- `layer_features(apply_fn, params, layers)`: the outputs of named submodules of any Flax
  model (a trained zoo classifier, or `zoo.VGG16` with converted torchvision weights), reached
  through method interception; the model's own output is discarded.
- `random_multiscale(rng, sizes, channels)`: one layer of random convolution filters of
  several sizes followed by ReLU (Ustyuzhaninov et al. 2017, "What does it take to generate
  natural textures?"), the offline default for texture synthesis and style transfer: random
  filters of many sizes capture local statistics well enough for textures, with no weights
  to download. Each size is one "layer" `k{size}`.
- `gram`: Gram matrices of feature maps, the texture statistics of Gatys et al. (2015).
"""

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from interpret.attribution import _at_layer
from train import draws


def layer_features(apply_fn: Callable, params, layers: Sequence[str]) -> Callable:
    """Make a feature function returning the outputs of the named submodules of a Flax model.

    The model's own output is discarded.

    Args:
        apply_fn: `apply_fn(params, x) -> logits` of a Flax model.
        params: the model's parameters.
        layers: submodule paths, names joined by "/" (e.g. `"conv1_1"`).

    Returns:
        The feature function
        `features(x) -> {layer: output}`, `x: (B, H, W, C)`; it raises `ValueError` on the first
        call if one of the layers is never called.
    """
    layers = tuple(layers)

    def features(x):
        found = {}

        def keep(name):
            def record(out):
                found[name] = out
                return out
            return record

        interceptors = [_at_layer(name, keep(name)) for name in layers]
        with _nested(interceptors):
            apply_fn(params, x)
        missing = [name for name in layers if name not in found]
        if missing:
            raise ValueError(f"no layer named {missing[0]!r} was called; name submodule paths such as 'conv1_1'")
        return found

    return features


class _nested:
    """Enter several `nn.intercept_methods` contexts at once."""

    def __init__(self, interceptors):
        self.contexts = [nn.intercept_methods(i) for i in interceptors]

    def __enter__(self):
        for c in self.contexts:
            c.__enter__()

    def __exit__(self, *exc):
        for c in reversed(self.contexts):
            c.__exit__(*exc)


def random_multiscale(rng, sizes: Sequence[int] = (3, 5, 7, 11), channels: int = 64, in_channels: int = 3) -> Callable:
    """Make a feature function of one layer of random convolutions of several sizes.

    Each map is `relu(conv(x - 0.5, W_size) + b)` with He-normal random filters
    `W_size: (size, size, in_channels, channels)` and small random biases (Ustyuzhaninov et al. 2017).

    Args:
        rng: a PRNG key for the filters and biases.
        sizes: the filter sizes, one "layer" `k{size}` each.
        channels: the output channels of each size.
        in_channels: the channels `C` of the images the features take.

    Returns:
        The feature function
        `features(x) -> {"k{size}": (B, H, W, channels)}` for `x: (B, H, W, in_channels)` in
        `[0, 1]` ('SAME' padding keeps the spatial size); it raises `ValueError` on images of
        another channel count.
    """
    keys = jax.random.split(rng, len(sizes))
    filters = {}
    for key, size in zip(keys, sizes):
        kw, kb = jax.random.split(key)
        fan_in = size * size * in_channels
        filters[f"k{size}"] = (draws.normal(kw, (size, size, in_channels, channels)) * jnp.sqrt(2.0 / fan_in),
                               0.1 * jax.random.normal(kb, (channels,)))

    def features(x):
        if x.shape[-1] != in_channels:
            raise ValueError(f"these random features take {in_channels}-channel images; got shape {x.shape}")
        centred = x - 0.5
        return {name: jax.nn.relu(jax.lax.conv_general_dilated(centred, w, (1, 1), "SAME",
                                                               dimension_numbers=("NHWC", "HWIO", "NHWC"))
                                  + b.reshape(1, 1, 1, -1))
                for name, (w, b) in filters.items()}

    return features


def gram(features):
    """Compute Gram matrices `F^T F / (h w)`, the channel correlations of a feature map.

    Args:
        features: `(B, h, w, c)` feature maps.

    Returns:
        `(B, c, c)` Gram matrices.
    """
    b, h, w, c = features.shape
    flat = features.reshape(b, h * w, c)
    return jnp.einsum("bnc,bnd->bcd", flat, flat) / (h * w)
