"""Parzen-window (Gaussian kernel density) classifier on raw inputs (Parzen 1962).

It is the other model the adversarial-examples lecture lists as somewhat resistant.
Non-parametric: its "parameters" are the training set and the bandwidth.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class ParzenParams(NamedTuple):
    """The training set and bandwidth of a Parzen classifier.

    Attributes:
      points: `(N, D)` float32 training inputs.
      onehot: `(N, C)` their one-hot labels.
      sigma: the scalar bandwidth.
    """

    points: jax.Array
    onehot: jax.Array
    sigma: jax.Array


def parzen_params(train_x, train_y, num_classes: int, sigma: float) -> ParzenParams:
    """Packs a training set `(N, ...)`, int labels `(N,)` and bandwidth `sigma` for `parzen_logits`."""
    points = jnp.asarray(train_x, jnp.float32).reshape(len(train_x), -1)
    return ParzenParams(points, jax.nn.one_hot(train_y, num_classes), jnp.float32(sigma))


def parzen_logits(params: ParzenParams, x):
    """Class log-densities `log (1/N_c) sum_{i in c} exp(-||x - x_i||^2 / (2 sigma^2))`.

    The Gaussian's normalizer is shared by all classes, so it is dropped. Differentiable in `x`,
    so attacks apply unchanged.

    Args:
      params: from `parzen_params`.
      x: `(batch, ...)` inputs, flattened to `(batch, D)`.

    Returns:
      `(batch, C)` float32 log-densities.
    """
    x = x.reshape(x.shape[0], -1).astype(jnp.float32)
    sq = jnp.sum(x ** 2, -1, keepdims=True) - 2 * x @ params.points.T + jnp.sum(params.points ** 2, -1)[None]
    log_kernel = -jnp.maximum(sq, 0.0) / (2 * params.sigma ** 2)                        # (B, N)
    masked = jnp.where(params.onehot.T[None] > 0, log_kernel[:, None, :], -jnp.inf)      # (B, C, N)
    return jax.nn.logsumexp(masked, axis=-1) - jnp.log(params.onehot.sum(0))[None]


def choose_bandwidth(train_x, train_y, num_classes: int, sigmas, holdout: float = 0.2, seed: int = 0) -> float:
    """Returns the `sigma` of highest accuracy on a random `holdout` fraction of the training set.

    Each candidate in `sigmas` is fitted on the rest of the training set.
    """
    n = len(train_x)
    perm = jax.random.permutation(jax.random.key(seed), n)
    cut = int(n * (1 - holdout))
    fit, val = perm[:cut], perm[cut:]
    x, y = jnp.asarray(train_x), jnp.asarray(train_y)
    logits = jax.jit(parzen_logits)    # one program for every sigma
    scores = [float(jnp.mean(jnp.argmax(logits(parzen_params(x[fit], y[fit], num_classes, s), x[val]), -1)
                             == y[val])) for s in sigmas]
    return float(sigmas[int(jnp.argmax(jnp.asarray(scores)))])
