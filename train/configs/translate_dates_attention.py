"""Encoder-decoder GRU with additive attention (Bahdanau et al. 2015) on the bundled dates; exact match and alignments."""

from train.configs import translate_dates


def get_config():
    c = translate_dates.get_config()
    c.model.attention = True
    return c
