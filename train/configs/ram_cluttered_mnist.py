"""Recurrent attention model (Mnih et al. 2014) on cluttered_mnist (60x60): 6 glimpses of 12x12 at 3 scales."""

from train.configs import ram_cluttered


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ram_cluttered.get_config()
    c.dataset = "cluttered_mnist"  # 60x60 canvases, one mnist5k digit and four 8x8 fragments
    c.model.patch = 12             # scales of 12, 24 and 48 pixels
    c.num_steps = 6000
    c.eval_every = 2000
    c.checkpoint_every = 2000
    return c
