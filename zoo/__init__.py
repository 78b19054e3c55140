"""Models only: flax.linen Modules with no hidden state and no training code.

Every model takes `dtype` (compute), `param_dtype` (float32 by default) and an `act`
field, so that `interpret` can swap activations without editing the model.
"""

from zoo import pretrained
from zoo.autoencoder import VAE, Autoencoder, ConvDecoder, ConvEncoder
from zoo.captioning import AttentionCaptioner, CaptioningRNN, GridClassifier, ImageEncoder
from zoo.decoding import beam_search, decode_in_chunks, greedy_decode, jitted_decoders, model_stepper
from zoo.cnn import CNN
from zoo.draw import DRAW
from zoo.gan import Discriminator, Generator
from zoo.lenet import LeNet5
from zoo.mlp import MLP
from zoo.pixelcnn import GatedPixelCNN, MaskedConv, PixelCNN
from zoo.pixelrnn import PixelRNN, RowLSTM
from zoo.parzen import ParzenParams, parzen_logits, parzen_params
from zoo.rbf import RBFNetwork
from zoo.seq2seq import Seq2Seq
from zoo.ram import RecurrentAttentionModel, glimpse_sensor
from zoo.resnet import ResNet, ResNetBlock, resnet_cifar
from zoo.video import FrameEncoder, FrameLabeller
from zoo.vgg import VGG16, from_torchvision, load_torchvision_vgg16
from zoo.rnn import (GRUCell, LSTMCell, ManyToMany, ManyToOne, OneToMany, Recurrent, RecurrentStack,
                     VanillaRNNCell)

__all__ = ["pretrained", "AttentionCaptioner", "CaptioningRNN", "GridClassifier", "ImageEncoder", "beam_search", "decode_in_chunks", "greedy_decode", "jitted_decoders", "model_stepper", "VAE", "Autoencoder", "DRAW", "ConvDecoder", "ConvEncoder", "Discriminator", "GatedPixelCNN", "Generator",
           "MaskedConv", "PixelCNN", "PixelRNN", "RowLSTM", "CNN", "GRUCell", "LeNet5", "LSTMCell", "MLP", "ManyToMany", "ManyToOne", "OneToMany", "ParzenParams",
           "RBFNetwork", "Recurrent", "RecurrentStack", "ResNet", "ResNetBlock", "RecurrentAttentionModel", "glimpse_sensor", "Seq2Seq", "FrameEncoder", "FrameLabeller", "VGG16", "VanillaRNNCell", "from_torchvision", "load_torchvision_vgg16", "parzen_logits",
           "parzen_params", "resnet_cifar"]
