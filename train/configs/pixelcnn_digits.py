"""Gated PixelCNN on binarized digits: exact test NLL (nats, bits/dim), sequential sampling."""

from train.configs._common import generative


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = generative("autoregressive", name="gated_pixelcnn",  # pixelcnn | gated_pixelcnn | pixelrnn
                   levels=2, features=48, layers=6, first_kernel=7,
                   dropout=0.2)                # on the gated activations: ~1,400 training images overfit without it
    c.num_steps = 1500
    c.eval_every = 250
    return c
