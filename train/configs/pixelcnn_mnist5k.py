"""Gated PixelCNN on mnist5k/binarized (28x28 bits drawn once): exact test NLL in nats on the 1,000 test digits."""

from train.configs import pixelcnn_digits


def get_config():
    c = pixelcnn_digits.get_config()
    c.dataset = "mnist5k/binarized"
    c.num_samples = 100
    c.num_steps = 2000
    c.eval_every = 1000
    c.checkpoint_every = 1000
    return c
