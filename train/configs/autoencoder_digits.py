"""Convolutional autoencoder on binarized digits; linear probe on its 16-d codes vs PCA and pixels."""

from train.configs._common import generative


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = generative("autoencoder", name="autoencoder", code=16, features=32)
    c.num_steps = 2000
    return c
