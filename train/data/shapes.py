"""Procedural scenes for `shapes_captions`: coloured shapes on a light background, masks and captions.

The captions come from a small grammar that names the objects and their spatial relations.

`render_scene(rng, num_objects)` draws one 64x64 RGB scene; `captions(objects)` writes its
reference captions. Pure numpy and deterministic given the generator, so the TFDS builder in
`train.data.bundled` and the tests share it.
"""

from typing import NamedTuple

import numpy as np

SIZE = 64
MAX_OBJECTS = 3
SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (214, 39, 40), "green": (44, 160, 44), "blue": (31, 90, 200), "yellow": (230, 200, 20),
           "purple": (148, 70, 190), "orange": (245, 127, 14)}
COLOUR_NAMES = tuple(COLOURS)
SIZE_NAMES = ("small", "large")
RADII = (6, 10)  # half-extent in pixels of a small and a large object
REFERENCES = 5


class SceneObject(NamedTuple):
    """One object of a scene.

    Attributes:
        shape: Index into `SHAPES`.
        colour: Index into `COLOUR_NAMES`.
        size: Index into `SIZE_NAMES`.
        row: Row of the centre, in pixels.
        col: Column of the centre, in pixels.
    """

    shape: int    # index into SHAPES
    colour: int   # index into COLOUR_NAMES
    size: int     # index into SIZE_NAMES
    row: int      # centre
    col: int


class Scene(NamedTuple):
    """A rendered scene.

    Attributes:
        image: `(64, 64, 3)` uint8 RGB image.
        segmentation: `(64, 64)` uint8 mask, 0 for background and `k` for object `k - 1`.
        objects: The `SceneObject` list in the order captions name them (left to right).
    """

    image: np.ndarray
    segmentation: np.ndarray
    objects: list


_ROWS, _COLS = np.mgrid[:SIZE, :SIZE]  # each pixel's row and column, made once (read only)
_ROWS.flags.writeable = _COLS.flags.writeable = False


def shape_mask(shape: int, radius: int, row: int, col: int) -> np.ndarray:
    """Draws the `(64, 64)` bool mask of a circle, square or upward triangle of half-extent `radius`.

    Args:
        shape: Index into `SHAPES`.
        radius: Half-extent in pixels.
        row: Row of the centre.
        col: Column of the centre.

    Returns:
        A `(64, 64)` bool array.
    """
    dy, dx = _ROWS - row, _COLS - col
    if SHAPES[shape] == "circle":
        return dy ** 2 + dx ** 2 <= radius ** 2
    if SHAPES[shape] == "square":
        side = 0.85 * radius
        return (np.abs(dy) <= side) & (np.abs(dx) <= side)
    # triangle: apex at the top, base at the bottom, half-width growing linearly downwards
    return (dy >= -radius) & (dy <= radius) & (np.abs(dx) <= (dy + radius) * 0.55)


def _background(rng) -> np.ndarray:
    """A light grey background, plain or with faint diagonal stripes or a gentle gradient."""
    base = rng.uniform(200, 240) + rng.uniform(-8, 8, size=3)
    rr, cc = _ROWS, _COLS
    kind = rng.integers(3)
    if kind == 1:
        pattern = 6 * np.sin((rr + cc) * rng.uniform(0.3, 0.8))
    elif kind == 2:
        pattern = 12 * (rr * np.cos(a := rng.uniform(0, 2 * np.pi)) + cc * np.sin(a)) / SIZE
    else:
        pattern = np.zeros((SIZE, SIZE))
    return base[None, None, :] + pattern[..., None]


