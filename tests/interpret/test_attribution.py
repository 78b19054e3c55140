"""Attribution against known answers: a linear model's saliency is its weights, guided ReLU's
backward is its definition, occlusion finds the only region a model reads, Integrated
Gradients is complete, and the layer-level methods reach named layers of an unedited CNN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from interpret.attribution import (grad_cam, guided_backprop, guided_relu, integrated_gradients, layer_gradient,
                                   neuron_gradient, occlusion, saliency, smoothgrad)
from train.state import init_variables

X = jnp.asarray(np.random.default_rng(0).random((4, 8, 8, 2), np.float32))
LABELS = jnp.array([0, 1, 2, 1])


def test_saliency_of_a_linear_model_is_the_largest_weight_magnitude_over_channels():
    w = jax.random.normal(jax.random.key(1), (8 * 8 * 2, 3))
    apply_fn = lambda w, x: x.reshape(x.shape[0], -1) @ w
    maps = saliency(apply_fn, w, X, LABELS)
    expected = np.abs(np.asarray(w)).reshape(8, 8, 2, 3).max(axis=2)
    np.testing.assert_allclose(maps, np.moveaxis(expected[..., np.asarray(LABELS)], -1, 0), rtol=1e-6)
    np.testing.assert_allclose(saliency(apply_fn, w, X, LABELS, batch_size=2), maps, rtol=1e-6)  # lax.map chunks


def test_guided_relu_backward_matches_its_definition():
    x = jnp.array([-1.0, 2.0, 3.0, -4.0, 0.5])
    g = jnp.array([1.0, -2.0, 3.0, 4.0, 0.0])
    _, vjp = jax.vjp(guided_relu, x)
    np.testing.assert_array_equal(vjp(g)[0], [0.0, 0.0, 3.0, 0.0, 0.0])  # input > 0 and gradient > 0
    np.testing.assert_array_equal(guided_relu(x), jnp.maximum(x, 0))


def test_occlusion_lights_up_only_the_region_the_model_reads():
    region = np.zeros((8, 8, 2), np.float32)
    region[2:4, 5:7] = 1.0
    apply_fn = lambda p, x: jnp.stack([jnp.sum(x * p[None], axis=(1, 2, 3)), jnp.zeros(x.shape[0])], -1)
    maps = np.asarray(occlusion(apply_fn, jnp.asarray(region), X + 0.1, jnp.zeros(4, jnp.int32), size=1))
    assert (maps[:, 2:4, 5:7] > 0.05).all()
    outside = np.ones((8, 8), bool)
    outside[2:4, 5:7] = False
    assert np.abs(maps[:, outside]).max() < 1e-5  # float32 summation order only
    with pytest.raises(ValueError, match="occluder size"):
        occlusion(apply_fn, region, X, jnp.zeros(4, jnp.int32), size=9)


@pytest.fixture(scope="module")
def cnn():
    model = zoo.CNN(features=(8, 16), hidden=32, act=jax.nn.gelu)
    variables = init_variables(model, jax.random.key(2), X)
    return model, variables, lambda v, x: model.apply(v, x)


def test_integrated_gradients_are_complete(cnn):
    _, variables, apply_fn = cnn
    attributions = integrated_gradients(apply_fn, variables, X, LABELS, steps=256)
    scores = lambda x: jnp.take_along_axis(apply_fn(variables, x), LABELS[:, None], 1)[:, 0]
    gap = scores(X) - scores(jnp.zeros_like(X))
    np.testing.assert_allclose(attributions.sum(axis=(1, 2, 3)), gap, atol=1e-3 * max(1.0, float(jnp.abs(gap).max())))


def test_smoothgrad_averages_noisy_gradients_and_zero_noise_is_the_gradient(cnn):
    _, variables, apply_fn = cnn
    plain = jax.vmap(jax.grad(lambda x, y: apply_fn(variables, x[None])[0, y]))(X, LABELS)
    np.testing.assert_allclose(smoothgrad(apply_fn, variables, X, LABELS, jax.random.key(3), samples=4, sigma=0.0),
                               plain, rtol=1e-5, atol=1e-7)
    noisy = smoothgrad(apply_fn, variables, X, LABELS, jax.random.key(3), samples=8, sigma=0.2)
    assert noisy.shape == X.shape and not np.allclose(noisy, plain)


def test_guided_backprop_swaps_the_activation_without_editing_the_model():
    model = zoo.CNN(features=(8, 16), hidden=32)  # ReLU
    variables = init_variables(model, jax.random.key(4), X)
    guided = guided_backprop(model, variables, X, LABELS)
    plain = jax.vmap(jax.grad(lambda x, y: model.apply(variables, x[None])[0, y]))(X, LABELS)
    assert guided.shape == X.shape and not np.allclose(guided, plain)
    assert model.act is jax.nn.relu or model.act.__name__ == "relu"  # the original is untouched


def test_layer_level_methods_reach_named_layers(cnn):
    model, variables, apply_fn = cnn
    acts, grads = layer_gradient(apply_fn, variables, X, LABELS, "conv1_1")
    assert acts.shape == grads.shape == (4, 4, 4, 16)
    head_in, head_grads = layer_gradient(apply_fn, variables, X, LABELS, "dense")
    assert head_in.shape == (4, 32) and float(jnp.abs(head_grads).sum()) > 0
    cams = grad_cam(apply_fn, variables, X, LABELS, "conv1_1")
    assert cams.shape == (4, 8, 8) and float(cams.min()) >= 0
    g = neuron_gradient(apply_fn, variables, X, "conv0_0", (3, 3, 0))
    assert g.shape == X.shape and (np.asarray(g)[:, 6:, :] == 0).all()  # a 3x3 conv unit at (3, 3) reads rows 2-4
    with pytest.raises(ValueError, match="no layer named"):
        layer_gradient(apply_fn, variables, X, LABELS, "conv9")
