"""DCGAN with the WGAN-GP loss on binarized digits (or non-saturating / LSGAN): Fréchet distance, class coverage."""

import ml_collections

from train.configs._common import generative, optimizer


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = generative("gan", name="dcgan", features=64, num_classes=10)
    c.gan = ml_collections.ConfigDict()
    c.gan.loss = "wgan_gp"         # wgan_gp | ns (non-saturating) | lsgan; on binary images ns collapsed to one class
    c.gan.penalty = 10.0           # WGAN-GP gradient-penalty weight
    c.gan.latent = 32              # noise dimensions
    c.gan.conditional = False      # class-conditional generator and discriminator (labels needed)
    c.num_steps = 3000
    c.eval_every = 500
    # Two time-scale updates (Heusel et al. 2017): the critic learns 3x faster than the generator.
    c.optimizer = optimizer(learning_rate=1e-4, schedule="constant", b1=0.5, b2=0.9)                # generator
    c.discriminator_optimizer = optimizer(learning_rate=3e-4, schedule="constant", b1=0.5, b2=0.9)  # critic
    return c
