"""Fooling images and class visualization on the digits CNN: every test image is turned into
every other class, the target score rises at every reported step, and a visualization from a
zero image is classified as its class."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.synthesis import class_visualization, fooling_images, latent_visualization, multifaceted_visualization


@pytest.fixture(scope="module")
def digits_cnn(shipped):
    from train import data

    task, state = shipped("cnn_digits")
    test = data.load("digits", "test")
    return task.logits, state.variables(), test["image"][:50], test["label"][:50]


@pytest.mark.slow
def test_fifty_test_images_are_fooled_into_every_other_class(digits_cnn):
    apply_fn, variables, images, labels = digits_cnn
    targets = (labels[:, None] + np.arange(1, 10)[None, :]) % 10          # all 9 other classes
    x = jnp.asarray(np.repeat(images, 9, axis=0))
    result = jax.jit(lambda x, t: fooling_images(apply_fn, variables, x, t, step_size=0.1, max_steps=200))(
        x, jnp.asarray(targets.ravel()))
    assert bool(result.fooled.all()), f"{int((~result.fooled).sum())} of {len(targets.ravel())} not fooled"
    predicted = np.asarray(apply_fn(variables, result.images)).argmax(-1)
    np.testing.assert_array_equal(predicted, targets.ravel())
    scores = np.asarray(result.scores)
    rises = np.diff(scores, axis=0)
    assert (rises[np.isfinite(rises)] > 0).all()                          # every reported step raises the score
    assert float(result.l2.mean()) > 0 and int(result.steps.max()) <= 200


@pytest.mark.slow
def test_class_visualization_from_zeros_is_classified_as_its_class(digits_cnn):
    apply_fn, variables, images, _ = digits_cnn
    targets = jnp.arange(10)
    start = jnp.zeros((10, 8, 8, 1))
    made = class_visualization(apply_fn, variables, targets, (8, 8, 1), jax.random.key(0))
    assert made.shape == (10, 8, 8, 1) and float(made.min()) >= 0 and float(made.max()) <= 1
    before = np.asarray(apply_fn(variables, start))[np.arange(10), np.arange(10)]
    after = np.asarray(apply_fn(variables, made))
    assert (after[np.arange(10), np.arange(10)] > before + 1).all()
    np.testing.assert_array_equal(after.argmax(-1), np.arange(10))


def test_the_pixel_regularizers_zero_small_values_and_contributions():
    apply_fn = lambda w, x: x.reshape(x.shape[0], -1) @ w
    w = jax.random.normal(jax.random.key(1), (16, 3))
    made = class_visualization(apply_fn, w, jnp.array([0, 2]), (4, 4, 1), jax.random.key(0), steps=5, blur_every=0,
                               value_percentile=50.0, contribution_percentile=25.0)
    assert (np.asarray(made) == 0).reshape(2, -1).mean(1).min() >= 0.5


def test_centre_bias_moves_the_centre_before_the_corners():
    apply_fn = lambda w, x: x.reshape(x.shape[0], -1) @ w
    w = jnp.ones((64, 1))                                               # every pixel raises the score equally
    made = class_visualization(apply_fn, w, jnp.array([0]), (8, 8, 1), jax.random.key(0), steps=1, jitter=0,
                               blur_every=0, learning_rate=0.1, centre_bias=True)[0, ..., 0]
    assert float(made[3, 4]) > 3 * float(made[0, 0]) > 0


@pytest.mark.slow
def test_latent_visualization_through_a_pca_decoder_reaches_every_class(digits_cnn):
    from train import data
    from train.unsupervised import pca_fit, pca_inverse

    apply_fn, variables, _, _ = digits_cnn
    pca = pca_fit(data.load("digits", "train")["image"].reshape(-1, 64))
    decode = lambda z: jnp.clip(pca_inverse(pca, z, whiten=True), 0, 1).reshape(-1, 8, 8, 1)
    result = latent_visualization(apply_fn, variables, decode, jnp.arange(10), 12, jax.random.key(0), steps=100)
    scores = np.asarray(result.scores)
    assert (scores[-1] > scores[0] + 1).all()
    np.testing.assert_array_equal(np.asarray(apply_fn(variables, result.images)).argmax(-1), np.arange(10))


@pytest.mark.slow
def test_multifaceted_visualization_starts_each_facet_from_its_cluster_mean(digits_cnn):
    from interpret.features import layer_features
    from train import data

    apply_fn, variables, _, _ = digits_cnn
    train = data.load("digits", "train")
    threes = jnp.asarray(train["image"][train["label"] == 3])
    features = lambda x: layer_features(apply_fn, variables, ["dense"])(x)["dense"]
    result = multifaceted_visualization(apply_fn, variables, features, threes, 3, 3, jax.random.key(0), steps=100)
    members = np.asarray(result.assignment) == 1
    np.testing.assert_allclose(result.starts[1], np.asarray(threes)[members].mean(0), atol=1e-5)
    assert (np.asarray(apply_fn(variables, result.images)).argmax(-1) == 3).all()
    flat = np.asarray(result.images).reshape(3, -1)
    assert min(np.abs(flat[a] - flat[b]).mean() for a, b in ((0, 1), (0, 2), (1, 2))) > 0.02
