"""Convolutional VAE on binarized digits: ELBO, importance-weighted test NLL (k = 200), samples."""

from train.configs._common import generative


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = generative("vae", name="vae", latent=8, features=32,
                   likelihood="bernoulli",  # bernoulli (binary data) | gaussian (continuous, fixed sigma)
                   sigma=0.1)               # std of the gaussian likelihood
    c.iwae_samples = 200                    # importance samples per test image for the NLL
    c.num_steps = 4000
    return c
