"""Attacks and attribution methods refuse NaN/inf images with a one-line ValueError."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import interpret
from train.state import init_variables
from zoo import CNN

MODEL = CNN(features=(4,), hidden=8)
PARAMS = init_variables(MODEL, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))["params"]


def apply_fn(params, x):
    return MODEL.apply({"params": params}, x)


CALLS = {
    "fgsm": lambda x, y: interpret.fgsm(apply_fn, PARAMS, x, y, 0.1),
    "pgd": lambda x, y: interpret.pgd(apply_fn, PARAMS, x, y, 0.1, 0.05, 2, jax.random.key(1)),
    "saliency": lambda x, y: interpret.saliency(apply_fn, PARAMS, x, y),
    "smoothgrad": lambda x, y: interpret.smoothgrad(apply_fn, PARAMS, x, y, jax.random.key(1), samples=2),
    "integrated_gradients": lambda x, y: interpret.integrated_gradients(apply_fn, PARAMS, x, y, steps=2),
    "guided_backprop": lambda x, y: interpret.guided_backprop(MODEL, {"params": PARAMS}, x, y),
    "grad_cam": lambda x, y: interpret.grad_cam(apply_fn, PARAMS, x, y, "conv0_0"),
    "occlusion": lambda x, y: interpret.occlusion(apply_fn, PARAMS, x, y, size=4, stride=4),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_non_finite_images_are_refused_with_one_line(name):
    x = np.random.default_rng(0).uniform(size=(2, 8, 8, 1)).astype(np.float32)
    y = jnp.array([1, 2])
    CALLS[name](jnp.asarray(x), y)  # finite images go through
    x[1, 3, 4, 0] = np.inf if name == "fgsm" else np.nan  # the check is isfinite: inf once, NaN elsewhere
    with pytest.raises(ValueError, match=r"^x has 1 NaN/inf values out of 128; .*finite images") as e:
        CALLS[name](jnp.asarray(x), y)
    assert "\n" not in str(e.value)


def test_traced_images_are_not_checked_inside_a_callers_jit():
    x = jnp.full((1, 8, 8, 1), 0.5)
    sal = jax.jit(lambda x: interpret.saliency(apply_fn, PARAMS, x, jnp.array([3])))(x)
    assert sal.shape == (1, 8, 8)
