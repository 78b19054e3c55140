"""Generator of the bundled `moving_digits` videos: `digits` images drifting across a frame.

The digit changes at segment boundaries and some frames are corrupted.

A video is `FRAMES` frames of `SIZE x SIZE` pixels. It is cut into segments of at least
`MIN_SEGMENT` frames; each segment shows one digit (scaled 2x to 16x16) that starts at a random
place and drifts with a constant velocity, bouncing off the borders. About `CORRUPT` of the frames
are corrupted, half by an occluder (a mid-grey block hiding the whole digit) and half by heavy
Gaussian noise, so that the frame alone says little and its neighbours must tell.
"""

import numpy as np

FRAMES, SIZE, DIGIT = 16, 32, 16
MIN_SEGMENT = 4
CORRUPT = 0.25
CLEAN, OCCLUDED, NOISED = 0, 1, 2


def _segments(rng: np.random.Generator) -> list[int]:
    """Segment lengths (each >= MIN_SEGMENT) summing to FRAMES: 1 to 3 segments."""
    count = int(rng.integers(1, FRAMES // MIN_SEGMENT))
    spare = FRAMES - count * MIN_SEGMENT
    cuts = np.sort(rng.integers(0, spare + 1, size=count - 1))
    extra = np.diff(np.concatenate([[0], cuts, [spare]]))
    return [MIN_SEGMENT + int(e) for e in extra]


def _path(rng: np.random.Generator, length: int) -> np.ndarray:
    """`(length, 2)` top-left corners drifting at 1 to 2 pixels per frame, bouncing off the borders."""
    room = SIZE - DIGIT
    position = rng.uniform(0, room, size=2)
    velocity = rng.uniform(1, 2, size=2) * rng.choice([-1, 1], size=2)
    corners = []
    for _ in range(length):
        corners.append(np.round(position).astype(int))
        position = position + velocity
        for axis in range(2):
            if not 0 <= position[axis] <= room:
                velocity[axis] = -velocity[axis]
                position[axis] = np.clip(position[axis], 0, room)
    return np.stack(corners)


def video(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray) -> dict:
    """Generates one example video from the `digits` images.

    Args:
        rng: NumPy random generator.
        images: `(N, 8, 8)` float images in [0, 1].
        labels: `(N,)` int labels of `images`.

    Returns:
        A dict with `video: (FRAMES, SIZE, SIZE, 1)` uint8, `label: (FRAMES,)` the digit on each
        frame, and `corruption: (FRAMES,)` int64 CLEAN / OCCLUDED / NOISED.
    """
    frames = np.zeros((FRAMES, SIZE, SIZE), np.float32)
    label = np.zeros(FRAMES, np.int64)
    t = 0
    previous = -1
    for length in _segments(rng):
        pick = int(rng.integers(len(images)))
        while labels[pick] == previous:                     # a boundary always changes the digit
            pick = int(rng.integers(len(images)))
        previous = labels[pick]
        digit = np.kron(images[pick], np.ones((2, 2), np.float32))
        for (r, c) in _path(rng, length):
            frames[t, r:r + DIGIT, c:c + DIGIT] = digit
            label[t] = labels[pick]
            t += 1
    corruption = np.where(rng.random(FRAMES) < CORRUPT, rng.integers(OCCLUDED, NOISED + 1, size=FRAMES), CLEAN)
    for t in np.flatnonzero(corruption == OCCLUDED):
        rows, cols = np.nonzero(frames[t] > 0)
        top, left = max(rows.min() - 2, 0), max(cols.min() - 2, 0)
        frames[t, top:rows.max() + 3, left:cols.max() + 3] = 0.5
    for t in np.flatnonzero(corruption == NOISED):
        frames[t] = frames[t] + rng.normal(0, 1.0, size=(SIZE, SIZE))
    pixels = np.round(np.clip(frames, 0, 1) * 255).astype(np.uint8)
    return {"video": pixels[..., None], "label": label, "corruption": corruption.astype(np.int64)}
