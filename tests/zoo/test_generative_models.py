"""Generative models: shapes, and the receptive fields of the autoregressive models measured by
differentiating one output pixel with respect to the input image."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from zoo.pixelcnn import causal_mask
from train.state import init_variables

H = W = 8


def dependencies(model, i, j, kernel=None):
    """0/1 map of the input pixels that the logits of pixel (i, j) depend on."""
    x = jnp.asarray(np.random.default_rng(0).uniform(size=(1, H, W, 1)), jnp.float32)
    variables = init_variables(model, jax.random.key(1), x)
    out = lambda x: model.apply(variables, x)[0, i, j].sum()
    return np.asarray(jax.grad(out)(x)[0, :, :, 0] != 0)


def before(i, j):
    return np.arange(H * W).reshape(H, W) < i * W + j


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_a_masked_convolution_sees_exactly_the_earlier_pixels_of_its_window(mask_type):
    conv = zoo.MaskedConv(4, (5, 5), mask_type)
    for i, j in [(0, 0), (3, 4), (7, 7), (4, 0)]:
        window = np.zeros((H, W), bool)
        window[max(i - 2, 0):i + 3, max(j - 2, 0):j + 3] = True
        expected = window & (before(i, j) | ((np.arange(H)[:, None] == i) & (np.arange(W)[None, :] == j)
                                             & (mask_type == "B")))
        np.testing.assert_array_equal(dependencies(conv, i, j), expected)
    np.testing.assert_array_equal(causal_mask((3, 3), "A")[..., 0, 0], [[1, 1, 1], [1, 0, 0], [0, 0, 0]])


def test_the_plain_pixelcnn_is_causal_but_has_a_blind_spot():
    model = zoo.PixelCNN(features=8, layers=3)
    deps = dependencies(model, 4, 3)
    assert not (deps & ~before(4, 3)).any()
    assert (before(4, 3) & ~deps).any()  # earlier pixels up and to the right that it never sees


@pytest.mark.parametrize("model", [zoo.GatedPixelCNN(features=8, layers=6)], ids=["gated"])
def test_the_gated_stacks_see_exactly_every_earlier_pixel(model):
    for i, j in [(0, 0), (0, 5), (3, 3), (5, 0), (7, 7)]:
        np.testing.assert_array_equal(dependencies(model, i, j), before(i, j))


def test_the_row_lstm_is_causal():
    model = zoo.PixelRNN(features=8, hidden=8)
    for i, j in [(0, 3), (4, 4), (7, 7)]:
        deps = dependencies(model, i, j)
        assert not (deps & ~before(i, j)).any() and (i == 0 or deps[i - 1].any())


def test_shapes_of_the_autoencoders_and_the_gan():
    x = jnp.zeros((3, H, W, 1))
    ae = zoo.Autoencoder((H, W, 1), code=5)
    (logits, code), _ = jax.jit(ae.init_with_output)(jax.random.key(0), x)
    assert logits.shape == x.shape and code.shape == (3, 5)
    vae = zoo.VAE((H, W, 1), latent=2)
    (logits, mu, logvar), _ = jax.jit(vae.init_with_output)(jax.random.key(0), x, jax.random.key(1))
    assert logits.shape == x.shape and mu.shape == logvar.shape == (3, 2)
    g = zoo.Generator((H, W, 1), features=8, num_classes=10)
    images, _ = jax.jit(lambda k, z, y: g.init_with_output(k, z, y, train=False))(jax.random.key(0), jnp.zeros((3, 4)),
                                                                                jnp.arange(3))
    assert images.shape == x.shape and float(images.min()) >= 0 and float(images.max()) <= 1
    d = zoo.Discriminator(features=8, num_classes=10)
    assert jax.eval_shape(d.init_with_output, jax.random.key(0), x, jnp.arange(3))[0].shape == (3,)
    with pytest.raises(ValueError, match="divisible by 4"):
        init_variables(zoo.Autoencoder((6, 6, 1)), jax.random.key(0), jnp.zeros((1, 6, 6, 1)))


def test_the_conditional_discriminator_judges_image_and_label_together():
    """How much a label changes the logit must depend on the image; with the label only joined
    to the features before a linear output it would be one constant per label pair."""
    d = zoo.Discriminator(features=8, num_classes=10)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(size=(2, 8, 8, 1)), jnp.float32)
    params = init_variables(d, jax.random.key(1), x, jnp.zeros(2, jnp.int32))
    params = jax.tree.map(lambda p: p + 0.1 * rng.standard_normal(p.shape).astype(np.float32), params)
    logits = jax.jit(d.apply)
    gap = logits(params, x, jnp.full(2, 3)) - logits(params, x, jnp.full(2, 7))   # (2,): per image
    assert abs(float(gap[0] - gap[1])) > 1e-3
