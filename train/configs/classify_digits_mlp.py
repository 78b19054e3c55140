"""MLP 64-300-100-10 on the bundled digits (LeNet-300-100's shape; the dense model Deep Compression starts from)."""

import ml_collections

from train.configs import classify_digits


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.model = ml_collections.ConfigDict()
    c.model.name = "mlp"           # a key of train.tasks.classification.MODELS (mlp, cnn, lenet5, ...)
    c.model.num_classes = 10       # logits per example
    c.model.features = (300, 100)  # hidden widths (LeNet-300-100)
    c.model.dropout = 0.0          # dropout after every hidden layer
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu
    return c
