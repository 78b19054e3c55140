"""Naming the argument when a `chex` assertion at the public boundary fails.

Library modules check their inputs with chex assertions (ranks, shapes, dtypes) inside
`argument(name, expected, x)`, which turns a failure into a one-line `ShapeError` naming the argument
and what was expected, not an error deep inside an einsum. The assertions read only shapes and
dtypes, so they also hold on tracers inside a caller's `jit`; `chex.disable_asserts()` turns them off.
"""

import contextlib

import jax.numpy as jnp


class ShapeError(ValueError, AssertionError):
    """An argument of the wrong rank, shape or dtype.

    It is the `ValueError` the library promises for bad input, and the `AssertionError` a chex
    assertion raises.
    """


@contextlib.contextmanager
def argument(name: str, expected: str, x):
    """Run the chex assertions of the block on argument `x`, raising `ShapeError` on failure.

    The message reads "`name` must be `expected`; got shape (...) (dtype)".

    Args:
      name: the argument's name, e.g. "x".
      expected: what it should be, e.g. "images (B, H, W, C)".
      x: the argument (an array or tracer), for its shape and dtype in the message.
    """
    try:
        yield
    except AssertionError:
        raise ShapeError(f"{name} must be {expected}; got shape {tuple(jnp.shape(x))} ({jnp.result_type(x)})") from None
