"""Convolutional VAE on mnist5k/binarized: negative ELBO and importance-weighted NLL (k = 200) in nats.

Both are scored on the 1,000 test digits.
"""

from train.configs import vae_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = vae_digits.get_config()
    c.dataset = "mnist5k/binarized"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.model.latent = 32
    c.model.features = 16          # the transposed convolutions dominate; 32 features took 0.12 s per step
    c.num_samples = 100
    c.num_steps = 3000
    return c
