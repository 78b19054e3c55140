"""Cluttered canvases (Mnih et al. 2014, "cluttered translated MNIST") of one digit among digit-like clutter.

One digit sits at a random place on an empty canvas, with random square crops of other digits
scattered over it as clutter (pixel-wise maximum), so that a classifier must find the digit among
digit-like strokes.

Two bundled datasets use it: `cluttered_digits` (8x8 `digits` scaled 2x to 16x16 on 40x40 canvases,
six 6x6 fragments: `SMALL`) and `cluttered_mnist` (28x28 `mnist5k` digits on 60x60 canvases, four
8x8 fragments, our reading of the paper's 60x60 setting: `MNIST`).
"""

from typing import NamedTuple

import numpy as np


class Clutter(NamedTuple):
    """Geometry of a cluttered canvas.

    Attributes:
        size: Canvas side, in pixels.
        scale: Integer upscaling of the source digits (2 for 8x8 digits, 1 for MNIST).
        fragment: Side of each clutter crop, in canvas pixels.
        fragments: Clutter crops per canvas.
    """

    size: int       # canvas side
    scale: int      # integer upscaling of the source digits (2 for 8x8 digits, 1 for MNIST)
    fragment: int   # side of each clutter crop, in canvas pixels
    fragments: int  # clutter crops per canvas


SMALL = Clutter(size=40, scale=2, fragment=6, fragments=6)
MNIST = Clutter(size=60, scale=1, fragment=8, fragments=4)


def canvas(rng: np.random.Generator, images: np.ndarray, index: int, clutter: Clutter = SMALL) -> np.ndarray:
    """Draws one cluttered canvas of `images[index]`, with clutter cut from other random images of `images`.

    Many canvases from one image set are cheaper made from `upscale(images, clutter)` with
    `clutter._replace(scale=1)`: the same canvases.

    Args:
        rng: NumPy random generator.
        images: `(N, h, w)` float images in [0, 1].
        index: Index of the digit to place.
        clutter: Canvas geometry.

    Returns:
        A `(size, size, 1)` uint8 canvas.
    """
    up = lambda image: upscale(image[None], clutter)[0]
    digit = up(images[index])
    side, crop = digit.shape[0], clutter.fragment
    out = np.zeros((clutter.size, clutter.size), np.float32)
    for _ in range(clutter.fragments):
        source = up(images[rng.integers(len(images))])
        r, c = rng.integers(0, side - crop + 1, size=2)
        top, left = rng.integers(0, clutter.size - crop + 1, size=2)
        patch = out[top:top + crop, left:left + crop]
        np.maximum(patch, source[r:r + crop, c:c + crop], out=patch)
    top, left = rng.integers(0, clutter.size - side + 1, size=2)
    patch = out[top:top + side, left:left + side]
    np.maximum(patch, digit, out=patch)
    return np.round(out * 255).astype(np.uint8)[..., None]


def upscale(images: np.ndarray, clutter: Clutter) -> np.ndarray:
    """Repeats `(N, h, w)` images `clutter.scale` times along both sides: what `canvas` places.

    At scale 1 the images themselves are returned.
    """
    return images if clutter.scale == 1 else images.repeat(clutter.scale, 1).repeat(clutter.scale, 2)
