"""DRAW (Gregor et al. 2015) drawing binarized digits in 8 steps; the variational bound in nats.

DRAW is a recurrent VAE with Gaussian read/write attention.
"""

from train.configs._common import generative


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = generative("draw", steps=8,            # canvas updates
                   read_n=4, write_n=5,        # attention grid sides (N x N Gaussian filters)
                   encoder_features=128, decoder_features=128,
                   latent=8,                   # z per step
                   attention=True)             # False: read the whole image, write with a dense layer
    c.num_steps = 4000
    return c
