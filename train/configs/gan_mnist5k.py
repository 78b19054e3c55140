"""DCGAN (WGAN-GP loss) on the grey 28x28 mnist5k digits: Fréchet distance and class coverage.

Both are measured in a LeNet-5's features.
"""

from train.configs import gan_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = gan_digits.get_config()
    c.dataset = "mnist5k"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.binarize = False             # grey levels, as in the course's MNIST GAN
    c.num_samples = 1000
    c.eval_classifier = "lenet5_mnist5k"  # the shipped LeNet-5's features score the samples
    c.num_steps = 3000
    c.eval_every = 0
    c.checkpoint_every = 1000
    return c
