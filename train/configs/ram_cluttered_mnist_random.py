"""ram_cluttered_mnist's networks with uniform random glimpse locations: its control."""

from train.configs import ram_cluttered_mnist


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ram_cluttered_mnist.get_config()
    c.model.policy = "random"
    return c
