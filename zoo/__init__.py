"""Models only: flax.linen Modules with no hidden state and no training code.

Every model takes `dtype` (compute), `param_dtype` (float32 by default) and an `act`
field, so that `interpret` can swap activations without editing the model.
"""

from zoo.cnn import CNN
from zoo.mlp import MLP
from zoo.parzen import ParzenParams, parzen_logits, parzen_params
from zoo.rbf import RBFNetwork
from zoo.resnet import ResNet, ResNetBlock, resnet_cifar
from zoo.rnn import (GRUCell, LSTMCell, ManyToMany, ManyToOne, OneToMany, Recurrent, RecurrentStack,
                     VanillaRNNCell)

__all__ = ["CNN", "GRUCell", "LSTMCell", "MLP", "ManyToMany", "ManyToOne", "OneToMany", "ParzenParams",
           "RBFNetwork", "Recurrent", "RecurrentStack", "ResNet", "ResNetBlock", "VanillaRNNCell", "parzen_logits",
           "parzen_params", "resnet_cifar"]
