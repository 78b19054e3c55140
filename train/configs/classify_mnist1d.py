"""1-d CNN on the bundled MNIST-1D signals (Greydanus 2020 report 94% for a CNN)."""

from train.configs import classify_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.dataset = "mnist1d"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.input_key = "signal"
    c.batch_size = 100
    c.num_steps = 3000
    c.eval_every = 1000
    c.checkpoint_every = 1000
    c.model.features = (32, 64, 128)
    c.model.kernel_size = (5,)
    c.augment.crop_padding = 0
    return c
