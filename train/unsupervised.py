"""Unsupervised learning on arrays: k-means and PCA, jit-compiled.

- `kmeans(rng, x, k)`: k-means++ seeding (Arthur & Vassilvitskii 2007), Lloyd iterations in a
  `lax.fori_loop`, `restarts` independent runs vmapped over keys, the lowest-inertia run kept.
- `pca_fit(x)` / `pca_transform`: principal components by SVD of the centred data, explained
  variance, optional whitening (unit variance per component).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class KMeans(NamedTuple):
    """`centroids: (k, d)`, `labels: (n,)`, `inertia`: sum of squared distances to the centroid."""

    centroids: jax.Array
    labels: jax.Array
    inertia: jax.Array


def _sq_distances(x, centroids):
    """`(n, k)` squared Euclidean distances."""
    return jnp.sum(x ** 2, 1)[:, None] - 2 * x @ centroids.T + jnp.sum(centroids ** 2, 1)[None, :]


def kmeans_plus_plus(rng, x, k: int):
    """Choose `(k, d)` initial centroids (k-means++ seeding).

    The first is drawn uniformly, each next one with probability proportional to the squared
    distance to the nearest centroid chosen so far.
    """
    x = jnp.asarray(x, jnp.float32)
    n = x.shape[0]
    first_key, rest_key = jax.random.split(rng)
    centroids = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(x[jax.random.randint(first_key, (), 0, n)])
    nearest = jnp.sum((x - centroids[0][None, :]) ** 2, 1)

    def add(i, carry):
        centroids, nearest = carry
        pick = jax.random.categorical(jax.random.fold_in(rest_key, i), jnp.log(jnp.maximum(nearest, 1e-30)))
        centroids = centroids.at[i].set(x[pick])
        return centroids, jnp.minimum(nearest, jnp.sum((x - x[pick][None, :]) ** 2, 1))

    return jax.lax.fori_loop(1, k, add, (centroids, nearest))[0]


def lloyd(x, centroids, iterations: int) -> KMeans:
    """`iterations` Lloyd steps from `centroids`; an empty cluster keeps its centroid."""
    x = jnp.asarray(x, jnp.float32)
    k = centroids.shape[0]

    def step(_, centroids):
        labels = jnp.argmin(_sq_distances(x, centroids), 1)
        sums = jax.ops.segment_sum(x, labels, num_segments=k)
        counts = jax.ops.segment_sum(jnp.ones(x.shape[0], x.dtype), labels, num_segments=k)
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1)[:, None], centroids)

    centroids = jax.lax.fori_loop(0, iterations, step, centroids)
    d = _sq_distances(x, centroids)
    return KMeans(centroids, jnp.argmin(d, 1), jnp.sum(jnp.maximum(jnp.min(d, 1), 0.0)))


def kmeans(rng, x, k: int, iterations: int = 50, restarts: int = 8) -> KMeans:
    """Best of `restarts` k-means++ + Lloyd runs (vmapped) on `x: (n, d)`."""
    if x.ndim != 2 or not 1 <= k <= x.shape[0]:
        raise ValueError(f"kmeans needs x of shape (n, d) and 1 <= k <= n; got {x.shape} and k={k}")
    x = jnp.asarray(x, jnp.float32)
    runs = jax.vmap(lambda key: lloyd(x, kmeans_plus_plus(key, x, k), iterations))(jax.random.split(rng, restarts))
    best = jnp.argmin(runs.inertia)
    return jax.tree.map(lambda a: a[best], runs)


class PCA(NamedTuple):
    """A principal component analysis.

    Attributes:
        mean: `(d,)` mean of the data.
        components: `(d, d)` components as columns, by decreasing variance.
        variance: `(d,)` variance per component.
        explained: `(d,)` each component's fraction of the total variance.
    """

    mean: jax.Array
    components: jax.Array
    variance: jax.Array
    explained: jax.Array


def pca_fit(x) -> PCA:
    """Principal components of `x: (n, d)` by SVD of the centred data."""
    if x.ndim != 2:
        raise ValueError(f"pca_fit needs x of shape (n, d); got {x.shape}")
    x = jnp.asarray(x, jnp.float32)
    mean = x.mean(0)
    _, s, vt = jnp.linalg.svd(x - mean[None, :], full_matrices=False)
    variance = s ** 2 / max(x.shape[0] - 1, 1)
    components = jnp.zeros((x.shape[1], x.shape[1]), x.dtype).at[:, :vt.shape[0]].set(vt.T)
    variance = jnp.zeros(x.shape[1], x.dtype).at[:vt.shape[0]].set(variance)
    return PCA(mean, components, variance, variance / jnp.sum(variance))


def pca_transform(pca: PCA, x, dims: int, whiten: bool = False):
    """`(n, dims)` coordinates of `x` on the first `dims` components (unit variance if `whiten`)."""
    codes = (jnp.asarray(x, jnp.float32) - pca.mean[None, :]) @ pca.components[:, :dims]
    return codes / jnp.sqrt(pca.variance[None, :dims] + 1e-8) if whiten else codes


def pca_inverse(pca: PCA, codes, whiten: bool = False):
    """Reconstruction `(n, d)` from `pca_transform` codes."""
    dims = codes.shape[1]
    if whiten:
        codes = codes * jnp.sqrt(pca.variance[None, :dims] + 1e-8)
    return codes @ pca.components[:, :dims].T + pca.mean[None, :]
