"""GRU sequence classifier (many-to-one) on MNIST-1D (Greydanus 2020 report 91% for a GRU)."""

import ml_collections

from train.configs import classify_mnist1d


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_mnist1d.get_config()
    c.model = ml_collections.ConfigDict()
    c.model.name = "rnn"           # zoo.rnn.ManyToOne: read out at the last step
    c.model.num_classes = 10       # logits per example
    c.model.cell = "gru"           # rnn | lstm | gru
    c.model.features = 128         # hidden units per layer
    c.model.num_layers = 1         # stacked recurrent layers
    c.model.bidirectional = False  # also read the signal backwards
    c.model.dropout = 0.0          # between layers and before the head
    c.model.act = "tanh"           # cell nonlinearity
    c.optimizer.grad_clip_norm = 1.0
    return c
