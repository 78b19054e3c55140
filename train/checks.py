"""Input checks at the public boundary, built on `chex`: a wrong rank, shape or dtype fails at the
call with the argument's name and what was expected, not deep inside an einsum.

The checks read only shapes and dtypes, so they also hold on tracers inside a caller's `jit`. They
raise `ShapeError`, which is both the `ValueError` the library promises for bad input and the
`AssertionError` a chex assertion raises; `chex.disable_asserts()` turns them off as it does chex's.
"""

from typing import Sequence

import chex
import jax.numpy as jnp


class ShapeError(ValueError, AssertionError):
    """An argument of the wrong rank, shape or dtype."""


def _fail(name: str, expected: str, x) -> None:
    raise ShapeError(f"{name} must be {expected}; got shape {tuple(jnp.shape(x))} ({jnp.result_type(x)})") from None


def check_rank(name: str, x, rank: int | set, expected: str) -> None:
    """Raise `ShapeError` unless `x` has `rank` dims (an int, or a set of allowed ranks).

    Args:
      name: the argument's name, for the message.
      x: an array (or tracer).
      rank: the allowed rank(s).
      expected: what the argument should be, e.g. "images (B, H, W, C)".
    """
    try:
        chex.assert_rank(x, rank)
    except AssertionError:
        _fail(name, expected, x)


def check_shape(name: str, x, shape: Sequence[int | None], expected: str) -> None:
    """Raise `ShapeError` unless `x` has `shape` (`None` matches any size on that axis)."""
    try:
        chex.assert_shape(x, tuple(shape))
    except AssertionError:
        _fail(name, expected, x)


def check_integer(name: str, x, expected: str) -> None:
    """Raise `ShapeError` unless `x` has an integer dtype (class labels, targets, actions)."""
    try:
        chex.assert_type(x, int)
    except AssertionError:
        _fail(name, expected, x)


def check_labels(name: str, labels, batch: int) -> None:
    """`labels` must be `(batch,)` integers: one class per example."""
    check_shape(name, labels, (batch,), f"integer class labels ({batch},), one per example")
    check_integer(name, labels, f"integer class labels ({batch},), one per example")
