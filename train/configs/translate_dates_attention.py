"""Encoder-decoder GRU with additive attention (Bahdanau et al. 2015) on the bundled dates; exact match, alignments."""

from train.configs import translate_dates


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = translate_dates.get_config()
    c.model.attention = True
    return c
