"""Adebayo et al.'s sanity checks: rank correlation is exact on known rankings, saliency
decorrelates as layers are re-drawn, and a map that only shows the input does not."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from interpret.attribution import saliency
from interpret.sanity import data_randomization_test, model_randomization_test, spearman
from train.state import init_variables

X = jnp.asarray(np.random.default_rng(0).random((6, 8, 8, 1), np.float32))
LABELS = jnp.arange(6) % 10


def test_spearman_of_known_rankings():
    a = jnp.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    b = jnp.array([[10.0, 20.0, 30.0, 40.0], [4.0, 3.0, 2.0, 1.0]])
    np.testing.assert_allclose(spearman(a, b), [1.0, -1.0], atol=1e-6)


@pytest.fixture(scope="module")
def cnn():
    model = zoo.CNN(features=(8, 16), hidden=32)
    return lambda v, x: model.apply(v, x), init_variables(model, jax.random.key(1), X)


def test_saliency_depends_on_the_weights_and_the_input_map_does_not(cnn):
    apply_fn, variables = cnn
    layers = ["head", "dense", "conv1_1", "conv1_0", "conv0_1", "conv0_0"]
    sal = model_randomization_test(saliency, apply_fn, variables, X, LABELS, layers, jax.random.key(2))
    assert list(sal) == layers and sal["conv0_0"] < 0.5  # fully re-drawn: little left of the original ranking
    image_only = lambda apply_fn, v, x, y: x[..., 0]
    same = model_randomization_test(image_only, apply_fn, variables, X, LABELS, layers, jax.random.key(2))
    assert all(v == pytest.approx(1.0) for v in same.values())
    other = jax.tree.map(lambda w: -w, variables)
    assert data_randomization_test(image_only, apply_fn, variables, other, X, LABELS) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no parameters named"):
        model_randomization_test(saliency, apply_fn, variables, X, LABELS, ["fc9"], jax.random.key(0))
