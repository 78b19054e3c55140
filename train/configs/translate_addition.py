"""Encoder-decoder GRU with additive attention on the bundled addition problems ("123+4567" -> "4690"); exact match."""

from train.configs import translate_dates_attention


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = translate_dates_attention.get_config()
    c.dataset = "addition"
    c.num_steps = 3000              # carrying is harder to learn than reformatting dates
    c.eval_every = 1000
    c.checkpoint_every = 1000
    return c
