"""Generator of the bundled `cluttered_digits` canvases (after Mnih et al. 2014's cluttered MNIST):
one `digits` image, scaled 2x to 16x16, at a random place on a 40x40 canvas, with `FRAGMENTS`
random 6x6 crops of other digits scattered over it (pixel-wise maximum), so that a classifier must
find the digit among digit-like strokes.
"""

import numpy as np

SIZE, DIGIT, FRAGMENT, FRAGMENTS = 40, 16, 6, 6


def canvas(rng: np.random.Generator, images: np.ndarray, index: int) -> np.ndarray:
    """`(SIZE, SIZE, 1)` uint8: `images[index]` (`images: (N, 8, 8)` in [0, 1]) and its clutter."""
    up = lambda image: np.kron(image, np.ones((2, 2), np.float32))
    out = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(FRAGMENTS):
        source = up(images[rng.integers(len(images))])
        r, c = rng.integers(0, DIGIT - FRAGMENT + 1, size=2)
        top, left = rng.integers(0, SIZE - FRAGMENT + 1, size=2)
        patch = out[top:top + FRAGMENT, left:left + FRAGMENT]
        np.maximum(patch, source[r:r + FRAGMENT, c:c + FRAGMENT], out=patch)
    top, left = rng.integers(0, SIZE - DIGIT + 1, size=2)
    patch = out[top:top + DIGIT, left:left + DIGIT]
    np.maximum(patch, up(images[index]), out=patch)
    return np.round(out * 255).astype(np.uint8)[..., None]
