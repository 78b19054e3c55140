"""On-device image augmentation, batched with vmap and run inside the train step."""

import jax
import jax.numpy as jnp


def random_crop(rng, images, padding: int):
    """Translate `(batch, H, W, C)` images randomly by up to `padding` pixels.

    The images are padded by `padding` pixels of zeros and cropped back to `H x W` at a random
    offset per image.
    """
    b, h, w, c = images.shape
    padded = jnp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    offsets = jax.random.randint(rng, (b, 2), 0, 2 * padding + 1)
    crop = lambda image, o: jax.lax.dynamic_slice(image, (o[0], o[1], 0), (h, w, c))
    return jax.vmap(crop)(padded, offsets)


def random_flip(rng, images):
    """Mirror each `(batch, H, W, C)` image left-right with probability 1/2."""
    flip = jax.random.bernoulli(rng, 0.5, (images.shape[0], 1, 1, 1))
    return jnp.where(flip, images[:, :, ::-1], images)


def augment_images(rng, images, crop_padding: int = 0, flip: bool = False):
    """Apply the configured augmentations; a no-op when both are off."""
    crop_rng, flip_rng = jax.random.split(rng)
    if crop_padding:
        images = random_crop(crop_rng, images, crop_padding)
    if flip:
        images = random_flip(flip_rng, images)
    return images
