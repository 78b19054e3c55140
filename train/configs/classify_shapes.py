"""CNN naming the one shape in a shapes_captions/single scene (circle, square, triangle)."""

from train.configs import classify_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.dataset = "shapes_captions/single"  # one object per 64x64 scene; label = its shape
    c.num_steps = 300
    c.eval_every = 100
    c.checkpoint_every = 100
    c.model.num_classes = 3
    c.model.features = (16, 32, 64)       # three stages: 64 -> 32 -> 16 pixels
    c.model.hidden = 64
    c.augment.crop_padding = 2
    c.augment.flip = True                 # circles, squares and upward triangles survive a left-right mirror
    return c
