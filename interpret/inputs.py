"""Input checks shared by the attacks and attribution methods.

Checks ranks, label shapes and dtypes (chex assertions, failing with the argument's name through
`train.checks.argument`) and finite pixel values.
"""

import functools
import inspect

import chex
import jax
import numpy as np

from train.checks import argument

IMAGES = ({4}, "images (B, H, W, C)")
MAPS = ({3, 4}, "a batch of images (B, H, W, C) or sequences (B, L, C)")
BATCH = ({2, 3, 4, 5}, "a batch (B, ...) of inputs")


def check_finite_images(x, name: str = "x") -> None:
    """Raise a one-line `ValueError` if concrete images `x` hold NaN or inf.

    Traced values (inside a caller's `jit`) pass unchecked: their values do not exist yet.

    Args:
        x: an array of images, or a tracer (not checked).
        name: the argument name the error message names.

    Raises:
        ValueError: if `x` is concrete and holds NaN or inf values.
    """
    if isinstance(x, jax.core.Tracer):
        return
    bad = ~np.isfinite(np.asarray(x))
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} NaN/inf values out of {bad.size}; attacks and attribution "
                         f"need finite images (check the preprocessing)")


def check_labels(name: str, labels, batch: int) -> None:
    """Check that `labels` are `(batch,)` integers: one class (or target) per example.

    Args:
        name: the argument name the error message names.
        labels: the labels to check.
        batch: the batch size `B` of the inputs they label.

    Raises:
        ValueError: if `labels` is not a `(batch,)` integer array.
    """
    with argument(name, f"integer class labels ({batch},), one per example", labels):
        chex.assert_shape(labels, (batch,))
        chex.assert_type(labels, int)


def checked_batch(kind: tuple = MAPS, labels: str | None = "labels"):
    """Decorate `fn(..., x, ..., labels, ...)` to check its batch and labels before it runs.

    Checks that `x` has a rank of `kind` and finite values, and that `fn`'s argument named
    `labels` holds one integer per example. Shapes are checked on tracers too; values only on
    concrete arrays.

    Args:
        kind: `(ranks, description)`: `IMAGES`, `MAPS` or `BATCH`.
        labels: the name of `fn`'s labels argument; `None` when there is no such argument.

    Returns:
        A decorator that wraps `fn` in the checks; the wrapper raises `ValueError` naming the
        argument on a bad rank, bad labels or non-finite values.
    """
    ranks, expected = kind

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs).arguments
            x = bound["x"]
            with argument("x", expected, x):
                chex.assert_rank(x, ranks)
            if labels is not None:
                check_labels(labels, bound[labels], x.shape[0])
            check_finite_images(x)
            return fn(*args, **kwargs)

        return checked

    return decorate
