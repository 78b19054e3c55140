"""Input checks shared by the attacks and attribution methods."""

import functools

import jax
import numpy as np


def check_finite_images(x, name: str = "x") -> None:
    """A one-line `ValueError` if concrete images `x` hold NaN or inf. Traced values (inside a
    caller's `jit`) pass unchecked: their values do not exist yet."""
    if isinstance(x, jax.core.Tracer):
        return
    bad = ~np.isfinite(np.asarray(x))
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} NaN/inf values out of {bad.size}; attacks and attribution "
                         f"need finite images (check the preprocessing)")


def finite_images(fn):
    """Decorate `fn(model_or_apply_fn, params, x, ...)` to `check_finite_images(x)` first."""

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        check_finite_images(kwargs["x"] if "x" in kwargs else args[2])
        return fn(*args, **kwargs)

    return checked
