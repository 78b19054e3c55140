"""Random draws made outside `jit` (random filters, inputs, re-initialized weights).

`jax.random` counts the elements of a draw in row-major order, so a draw of `prod(shape)`
numbers reshaped to `shape` holds the same numbers as the draw of `shape` itself. Called
eagerly, a draw is compiled for its shape, and XLA:CPU compiles a 4-D one much more slowly than
a vector. Inside `jit` the shape costs nothing either way.
"""

import math

import jax
import jax.numpy as jnp


def normal(key, shape, dtype=jnp.float32) -> jax.Array:
    """Return `jax.random.normal(key, shape, dtype)`, bit for bit, drawn as a vector and reshaped to `shape`."""
    return jax.random.normal(key, (math.prod(shape),), dtype).reshape(shape)
