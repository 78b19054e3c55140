"""MLP 1600-352-128-10 on the full cluttered_digits canvas: the fully connected baseline of ram_cluttered.

It has about ram_cluttered's parameter count (610k vs 620k).
"""

from train.configs import classify_digits_mlp


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits_mlp.get_config()
    c.dataset = "cluttered_digits"  # 40x40 canvases, one digit among clutter
    c.eval_split = "validation"
    c.model.features = (352, 128)   # 1600*352 + 352*128 + 128*10 weights and biases: 610,026 parameters
    c.num_steps = 6000
    c.eval_every = 2000
    c.checkpoint_every = 2000
    return c
