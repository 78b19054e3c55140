"""Autoregressive sampling, jit-compiled: tokens with `lax.scan`, pixels with `lax.fori_loop`.

There is no Python loop per token or pixel.
"""

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp


def sample_logits(rng, logits, temperature: float = 1.0, top_k: int = 0):
    """Sample one token id per row of `logits: (batch, vocab)`.

    Greedy when `temperature == 0`, otherwise from softmax(logits / temperature) restricted to
    the `top_k` largest (0 = all).

    Returns:
        An int array of shape `(batch,)`.
    """
    if temperature == 0:
        return jnp.argmax(logits, axis=-1)
    logits = logits.astype(jnp.float32) / temperature
    if top_k:
        kth = jax.lax.top_k(logits, top_k)[0][..., -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    return jax.random.categorical(rng, logits, axis=-1)


@partial(jax.jit, static_argnums=(0, 5, 6, 7))
def sample_sequence(step_fn: Callable, params, carry, token, rng, length: int, temperature: float = 1.0,
                    top_k: int = 0):
    """`length` tokens `(batch, length)` continuing from `carry`, feeding `token: (batch,)` first.

    `step_fn(params, carry, token) -> (carry, logits: (batch, vocab))` advances the model one
    step; it must be hashable (a module-level function, or a `functools.partial` of one over
    a Flax module), since it is a static argument.
    """
    def body(state, key):
        carry, token = state
        carry, logits = step_fn(params, carry, token)
        token = sample_logits(key, logits, temperature, top_k)
        return (carry, token), token

    _, tokens = jax.lax.scan(body, (carry, token), jax.random.split(rng, length))
    return tokens.T


def sample_pixels(apply_fn, rng, n: int, shape, levels: int):
    """Draw `n` images `(n, H, W, C)` pixel by pixel in raster order.

    A `lax.fori_loop` runs over the `H * W` pixels, each iteration running the whole network and
    sampling the current pixel's
    channels from its softmax (all channels at once). Values are `level / (levels - 1)`.
    """
    h, w, c = shape

    def body(p, images):
        i, j = p // w, p % w
        logits = apply_fn(images)[:, i, j]                     # (n, C, levels)
        level = jax.random.categorical(jax.random.fold_in(rng, p), logits)
        return images.at[:, i, j].set(level.astype(images.dtype) / (levels - 1))

    return jax.lax.fori_loop(0, h * w, body, jnp.zeros((n, h, w, c), jnp.float32))
