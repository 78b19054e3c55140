"""k-means (k-means++ seeding, Lloyd, vmapped restarts) and PCA against known answers."""

import jax
import numpy as np
import pytest

from train.unsupervised import kmeans, kmeans_plus_plus, pca_fit, pca_inverse, pca_transform


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]], np.float32)
    return np.concatenate([c + 0.3 * rng.standard_normal((100, 2), dtype=np.float32) for c in centres]), centres


def test_kmeans_recovers_separated_blobs_and_restarts_keep_the_best():
    x, centres = blobs()
    result = kmeans(jax.random.key(0), x, 3)
    found = np.asarray(result.centroids)
    assert np.abs(np.sort(found, 0) - np.sort(centres, 0)).max() < 0.15
    assert len(np.unique(np.asarray(result.labels)[:100])) == 1  # one blob, one cluster
    single = kmeans(jax.random.key(0), x, 3, restarts=1)
    assert float(result.inertia) <= float(single.inertia) + 1e-3
    with pytest.raises(ValueError, match="1 <= k <= n"):
        kmeans(jax.random.key(0), x, 0)


def test_kmeans_plus_plus_picks_distinct_data_points():
    x, _ = blobs()
    seeds = np.asarray(kmeans_plus_plus(jax.random.key(3), x, 3))
    assert all(any(np.allclose(s, p) for p in x) for s in seeds)
    assert len({tuple(np.round(s, 4)) for s in seeds}) == 3


def test_pca_matches_the_covariance_eigendecomposition_and_whitens():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 4)).astype(np.float32) @ np.diag([3.0, 2.0, 1.0, 0.1]).astype(np.float32)
    pca = pca_fit(x)
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    np.testing.assert_allclose(pca.variance, eigenvalues, rtol=1e-4)
    assert float(pca.explained.sum()) == pytest.approx(1.0)
    white = np.asarray(pca_transform(pca, x, 2, whiten=True))
    np.testing.assert_allclose(np.cov(white, rowvar=False), np.eye(2), atol=1e-3)
    np.testing.assert_allclose(pca_inverse(pca, pca_transform(pca, x, 4)), x, atol=1e-4)
