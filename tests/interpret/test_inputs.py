"""Attacks and attribution methods refuse NaN/inf images, inputs without a batch axis and labels of the
wrong shape or dtype with a one-line ValueError naming the argument."""

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


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_missing_batch_axis_fails_at_the_call_naming_x(name):
    with pytest.raises(ValueError, match=r"^x must be .*\(B, .*got shape \(64,\)") as e:
        CALLS[name](jnp.zeros((64,)), jnp.array([1]))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("labels, problem", [(jnp.array([1, 2, 3]), r"got shape \(3,\)"),
                                             (jnp.array([1.0, 2.0]), r"\(float32\)"),
                                             (jnp.array([[1], [2]]), r"got shape \(2, 1\)")])
def test_labels_must_be_one_integer_per_example(labels, problem):
    x = jnp.zeros((2, 8, 8, 1))
    for name in ("saliency", "fgsm", "grad_cam"):
        with pytest.raises(ValueError, match=rf"^labels must be integer class labels \(2,\).*{problem}"):
            CALLS[name](x, labels)


def test_the_checks_are_chex_assertions_too():
    with pytest.raises(AssertionError, match="^x must be"):
        interpret.saliency(apply_fn, PARAMS, jnp.zeros((8, 8)), jnp.array([1]))   # (H, W): no batch axis