def render_scene(rng: np.random.Generator, num_objects: int) -> Scene:
    """Renders one scene with `num_objects` (1 to 3) non-overlapping objects at random positions.

    Args:
        rng: NumPy random generator.
        num_objects: Number of objects, 1 to `MAX_OBJECTS`.

    Returns:
        A `Scene`.

    Raises:
        ValueError: If `num_objects` is not in 1 to `MAX_OBJECTS`.
    """
    if not 1 <= num_objects <= MAX_OBJECTS:
        raise ValueError(f"num_objects must be in 1..{MAX_OBJECTS}; got {num_objects}")
    image = _background(rng)
    objects, masks, taken = [], [], np.zeros((SIZE, SIZE), bool)
    while len(objects) < num_objects:
        shape, size, colour = int(rng.integers(len(SHAPES))), int(rng.integers(2)), int(rng.integers(len(COLOURS)))
        r = RADII[size]
        row, col = (int(v) for v in rng.integers(r + 1, SIZE - r - 1, size=2))
        margin = shape_mask(0, r + 3, row, col)  # a disc around the object, so objects never touch
        if (margin & taken).any():
            continue
        taken |= margin
        objects.append(SceneObject(shape, colour, size, row, col))
        masks.append(shape_mask(shape, r, row, col))
    order = np.argsort([o.col for o in objects], kind="stable")
    segmentation = np.zeros((SIZE, SIZE), np.uint8)
    for k, i in enumerate(order):
        image[masks[i]] = np.asarray(COLOURS[COLOUR_NAMES[objects[i].colour]], np.float64) + rng.uniform(-12, 12)
        segmentation[masks[i]] = k + 1
    return Scene(np.clip(np.round(image), 0, 255).astype(np.uint8), segmentation, [objects[i] for i in order])


def _phrase(o: SceneObject, with_size: bool) -> str:
    words = ([SIZE_NAMES[o.size]] if with_size else []) + [COLOUR_NAMES[o.colour], SHAPES[o.shape]]
    return ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)


def _relation(a: SceneObject, b: SceneObject) -> tuple[str, str]:
    """How `a` stands to `b`, and the converse: by the larger of the horizontal and vertical offsets."""
    dy, dx = b.row - a.row, b.col - a.col
    if abs(dx) >= abs(dy):
        return ("to the left of", "to the right of") if dx > 0 else ("to the right of", "to the left of")
    return ("above", "below") if dy > 0 else ("below", "above")


def _where(o: SceneObject) -> str:
    vertical = "top" if o.row < SIZE / 3 else "bottom" if o.row > 2 * SIZE / 3 else ""
    horizontal = "left" if o.col < SIZE / 3 else "right" if o.col > 2 * SIZE / 3 else ""
    return "in the " + (f"{vertical} {horizontal}".strip() or "middle")


def captions(objects: list, rng: np.random.Generator, count: int = REFERENCES) -> list[str]:
    """Writes `count` distinct-where-possible reference captions for a scene's objects.

    Captions use noun phrases "a [size] colour shape", a location for a single object, spatial
    relations ("to the left of", "to the right of", "above", "below") between neighbours, and "and"
    lists.

    Args:
        objects: The scene's `SceneObject` list, left to right (as in `Scene.objects`).
        rng: NumPy random generator.
        count: Number of captions.

    Returns:
        A list of `count` caption strings.
    """
    n = len(objects)
    if n == 1:
        o = objects[0]
        pool = [_phrase(o, True), _phrase(o, False), f"{_phrase(o, True)} {_where(o)}",
                f"{_phrase(o, False)} {_where(o)}", f"there is {_phrase(o, True)} {_where(o)}"]
    elif n == 2:
        a, b = objects
        ab, ba = _relation(a, b)
        pool = [f"{_phrase(a, True)} {ab} {_phrase(b, True)}", f"{_phrase(b, True)} {ba} {_phrase(a, True)}",
                f"{_phrase(a, False)} {ab} {_phrase(b, False)}", f"{_phrase(b, False)} {ba} {_phrase(a, False)}",
                f"{_phrase(a, True)} and {_phrase(b, True)}"]
    else:
        a, b, c = objects
        ab, _ = _relation(a, b)
        bc, _ = _relation(b, c)
        pool = [f"{_phrase(a, True)} {ab} {_phrase(b, True)} and {_phrase(c, True)}",
                f"{_phrase(a, False)} {ab} {_phrase(b, False)} and {_phrase(c, False)}",
                f"{_phrase(b, True)} {bc} {_phrase(c, True)} and {_phrase(a, True)}",
                f"{_phrase(a, True)} , {_phrase(b, True)} and {_phrase(c, True)}",
                f"{_phrase(a, False)} , {_phrase(b, False)} and {_phrase(c, False)}"]
    picks = rng.permutation(len(pool))[:count] if count <= len(pool) else rng.integers(len(pool), size=count)
    return [pool[i] for i in picks]
