"""Radial basis function network (Broomhead & Lowe 1988).

It is the model Goodfellow et al. (2015) found "somewhat resistant" to adversarial examples: a
unit responds only near its centre, so far from the data every class score falls back to the
bias and the model is unsure.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class RBFNetwork(nn.Module):
    """RBF network: Gaussian units `phi_k(x) = exp(-gamma_k ||x - c_k||^2)`, then a linear layer.

    The `num_centers` units have learned centres `c_k` (initialized uniformly in the pixel range
    [0, 1]) and widths `gamma_k = exp(log_gamma_k)`.

    Attributes:
      num_classes: the number of logits.
      num_centers: the number of Gaussian units.
      gamma_init: the initial width per input dimension: the initial width is `gamma_init / D`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    num_centers: int = 100
    gamma_init: float = 1.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Returns `(batch, num_classes)` logits for `x: (batch, ...)`, flattened to `(batch, D)`; `train` is unused."""
        x = x.reshape((x.shape[0], -1)).astype(self.dtype)
        d = x.shape[-1]
        centers = self.param("centers", nn.initializers.uniform(1.0), (self.num_centers, d), self.param_dtype)
        log_gamma = self.param("log_gamma", nn.initializers.constant(jnp.log(self.gamma_init / d)),
                               (self.num_centers,), self.param_dtype)
        centers = centers.astype(self.dtype)
        sq_dist = jnp.sum(x ** 2, -1, keepdims=True) - 2 * x @ centers.T + jnp.sum(centers ** 2, -1)[None]  # (B, K)
        phi = jnp.exp(-jnp.exp(log_gamma).astype(self.dtype)[None] * jnp.maximum(sq_dist, 0.0))
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(phi)
