"""Random draws made outside `jit` (random filters, inputs, re-initialized weights).

`jax.random` counts the elements of a draw in row-major order, so a draw of `prod(shape)`
numbers reshaped to `shape` holds the same numbers as the draw of `shape` itself. Called
eagerly, a draw is compiled for its shape, and XLA:CPU compiles a 4-D one slowly: 0.5-2.8 s
for `jax.random.normal` of (5, 5, 1, 6), (3, 3, 32, 64) or (8, 32, 32, 16) on the 2-core CPUs
here (jax 0.10.2), against 0.12-0.2 s for a vector. Inside `jit` the shape costs nothing
either way.
"""

import math

import jax
import jax.numpy as jnp


def normal(key, shape, dtype=jnp.float32) -> jax.Array:
    """`jax.random.normal(key, shape, dtype)`, bit for bit, drawn as a vector: `shape`."""
    return jax.random.normal(key, (math.prod(shape),), dtype).reshape(shape)
