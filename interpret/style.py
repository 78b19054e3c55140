"""Images optimized to match or excite features: inversion, textures, style transfer, DeepDream.

Each takes a feature function (`interpret.features`) and runs its whole optimization as one
`jax.jit` program (`lax.scan` over steps, Adam on the pixels, clipped to [0, 1] after every step),
returning the image with its loss history. The feature function is keyed by what it computes
(`train.keyed_jit`), so a call with an equivalent new one reuses the compiled program.

- `invert_features` (Mahendran & Vedaldi 2015): from noise, match one layer's features of a
  target image, with a total-variation prior.
- `synthesize_texture` (Gatys et al. 2015): from noise, match the Gram matrices of a texture at
  several layers.
- `style_transfer` (Gatys et al. 2016): from the content image, match its features at the
  content layers and the style image's Gram matrices at the style layers, plus TV.
- `deepdream` (Mordvintsev et al. 2015): ascend `||A||^2 / 2` of a layer (its gradient with
  respect to the activation is the activation itself), with random jitter, over octaves of
  growing resolution that carry the added detail up.
"""

from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from interpret.features import gram
from train import draws
from train.keyed_jit import keyed_jit


class Optimized(NamedTuple):
    """An optimized image and its loss history.

    Attributes:
        image: `(B, H, W, C)` in [0, 1].
        losses: `(steps + 1,)` the objective before every step and after the last.
    """

    image: jax.Array
    losses: jax.Array


def total_variation(x):
    """Compute the mean squared difference of vertically and horizontally adjacent pixels.

    Args:
        x: `(B, H, W, C)` images.

    Returns:
        A scalar, the vertical mean plus the horizontal mean.
    """
    return jnp.mean((x[:, 1:] - x[:, :-1]) ** 2) + jnp.mean((x[:, :, 1:] - x[:, :, :-1]) ** 2)


def _descend(loss_fn: Callable, x0, steps: int, learning_rate: float) -> Optimized:
    """Minimize `loss_fn(x)` by Adam on the pixels of `x0` with clipping, inside one `lax.scan`."""
    opt = optax.adam(learning_rate)

    def step(carry, _):
        x, state = carry
        loss, g = jax.value_and_grad(loss_fn)(x)
        updates, state = opt.update(g, state, x)
        return (jnp.clip(optax.apply_updates(x, updates), 0.0, 1.0), state), loss

    (x, _), losses = jax.lax.scan(step, (x0, opt.init(x0)), length=steps)
    return Optimized(x, jnp.append(losses, loss_fn(x)))


def _check_image(name: str, x):
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (B, H, W, C); got shape {x.shape}")


def _noise(rng, shape):
    return jnp.clip(0.5 + 0.1 * draws.normal(rng, shape), 0.0, 1.0)


def content_loss(features: dict, target: dict, layers: Sequence[str]):
    """Compute the mean over `layers` of the mean squared feature difference.

    Args:
        features: `{name: (B, h, w, c)}` features of the image.
        target: `{name: (B, h, w, c)}` features to match.
        layers: the names to compare.

    Returns:
        A scalar loss.
    """
    return sum(jnp.mean((features[k] - target[k]) ** 2) for k in layers) / len(layers)


def style_loss(features: dict, target_grams: dict, layers: Sequence[str]):
    """Compute the mean over `layers` of the mean squared Gram-matrix difference.

    Args:
        features: `{name: (B, h, w, c)}` features of the image.
        target_grams: `{name: (B, c, c)}` Gram matrices to match, from `gram`.
        layers: the names to compare.

    Returns:
        A scalar loss.
    """
    return sum(jnp.mean((gram(features[k]) - target_grams[k]) ** 2) for k in layers) / len(layers)


def invert_features(feature_fn: Callable, image, layer: str, rng, steps: int = 300, learning_rate: float = 0.05,
                    tv_weight: float = 1e-2) -> Optimized:
    """Reconstruct an image from its features at `layer` alone (Mahendran & Vedaldi 2015).

    Minimizes `||phi(x) - phi(image)||^2 / ||phi(image)||^2 + tv_weight TV(x)` from noise.

    Args:
        feature_fn: `features(x) -> {name: (B, h, w, c)}` (see `interpret.features`).
        image: `(B, H, W, C)` target images in [0, 1].
        layer: the feature name to match.
        rng: a PRNG key for the starting noise.
        steps: the number of Adam steps.
        learning_rate: Adam's learning rate.
        tv_weight: the weight of the total-variation prior.

    Returns:
        The `Optimized` reconstruction, the shape of `image`.

    Raises:
        ValueError: if `image` is not 4-d.
    """
    _check_image("image", image)
    return _invert(feature_fn, image, layer, rng, steps, learning_rate, tv_weight)


@keyed_jit("feature_fn", static_argnames=("layer", "steps"))
def _invert(feature_fn, image, layer, rng, steps, learning_rate, tv_weight):
    target = feature_fn(image)[layer]
    scale = jnp.mean(target ** 2) + 1e-12

    def loss(x):
        return jnp.mean((feature_fn(x)[layer] - target) ** 2) / scale + tv_weight * total_variation(x)

    return _descend(loss, _noise(rng, image.shape), steps, learning_rate)


def synthesize_texture(feature_fn: Callable, texture, shape: tuple, rng, layers: Sequence[str] | None = None,
                       steps: int = 300, learning_rate: float = 0.05) -> Optimized:
    """Synthesize a new texture image whose Gram matrices match those of `texture` (Gatys et al. 2015).

    Starts from noise.

    Args:
        feature_fn: `features(x) -> {name: (B, h, w, c)}` (see `interpret.features`).
        texture: `(1, H, W, C)` texture image in [0, 1].
        shape: `(H', W', C)`, the shape of the new image.
        rng: a PRNG key for the starting noise.
        layers: the feature names to match; `None` is all the feature function's maps.
        steps: the number of Adam steps.
        learning_rate: Adam's learning rate.

    Returns:
        The `Optimized` image, `(1, *shape)`.

    Raises:
        ValueError: if `texture` is not 4-d.
    """
    _check_image("texture", texture)
    return _texture(feature_fn, texture, tuple(shape), rng, None if layers is None else tuple(layers), steps,
                    learning_rate)


