"""Evaluation shared by the generative models.

Likelihoods in nats and bits per dimension, the independent-pixels baseline, a Fréchet distance
in the feature space of the zoo's own digits classifier, class coverage of samples, and sample
grids.

The Fréchet distance is the FID formula (Heusel et al. 2017) with the penultimate layer of a
trained `classify_digits` CNN in place of Inception: `|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg


def bits_per_dim(nats_per_image: float, dims: int) -> float:
    """Nats per image -> bits per dimension."""
    return nats_per_image / (dims * math.log(2))


def bernoulli_nll(logits, targets):
    """Return the `(B,)` per-image negative log-likelihood in nats of binary `targets: (B, ...)`.

    The pixels are independent Bernoullis with `logits` of the same shape as `targets`.
    """
    per_pixel = jnp.maximum(logits, 0) - logits * targets + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    return per_pixel.reshape(per_pixel.shape[0], -1).sum(-1)


def importance_weighted_nll(encode, log_likelihood, x, rng, k: int):
    """`-log (1/k) sum_i p(x, z_i) / q(z_i | x)` per example (Burda et al. 2016), `z_i ~ q(z | x)`.

    `encode(x) -> (mu, logvar)`, each `(B, latent)`: the diagonal Gaussian posterior; the prior
    is `N(0, I)`; `log_likelihood(z, x) -> (B,)` is `log p(x | z)`. The k samples are vmapped.
    An upper bound on `-log p(x)` that tightens as k grows (k = 1: the negative ELBO).
    """
    mu, logvar = encode(x)
    std = jnp.exp(0.5 * logvar)

    def log_weight(key):
        eps = jax.random.normal(key, mu.shape)
        z = mu + std * eps
        log_prior = -0.5 * jnp.sum(z ** 2 + jnp.log(2 * jnp.pi), -1)
        log_q = -0.5 * jnp.sum(eps ** 2 + logvar + jnp.log(2 * jnp.pi), -1)
        return log_likelihood(z, x) + log_prior - log_q

    w = jax.vmap(log_weight)(jax.random.split(rng, k))  # (k, B)
    return -(jax.scipy.special.logsumexp(w, axis=0) - jnp.log(k))


def independent_pixels_nll(train_images, test_images, smoothing: float = 1.0) -> float:
    """Return the mean test NLL (nats/image) of the independent-pixels baseline.

    The baseline models every pixel as an independent Bernoulli with its (Laplace-smoothed)
    training frequency, through `bernoulli_nll`.
    """
    p = (np.asarray(train_images).sum(0) + smoothing) / (len(train_images) + 2 * smoothing)
    logits = jnp.broadcast_to(jnp.log(p) - jnp.log1p(-p), test_images.shape)
    return float(bernoulli_nll(logits, jnp.asarray(test_images)).mean())


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to feature sets `a: (n, d)` and `b: (m, d)`."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    ridge = 1e-6 * np.eye(a.shape[1])  # dead features make the covariances singular
    cov_a, cov_b = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


class FeatureClassifier:
    """A trained classifier as `features(x)` and `predict(x)`.

    Built from `task`, a `Classification` task, and its `variables`: `features(x)` is the input
    of its head, i.e. the penultimate activations, and `predict(x)` the class ids. The image
    tasks get theirs as a first stage of their run (`ImageTask.stages`):
    evaluation never trains.
    """

    def __init__(self, task, variables):
        def head_input(x):
            _, inter = task.model.apply(variables, x, train=False, capture_intermediates=True,
                                        mutable=["intermediates"])
            return inter["intermediates"]["dense"]["__call__"][0]

        def both(x):
            return jax.nn.relu(head_input(x)), task.model.apply(variables, x, train=False).argmax(-1)

        self._both = jax.jit(both)

    def __call__(self, images, batch_size: int = 500):
        """`(features (n, d), predicted classes (n,))` of images `(n, H, W, C)` in [0, 1]."""
        feats, preds = [], []
        for i in range(0, len(images), batch_size):
            f, p = self._both(jnp.asarray(images[i:i + batch_size], jnp.float32))
            feats.append(np.asarray(f))
            preds.append(np.asarray(p))
        return np.concatenate(feats), np.concatenate(preds)


def sample_quality(classifier: FeatureClassifier, samples, reference, num_classes: int = 10, seed: int = 0,
                   labels=None) -> dict:
    """Score samples: Fréchet distance to `reference` images, against noise, and class coverage.

    Returns the Fréchet distance of `samples` to `reference` images, the same for uniform noise
    images, their ratio, and the classifier's class histogram of the samples (mode coverage). With the
    conditioning `labels: (n,)` of class-conditional samples, also `conditional_accuracy`: how
    often the classifier names the class a sample was drawn for (chance: 1 / num_classes).
    """
    noise = np.random.default_rng(seed).random(np.shape(samples), dtype=np.float32)
    ref_features, _ = classifier(reference)
    sample_features, classes = classifier(samples)
    noise_features, _ = classifier(noise)
    fd, fd_noise = frechet_distance(sample_features, ref_features), frechet_distance(noise_features, ref_features)
    share = np.bincount(classes, minlength=num_classes) / len(classes)
    return {"frechet_distance": fd, "frechet_distance_noise": fd_noise, "frechet_ratio": fd / fd_noise,
            "class_share": [round(float(s), 4) for s in share], "min_class_share": float(share.min()),
            "classes_covered": int((share > 0).sum()),
            **({} if labels is None else {"conditional_accuracy": float(np.mean(classes == np.asarray(labels)))})}


def image_grid(images, rows: int | None = None):
    """`(n, H, W, C)` images -> one `(rows * H, cols * W)` array (first channel; C = 3 kept)."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    rows = rows or int(math.ceil(math.sqrt(n)))
    cols = int(math.ceil(n / rows))
    grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, c), 0.5, np.float32)  # grey separators
    for k in range(n):
        r, q = divmod(k, cols)
        grid[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = images[k]
    return grid[..., 0] if c == 1 else grid


def save_grids(path: str, panels: dict, rows: int | None = None) -> str:
    """One figure with a titled image grid per `{title: images (n, H, W, C)}`."""
    import matplotlib.pyplot as plt

    from train.figures import save_figure

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels.items()):
        ax.imshow(image_grid(images, rows), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)
