"""Images made by gradient ascent on a class score: fooling images and class visualization.

- `fooling_images` (Szegedy et al. 2014; Nguyen et al. 2015): from real images, normalized
  gradient steps on the target class's score until the network predicts the target; each
  example stops at its own step, the batch at the last one (`lax.while_loop`, examples vmapped).
- `class_visualization` (Simonyan et al. 2014; Yosinski et al. 2015): from a zero image, ascend
  `S_c(I) - lambda ||I||^2` with the regularizers of Yosinski et al. as options: random jitter,
  periodic Gaussian blur, and zeroing pixels of small value or small contribution; one
  `lax.fori_loop`; optionally from given images and with a centre bias.
- `latent_visualization` (Nguyen et al. 2016): the same ascent on a generator's latent code.
- `multifaceted_visualization` (Nguyen et al. 2016): one visualization per k-means cluster of a
  class's training images, each started from its cluster's mean image.

Images are `(B, H, W, C)` in [0, 1] and stay there (clipped after every step). Each of the first
three is one `jax.jit` program; its function arguments are keyed by what they compute
(`train.keyed_jit`), so a fresh inline lambda over the same model reuses the compiled program.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from interpret.attribution import class_score
from interpret.inputs import IMAGES, checked_batch
from train.keyed_jit import keyed_jit


class Fooled(NamedTuple):
    """The result of `fooling_images`.

    Attributes:
        images: `(B, H, W, C)` the fooling images.
        steps: `(B,)` int steps taken by each example (`max_steps` + 1 where it failed).
        fooled: `(B,)` bool.
        l2: `(B,)` perturbation norms.
        scores: `(max_steps + 1, B)` target scores at every step (the initial one first; NaN once
            an example has stopped).
    """

    images: jax.Array
    steps: jax.Array
    fooled: jax.Array
    l2: jax.Array
    scores: jax.Array


@checked_batch(IMAGES, labels="targets")
@keyed_jit("apply_fn", static_argnames="max_steps")
def fooling_images(apply_fn, params, x, targets, step_size: float = 0.1, max_steps: int = 100) -> Fooled:
    """Make fooling images: move each image along its normalized target-score gradient until fooled.

    Each image moves until the prediction is its target, or for at most `max_steps` steps.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, H, W, C)` images in [0, 1].
        targets: `(B,)` integer target classes.
        step_size: the length of each normalized step.
        max_steps: the most steps.

    Returns:
        A `Fooled`.

    Raises:
        ValueError: on a bad rank of `x`, bad `targets` or non-finite `x`.
    """
    score = class_score(apply_fn, params)
    grad = jax.vmap(jax.grad(score))
    scores_of = jax.vmap(score)
    predict = lambda x: jnp.argmax(apply_fn(params, x), -1)
    history = jnp.full((max_steps + 1, x.shape[0]), jnp.nan, jnp.float32).at[0].set(scores_of(x, targets))

    def cond(state):
        images, done, step, _, _ = state
        return (step < max_steps) & ~jnp.all(done)

    def body(state):
        images, done, step, steps, history = state
        g = grad(images, targets)
        norm = jnp.sqrt(jnp.sum(g ** 2, axis=(1, 2, 3), keepdims=True)) + 1e-12
        moved = jnp.clip(images + step_size * g / norm, 0.0, 1.0)
        images = jnp.where(done[:, None, None, None], images, moved)
        history = history.at[step + 1].set(jnp.where(done, jnp.nan, scores_of(images, targets)))
        now = predict(images) == targets
        steps = jnp.where(~done & now, step + 1, steps)
        return images, done | now, step + 1, steps, history

    done = predict(x) == targets
    start = (x, done, jnp.zeros([], jnp.int32), jnp.where(done, 0, max_steps + 1), history)
    images, done, _, steps, history = jax.lax.while_loop(cond, body, start)
    l2 = jnp.sqrt(jnp.sum((images - x) ** 2, axis=(1, 2, 3)))
    return Fooled(images, steps, done, l2, history)


def _gaussian_blur(images, sigma: float):
    """Separable Gaussian blur of `(B, H, W, C)` images, radius `ceil(2 sigma)`, edge padding."""
    radius = max(1, int(2 * sigma + 0.999))
    taps = jnp.exp(-0.5 * (jnp.arange(-radius, radius + 1) / sigma) ** 2)
    taps = taps / taps.sum()
    padded = jnp.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="edge")
    h, w = images.shape[1:3]
    rows = sum(taps[k] * padded[:, k:k + h, :, :] for k in range(2 * radius + 1))
    return sum(taps[k] * rows[:, :, k:k + w, :] for k in range(2 * radius + 1))


def _centre_window(shape, progress):
    """Make a `(1, H, W, 1)` Gaussian window on the image centre that widens with `progress`.

    Its width grows from 0.15 to 2.15 image sizes as `progress` goes from 0 to 1 (Nguyen et al.
    2016's centre bias).
    """
    h, w = shape[:2]
    rows = (jnp.arange(h) - (h - 1) / 2) / h
    cols = (jnp.arange(w) - (w - 1) / 2) / w
    sigma = 0.15 + 2.0 * progress
    return jnp.exp(-(rows[:, None] ** 2 + cols[None, :] ** 2) / (2 * sigma ** 2))[None, :, :, None]


@keyed_jit("apply_fn", static_argnames=("shape", "steps", "jitter", "blur_every", "blur_sigma", "value_percentile",
                                      "contribution_percentile", "centre_bias"))
def class_visualization(apply_fn, params, targets, shape, rng, steps: int = 200, learning_rate: float = 0.3,
                        l2: float = 1e-2, jitter: int = 1, blur_every: int = 10, blur_sigma: float = 0.5,
                        value_percentile: float = 0.0, contribution_percentile: float = 0.0, init=None,
                        centre_bias: bool = False):
    """Make images that maximize `S_target(I) - l2 ||I||^2`, from a zero image or from `init`.

    Each step: shift the image by a random offset in `[-jitter, jitter]` pixels, take a
    normalized gradient step, shift back, clip to [0, 1]; every `blur_every` steps blur it;
    optionally zero the pixels below the `value_percentile` of magnitude and those below the
    `contribution_percentile` of `|I * dS/dI|` (Yosinski et al. 2015). 0 turns an option off.
    `centre_bias` weights the step by a centred Gaussian window that widens over the run, so
    one object grows from the middle (Nguyen et al. 2016).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        targets: `(B,)` integer target classes.
        shape: `(H, W, C)` of the images.
        rng: a PRNG key for the jitter.
        steps: the number of steps.
        learning_rate: the length of each normalized step.
        l2: the weight of the L2 penalty.
        jitter: the largest random shift, in pixels.
        blur_every: blur every this many steps.
        blur_sigma: the blur's standard deviation, in pixels.
        value_percentile: the magnitude percentile below which pixels are zeroed.
        contribution_percentile: the `|I * dS/dI|` percentile below which pixels are zeroed.
        init: `(B, H, W, C)` starting images; `None` starts from zeros.
        centre_bias: whether to weight the steps by the widening centred window.

    Returns:
        `(B, H, W, C)` float32 images in [0, 1].

    Raises:
        ValueError: if `init` is not `(B, H, W, C)`.
    """
    grad = jax.vmap(jax.grad(lambda image, y: class_score(apply_fn, params)(image, y) - l2 * jnp.sum(image ** 2)))
    start = jnp.zeros((targets.shape[0], *shape), jnp.float32) if init is None else jnp.asarray(init, jnp.float32)
    if start.shape != (targets.shape[0], *shape):
        raise ValueError(f"init must have shape {(targets.shape[0], *shape)}; got {start.shape}")

    def step(i, images):
        key = jax.random.fold_in(rng, i)
        dy, dx = jax.random.randint(key, (2,), -jitter, jitter + 1) if jitter else (0, 0)
        shifted = jnp.roll(images, (dy, dx), axis=(1, 2))
        g = grad(shifted, targets)
        g = g / (jnp.sqrt(jnp.mean(g ** 2, axis=(1, 2, 3), keepdims=True)) + 1e-12)
        if centre_bias:
            g = g * _centre_window(shape, i / steps)
        images = jnp.clip(jnp.roll(shifted + learning_rate * g, (-dy, -dx), axis=(1, 2)), 0.0, 1.0)
        if blur_every:
            images = jnp.where(i % blur_every == blur_every - 1, _gaussian_blur(images, blur_sigma), images)
        if value_percentile:
            cut = jnp.percentile(jnp.abs(images), value_percentile, axis=(1, 2, 3), keepdims=True)
            images = jnp.where(jnp.abs(images) < cut, 0.0, images)
        if contribution_percentile:
            contribution = jnp.abs(images * grad(images, targets))
            cut = jnp.percentile(contribution, contribution_percentile, axis=(1, 2, 3), keepdims=True)
            images = jnp.where(contribution < cut, 0.0, images)
        return images

    return jax.lax.fori_loop(0, steps, step, start)


class LatentVisualization(NamedTuple):
    """The result of `latent_visualization`.

    Attributes:
        images: `(B, ...)` the decoded latents.
        latents: `(B, latent_dim)`.
        scores: `(steps + 1, B)` the target scores before every step and after the last.
    """

    images: jax.Array
    latents: jax.Array
    scores: jax.Array


@keyed_jit(("apply_fn", "decode"), static_argnames=("latent_dim", "steps"))
def latent_visualization(apply_fn, params, decode, targets, latent_dim: int, rng, steps: int = 200,
                         learning_rate: float = 0.1, l2: float = 1e-3) -> LatentVisualization:
    """Maximize a class score in a generator's latent space.

    Activation maximization after Nguyen et al. 2016, "Synthesizing the preferred inputs": ascend
    `S_target(decode(z)) - l2 ||z||^2` over `z`, from `N(0, I)` draws, by normalized gradient steps
    in one `lax.scan`. The decoder keeps the images on the manifold it learned, instead of
    pixel-space regularizers.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        decode: `decode(z: (B, latent_dim)) -> (B, H, W, C)` images in [0, 1] (e.g. a VAE's or
            GAN's decoder with its parameters bound).
        targets: `(B,)` integer target classes.
        latent_dim: the size of the latent code.
        rng: a PRNG key for the starting codes.
        steps: the number of steps.
        learning_rate: the length of each normalized step.
        l2: the weight of the L2 penalty on `z`.

    Returns:
        A `LatentVisualization`.
    """
    score = lambda z: jnp.take_along_axis(apply_fn(params, decode(z)), targets[:, None], 1)[:, 0]
    objective = lambda z: jnp.sum(score(z)) - l2 * jnp.sum(z ** 2)

    def step(z, _):
        g = jax.grad(objective)(z)
        g = g / (jnp.sqrt(jnp.mean(g ** 2, axis=1, keepdims=True)) + 1e-12)
        return z + learning_rate * g, score(z)

    z, history = jax.lax.scan(step, jax.random.normal(rng, (targets.shape[0], latent_dim)), length=steps)
    return LatentVisualization(decode(z), z, jnp.concatenate([history, score(z)[None]]))


class Facets(NamedTuple):
    """The result of `multifaceted_visualization`.

    Attributes:
        images: `(facets, H, W, C)` one visualization per facet.
        starts: `(facets, H, W, C)` the cluster-mean images they began from.
        assignment: `(N,)` each training image's facet.
    """

    images: jax.Array
    starts: jax.Array
    assignment: jax.Array


def multifaceted_visualization(apply_fn, params, feature_fn, images, target: int, facets: int, rng,
                               **options) -> Facets:
    """Make one visualization per k-means cluster of a class's images (Nguyen et al. 2016).

    Multi-faceted feature visualization: cluster the images of class `target` by k-means on their
    features, and run `class_visualization` from each cluster's mean image, so each facet of the
    class (a pose, a style of writing) gets its own image.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        feature_fn: `feature_fn(images) -> (N, D)` (e.g. the penultimate layer).
        images: `(N, H, W, C)` training images of class `target`, in [0, 1].
        target: the class.
        facets: the number of clusters.
        rng: a PRNG key for k-means and the visualizations.
        **options: passed on to `class_visualization`.

    Returns:
        `Facets`.
    """
    from train.unsupervised import kmeans

    feats = jnp.reshape(feature_fn(images), (images.shape[0], -1))
    k_cluster, k_vis = jax.random.split(rng)
    clusters = kmeans(k_cluster, feats, facets)
    onehot = jax.nn.one_hot(clusters.labels, facets)                      # (N, facets)
    starts = jnp.einsum("nk,nhwc->khwc", onehot, images) / jnp.maximum(onehot.sum(0), 1)[:, None, None, None]
    made = class_visualization(apply_fn, params, jnp.full((facets,), target), images.shape[1:], k_vis,
                               init=starts, **options)
    return Facets(made, starts, clusters.labels)
