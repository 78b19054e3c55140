"""CNN on the whole cluttered_mnist canvas: the convolutional baseline of ram_cluttered_mnist.

It has two stages of two 3x3 convolutions, 16 and 32 channels.
"""

from train.configs import classify_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.dataset = "cluttered_mnist"  # 60x60 canvases, one mnist5k digit among 8x8 fragments
    c.eval_split = "validation"
    c.model.features = (16, 32)    # 60 -> 30 -> 15 pixels; 15*15*32 features into the dense layer
    c.augment.crop_padding = 0     # the digit is already at a random place
    c.num_steps = 3000
    c.eval_every = 1000
    c.checkpoint_every = 1000
    return c
