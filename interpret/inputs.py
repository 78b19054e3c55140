"""Input checks shared by the attacks and attribution methods: ranks, label shapes and dtypes (chex
assertions, failing with the argument's name through `train.checks.argument`) and finite pixel values.
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
    """A one-line `ValueError` if concrete images `x` hold NaN or inf. Traced values (inside a
    caller's `jit`) pass unchecked: their values do not exist yet.
    """
    if isinstance(x, jax.core.Tracer):
        return
    bad = ~np.isfinite(np.asarray(x))
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} NaN/inf values out of {bad.size}; attacks and attribution "
                         f"need finite images (check the preprocessing)")


def check_labels(name: str, labels, batch: int) -> None:
    """`labels` must be `(batch,)` integers: one class (or target) per example."""
    with argument(name, f"integer class labels ({batch},), one per example", labels):
        chex.assert_shape(labels, (batch,))
        chex.assert_type(labels, int)


def checked_batch(kind: tuple = MAPS, labels: str | None = "labels"):
    """Decorate `fn(..., x, ..., labels, ...)` to check, before it runs, that `x` has a rank of
    `kind` (`IMAGES`, `MAPS` or `BATCH`) and finite values, and that `fn`'s argument named
    `labels` (None: no such argument) holds one integer per example. Shapes are checked on
    tracers too; values only on concrete arrays.
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
