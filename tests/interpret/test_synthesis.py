"""Fooling images and class visualization on the digits CNN: every test image is turned into
every other class, the target score rises at every reported step, and a visualization from a
zero image is classified as its class."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.synthesis import class_visualization, fooling_images


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    from tests.helpers import train_digits
    from train import data
    from train.restore import load_run

    task, state, _ = load_run(train_digits(str(tmp_path_factory.mktemp("cnn")), 600))
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
