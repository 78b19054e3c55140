"""Class saliency as weakly supervised segmentation (Simonyan et al. 2014, Sec. 3.1).

A classifier trained only on image labels still knows where the object is: the most salient
pixels seed the foreground, the least salient the background, and a random-walker segmentation
(Grady 2006, scikit-image) on the image colours grows the seeds into a mask, in place of the
paper's GraphCut. `centre_box` is the baseline that knows nothing about the image.
"""

import warnings

import numpy as np


def saliency_segmentation(images, maps, sigma: float = 2.0, foreground: float = 0.99, background: float = 0.85,
                          beta: float = 130.0) -> np.ndarray:
    """Segment images into foreground masks grown from the seeds of their saliency maps.

    Per image: blur the map (Gaussian, `sigma` pixels), seed the foreground at its `foreground`
    quantile and above and the background at its `background` quantile and below, then label
    the rest by random walks on the image with edge weight `exp(-beta |dI|^2)`. scikit-image
    works on one image at a time on the host, so this is the one method here that loops over
    examples in Python. Defaults were picked by a small sweep on `shapes_captions/single` scenes.

    Args:
        images: `(N, H, W, C)` images.
        maps: `(N, H, W)` saliency maps.
        sigma: the blur of the maps, in pixels.
        foreground: the quantile of the blurred map at and above which pixels seed the foreground.
        background: the quantile at and below which pixels seed the background.
        beta: the random walker's edge sharpness.

    Returns:
        `(N, H, W)` bool foreground masks.

    Raises:
        ValueError: on mismatched shapes, or unless `0 < background < foreground < 1`.
    """
    from skimage.filters import gaussian
    from skimage.segmentation import random_walker

    images, maps = np.asarray(images, np.float64), np.asarray(maps, np.float64)
    if images.ndim != 4 or maps.shape != images.shape[:3]:
        raise ValueError(f"expected images (N, H, W, C) and maps (N, H, W); got {images.shape} and {maps.shape}")
    if not 0 < background < foreground < 1:
        raise ValueError(f"need 0 < background < foreground < 1 (quantiles); got {background}, {foreground}")
    masks = np.zeros(maps.shape, bool)
    for i, (image, saliency) in enumerate(zip(images, maps)):
        smooth = gaussian(saliency, sigma)
        seeds = np.zeros(smooth.shape, np.int32)
        seeds[smooth <= np.quantile(smooth, background)] = 2
        seeds[smooth >= np.quantile(smooth, foreground)] = 1
        with warnings.catch_warnings():  # "the probability range is outside [0, 1]" on flat regions
            warnings.simplefilter("ignore")
            masks[i] = random_walker(image, seeds, beta=beta, channel_axis=-1) == 1
    return masks


def mask_iou(predicted, true) -> np.ndarray:
    """Compute the intersection over union of boolean masks, per example.

    Args:
        predicted: `(N, H, W)` masks.
        true: `(N, H, W)` masks.

    Returns:
        `(N,)` IoU, 1 where both masks are empty.
    """
    predicted, true = np.asarray(predicted, bool), np.asarray(true, bool)
    union = (predicted | true).sum(axis=(1, 2))
    return np.where(union > 0, (predicted & true).sum(axis=(1, 2)) / np.maximum(union, 1), 1.0)


def centre_box(shape: tuple, half: int) -> np.ndarray:
    """Make the bool mask of the square of side `2 half` centred in the image.

    Args:
        shape: `(H, W)`.
        half: the half-side of the square.

    Returns:
        `(H, W)` bool mask.
    """
    h, w = shape
    box = np.zeros(shape, bool)
    box[max(h // 2 - half, 0):h // 2 + half, max(w // 2 - half, 0):w // 2 + half] = True
    return box


def fit_centre_box(masks) -> int:
    """Find the half-side of the centred square with the best mean IoU against `masks: (N, H, W)`.

    Fit it on training masks, then score it on test masks, so the baseline is as strong as it can be.
    """
    masks = np.asarray(masks, bool)
    halves = range(1, min(masks.shape[1:]) // 2 + 1)
    scores = [mask_iou(np.broadcast_to(centre_box(masks.shape[1:], k), masks.shape), masks).mean() for k in halves]
    return halves[int(np.argmax(scores))]
