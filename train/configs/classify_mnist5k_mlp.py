"""LeNet-300-100 (784-300-100-10 MLP) on the bundled mnist5k digits (28x28)."""

import ml_collections

from train.configs import classify_mnist5k


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_mnist5k.get_config()
    c.model = ml_collections.ConfigDict()
    c.model.name = "mlp"           # a key of train.tasks.classification.MODELS (mlp, cnn, lenet5, ...)
    c.model.num_classes = 10       # logits per example
    c.model.features = (300, 100)  # hidden widths (LeNet-300-100)
    c.model.dropout = 0.0          # dropout after every hidden layer
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu
    return c