@keyed_jit("feature_fn", static_argnames=("shape", "layers", "steps"))
def _texture(feature_fn, texture, shape, rng, layers, steps, learning_rate):
    targets = {k: gram(v) for k, v in feature_fn(texture).items()}
    layers = layers or tuple(targets)
    return _descend(lambda x: style_loss(feature_fn(x), targets, layers), _noise(rng, (1, *shape)), steps,
                    learning_rate)


def style_transfer(feature_fn: Callable, content, style, content_layers: Sequence[str], style_layers: Sequence[str],
                   style_weight: float = 1e3, tv_weight: float = 1e-1, steps: int = 300,
                   learning_rate: float = 0.02) -> Optimized:
    """Paint `content` in the style of `style` (Gatys et al. 2016).

    Matches the features of `content` at `content_layers` and the Gram matrices of `style` at
    `style_layers`: minimizes `content + style_weight * style + tv_weight * TV`, starting from
    the content image.

    Args:
        feature_fn: `features(x) -> {name: (B, h, w, c)}` (see `interpret.features`).
        content: `(1, H, W, C)` content image in [0, 1].
        style: `(1, H', W', C)` style image in [0, 1].
        content_layers: the feature names of the content loss.
        style_layers: the feature names of the style loss.
        style_weight: the weight of the style loss.
        tv_weight: the weight of the total-variation prior.
        steps: the number of Adam steps.
        learning_rate: Adam's learning rate.

    Returns:
        The `Optimized` image, `(1, H, W, C)`.

    Raises:
        ValueError: if `content` or `style` is not 4-d.
    """
    _check_image("content", content)
    _check_image("style", style)
    return _transfer(feature_fn, content, style, tuple(content_layers), tuple(style_layers), style_weight, tv_weight,
                     steps, learning_rate)


@keyed_jit("feature_fn", static_argnames=("content_layers", "style_layers", "steps"))
def _transfer(feature_fn, content, style, content_layers, style_layers, style_weight, tv_weight, steps,
              learning_rate):
    content_target = feature_fn(content)
    style_target = {k: gram(v) for k, v in feature_fn(style).items()}

    def loss(x):
        f = feature_fn(x)
        return (content_loss(f, content_target, content_layers)
                + style_weight * style_loss(f, style_target, style_layers) + tv_weight * total_variation(x))

    return _descend(loss, content, steps, learning_rate)


def deepdream(feature_fn: Callable, image, layer: str, rng, steps: int = 20, learning_rate: float = 0.02,
              octaves: int = 3, octave_scale: float = 1.4, jitter: int = 4) -> Optimized:
    """Amplify what `layer` sees in `image` (DeepDream, Mordvintsev et al. 2015).

    For each octave, from the smallest (`octave_scale ** -(octaves - 1)` of the size) to the
    full image: resize the current image, take `steps` jittered ascent steps on `mean(A^2) / 2`
    normalized by the mean absolute gradient, then carry the change up to the next octave.

    Args:
        feature_fn: `features(x) -> {name: (B, h, w, c)}` (see `interpret.features`).
        image: `(B, H, W, C)` images in [0, 1].
        layer: the feature name to amplify.
        rng: a PRNG key for the jitter.
        steps: ascent steps per octave.
        learning_rate: the size of each normalized ascent step.
        octaves: the number of resolutions.
        octave_scale: the size ratio between successive octaves.
        jitter: the largest random shift, in pixels (0: none).

    Returns:
        The `Optimized` image, the shape of `image`; `losses` holds the objective at the full
        size before and after, `(2,)`.

    Raises:
        ValueError: if `image` is not 4-d.
    """
    _check_image("image", image)
    return _dream(feature_fn, image, layer, rng, steps, learning_rate, octaves, octave_scale, jitter)


@keyed_jit("feature_fn", static_argnames=("layer", "steps", "octaves", "octave_scale", "jitter"))
def _dream(feature_fn, image, layer, rng, steps, learning_rate, octaves, octave_scale, jitter):
    b, h, w, c = image.shape
    objective = lambda x: 0.5 * jnp.mean(feature_fn(x)[layer] ** 2)
    sizes = [(max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k)))
             for k in reversed(range(octaves))]

    def dream(x, key):
        def step(x, i):
            dy, dx = jax.random.randint(jax.random.fold_in(key, i), (2,), -jitter, jitter + 1) if jitter else (0, 0)
            shifted = jnp.roll(x, (dy, dx), axis=(1, 2))
            g = jax.grad(objective)(shifted)
            g = g / (jnp.mean(jnp.abs(g)) + 1e-12)
            return jnp.clip(jnp.roll(shifted + learning_rate * g, (-dy, -dx), axis=(1, 2)), 0.0, 1.0), None

        return jax.lax.scan(step, x, jnp.arange(steps))[0]

    detail = jnp.zeros((b, *sizes[0], c), image.dtype)
    for k, size in enumerate(sizes):
        base = jax.image.resize(image, (b, *size, c), "bilinear")
        detail = jax.image.resize(detail, (b, *size, c), "bilinear")
        dreamed = dream(jnp.clip(base + detail, 0.0, 1.0), jax.random.fold_in(rng, k))
        detail = dreamed - base
    return Optimized(dreamed, jnp.stack([objective(image), objective(dreamed)]))
