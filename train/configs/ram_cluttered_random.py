"""The recurrent attention model's networks with uniform random glimpse locations: the control for ram_cluttered."""

from train.configs import ram_cluttered


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ram_cluttered.get_config()
    c.model.policy = "random"
    return c
