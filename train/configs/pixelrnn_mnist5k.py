"""PixelRNN (Row LSTM) on mnist5k/binarized (28x28 bits drawn once): exact test NLL in nats on the 1,000 test digits."""

from train.configs import pixelrnn_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = pixelrnn_digits.get_config()
    c.dataset = "mnist5k/binarized"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.batch_size = 32
    c.num_samples = 100
    c.num_steps = 1500
    c.eval_every = 500
    c.checkpoint_every = 500
    return c
