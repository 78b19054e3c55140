"""Models only: flax.linen Modules with no hidden state and no training code.

Every model takes `dtype` (compute), `param_dtype` (float32 by default) and an `act`
field, so that `interpret` can swap activations without editing the model.
"""

from zoo.cnn import CNN
from zoo.mlp import MLP
from zoo.resnet import ResNet, ResNetBlock, resnet_cifar

__all__ = ["CNN", "MLP", "ResNet", "ResNetBlock", "resnet_cifar"]
