"""Feature inversion, texture synthesis, style transfer and DeepDream on bundled images."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.features import gram, layer_features, random_multiscale
from interpret.style import (content_loss, deepdream, invert_features, style_loss, style_transfer, synthesize_texture,
                             total_variation)
from train import data
from zoo import CNN
from train.state import init_variables

SIZE = 64
LAYERS = ("k3", "k5", "k7", "k11")


@pytest.fixture(scope="module")
def images():
    loaded = data.load("sample_images", "train")
    return {name: jax.image.resize(jnp.asarray(im)[None], (1, SIZE, SIZE, 3), "bilinear")
            for name, im in zip(loaded["name"], loaded["image"])}


@pytest.fixture(scope="module")
def features():
    return random_multiscale(jax.random.key(0))


def test_gram_and_total_variation_by_hand():
    f = jnp.arange(8.0).reshape(1, 2, 2, 2)  # four positions, channels (0,1), (2,3), (4,5), (6,7)
    expected = np.array([[0 + 4 + 16 + 36, 0 + 6 + 20 + 42], [0 + 6 + 20 + 42, 1 + 9 + 25 + 49]]) / 4
    np.testing.assert_allclose(gram(f)[0], expected)
    x = jnp.array([[0.0, 1.0], [0.0, 1.0]]).reshape(1, 2, 2, 1)  # a vertical edge
    assert float(total_variation(x)) == pytest.approx(0.0 + 1.0)


def test_texture_synthesis_cuts_the_gram_loss_100x_on_brick(images, features):
    result = synthesize_texture(features, images["brick"], (SIZE, SIZE, 3), jax.random.key(1), steps=200)
    losses = np.asarray(result.losses)
    assert losses[0] / losses[-1] >= 100, losses[[0, -1]]
    assert result.image.shape == (1, SIZE, SIZE, 3) and float(result.image.min()) >= 0 and float(result.image.max()) <= 1


def test_style_transfer_is_closer_in_style_than_the_photo_and_in_content_than_the_painting(images, features):
    content, style = images["chelsea"], images["gravel"]
    result = style_transfer(features, content, style, ["k3"], LAYERS, steps=150)
    f_result, f_content, f_style = features(result.image), features(content), features(style)
    grams = {k: gram(v) for k, v in f_style.items()}
    assert float(style_loss(f_result, grams, LAYERS)) * 10 <= float(style_loss(f_content, grams, LAYERS))
    assert float(content_loss(f_result, f_content, ["k3"])) < float(content_loss(f_style, f_content, ["k3"]))


def test_feature_inversion_reconstructs_better_than_noise(images, features):
    target = images["astronaut"]
    result = invert_features(features, target, "k3", jax.random.key(2), steps=150)
    losses = np.asarray(result.losses)
    assert losses[-1] < 0.2 * losses[0]
    start = 0.5 + 0.1 * jax.random.normal(jax.random.key(3), target.shape)
    assert float(jnp.mean((result.image - target) ** 2)) < 0.5 * float(jnp.mean((start - target) ** 2))


def test_layer_features_reach_named_layers_and_deepdream_excites_them():
    model = CNN(num_classes=3, features=(8, 16), hidden=16)
    x = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
    params = init_variables(model, jax.random.key(1), x)
    feats = layer_features(model.apply, params, ["conv0_1", "conv1_0"])
    out = feats(x)
    assert out["conv0_1"].shape == (2, 16, 16, 8) and out["conv1_0"].shape == (2, 8, 8, 16)
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        layer_features(model.apply, params, ["conv9"])(x)
    result = deepdream(feats, x, "conv1_0", jax.random.key(2), steps=10, octaves=2)
    before, after = np.asarray(result.losses)
    assert result.image.shape == x.shape and after > 1.5 * before
