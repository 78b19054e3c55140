"""MLP 3600-256-128-10 on the whole cluttered_mnist canvas: the fully connected baseline of ram_cluttered_mnist."""

from train.configs import classify_cluttered_mlp


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_cluttered_mlp.get_config()
    c.dataset = "cluttered_mnist"
    c.model.features = (256, 128)
    return c
