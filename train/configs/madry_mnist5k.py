"""Madry et al. 2018's MNIST network, PGD-trained (eps 0.3, 7 steps of 0.1) on the bundled mnist5k digits.

The network: two 5x5 SAME convolutions of 32 and 64 channels, each with ReLU and 2x2 max-pooling,
1,024 hidden units. The `pgd_madry` reproduction attacks it; `zoo.pretrained` ships it as
`madry_cnn_mnist5k`.
"""

import ml_collections

from train.configs import classify_mnist5k


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_mnist5k.get_config()
    c.model.features = (32, 64)    # Madry et al.'s channels
    c.model.hidden = 1024          # and dense width
    c.model.padding = "SAME"
    c.model.act_last = True        # ReLU after the second convolution too
    c.augment.crop_padding = 0     # no translation: the paper trains on the plain digits
    c.adversarial.method = "pgd"   # every training batch is replaced by its PGD examples
    c.adversarial.eps = 0.3        # the paper's L-infinity budget on MNIST
    c.adversarial.steps = 7        # fewer than the paper's 40 PGD steps per batch, for 2 cores
    c.adversarial.step_size = 0.1
    return c
