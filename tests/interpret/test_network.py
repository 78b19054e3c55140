"""Filters, nearest neighbours, embeddings, receptive fields and maximally activating patches."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.features import layer_features
from interpret.network import (ReceptiveField, embed_2d, filter_images, max_activating_patches, nearest_neighbours,
                               receptive_field)
from zoo import CNN
from train.state import init_variables

MODEL = CNN(num_classes=3, features=(4, 8), hidden=8)


@pytest.fixture(scope="module")
def params():
    return init_variables(MODEL, jax.random.key(0), jnp.zeros((1, 12, 12, 1)))


def layer(params, name):
    return lambda x: layer_features(MODEL.apply, params, [name])(x)[name]


@pytest.mark.parametrize("name, size, stride, offset", [("conv0_0", 3, 1, -1), ("conv0_1", 5, 1, -2),
                                                         ("conv1_0", 10, 2, -4), ("conv1_1", 14, 2, -6)])
def test_receptive_fields_match_the_hand_computed_geometry(params, name, size, stride, offset):
    # 3x3 'SAME' convs: unit i of conv0_1 sees rows i-2..i+2; pool unit p sees 2p-2..2p+3;
    # conv1_0 unit q sees pool units q-1..q+1, rows 2q-4..2q+5; conv1_1 rows 2q-6..2q+7.
    field = receptive_field(layer(params, name), channels=1, canvas=32)
    assert field == ReceptiveField((size, size), (stride, stride), (offset, offset))


def test_receptive_field_too_large_for_the_canvas_is_refused(params):
    with pytest.raises(ValueError, match="larger canvas"):
        receptive_field(layer(params, "conv1_1"), channels=1, canvas=12)


def test_max_activating_patches_are_the_top_units_cropped_at_their_fields(params):
    images = jax.random.uniform(jax.random.key(1), (20, 12, 12, 1))
    fn = layer(params, "conv0_1")
    field = receptive_field(fn, channels=1, canvas=32)
    top = max_activating_patches(fn, images, channel=2, field=field, k=5, batch_size=8)
    acts = np.asarray(fn(images))[..., 2]
    np.testing.assert_allclose(np.asarray(top.values), np.sort(acts.ravel())[::-1][:5], rtol=1e-6)
    padded = np.pad(np.asarray(images), ((0, 0), (5, 5), (5, 5), (0, 0)))
    for patch, (n, i, j) in zip(np.asarray(top.patches), np.asarray(top.where)):
        assert acts[n, i, j] >= float(top.values[-1])
        r, c = field.offset[0] + i + 5, field.offset[1] + j + 5
        np.testing.assert_array_equal(patch, padded[n, r:r + 5, c:c + 5])


def test_nearest_neighbours_and_embeddings():
    bank = jnp.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.0, 2.0]])
    idx = nearest_neighbours(jnp.array([[0.9, 0.1], [4.0, 4.0]]), bank, k=2)
    np.testing.assert_array_equal(idx, [[1, 0], [2, 3]])
    with pytest.raises(ValueError, match="same example shape"):
        nearest_neighbours(jnp.zeros((1, 3)), bank)
    x = np.random.default_rng(0).normal(size=(40, 6)) * np.array([10, 1, 1, 1, 1, 0.1])
    coords = embed_2d(x, "pca")
    assert coords.shape == (40, 2) and np.std(coords[:, 0]) > 5 * np.std(coords[:, 1])
    assert embed_2d(x, "tsne").shape == (40, 2)


def test_filter_images_scale_each_filter_to_unit_range():
    kernel = jnp.asarray(np.random.default_rng(0).standard_normal((3, 3, 5, 7), np.float32))
    images = filter_images(kernel)
    assert images.shape == (7, 3, 3, 1)
    np.testing.assert_allclose(images.min(axis=(1, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(images.max(axis=(1, 2, 3)), 1, atol=1e-6)
    assert filter_images(kernel[:, :, :3]).shape == (7, 3, 3, 3)
