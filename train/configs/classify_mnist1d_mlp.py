"""MLP 40-100-100-10 on MNIST-1D (Greydanus 2020 report 68% for an MLP: the signals' shifts defeat it)."""

import ml_collections

from train.configs import classify_mnist1d


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_mnist1d.get_config()
    c.model = ml_collections.ConfigDict()
    c.model.name = "mlp"           # a key of train.tasks.classification.MODELS (mlp, cnn, lenet5, ...)
    c.model.num_classes = 10       # logits per example
    c.model.features = (100, 100)  # hidden widths
    c.model.dropout = 0.0          # dropout after every hidden layer
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu
    return c
