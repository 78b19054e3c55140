"""Every public module of `zoo` in bfloat16: with `dtype=bfloat16` (and float32 `param_dtype`)
every matrix product and convolution of its forward pass has bfloat16 operands, its parameters
are float32, and its outputs stay within a stated distance of the float32 pass on the same
parameters and inputs."""

import inspect

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from tests.helpers import matmul_operand_dtypes

#: RMS of (bf16 - fp32) over RMS of fp32, per floating-point output. bfloat16 keeps 8 significant
#: bits (relative rounding 2^-9 = 0.2%); measured here: 0.02% to 1.2% (the VAE's logits).
TOLERANCE = 0.03

# inputs from numpy (an eager jax.random draw compiles a program per shape: 0.1-0.5 s each here)
images = lambda shape: np.random.default_rng(7).random(shape, np.float32)
tokens = lambda shape, vocab: np.random.default_rng(8).integers(0, vocab, shape, np.int32)
rng = jax.random.key(9)

#: name -> (module built with float32 compute, forward-pass arguments, keyword arguments)
MODULES = {
    "AttentionCaptioner": (zoo.AttentionCaptioner(11, features=8, embed_dim=8, attention_dim=8, encoder_features=(4, 8)),
                           (images((2, 8, 8, 3)), tokens((2, 5), 11)), {}),
    "CaptioningRNN": (zoo.CaptioningRNN(11, features=8, embed_dim=8, encoder_features=(4, 8)),
                      (images((2, 8, 8, 3)), tokens((2, 5), 11)), {}),
    "GridClassifier": (zoo.GridClassifier(5, encoder_features=(4, 8)), (images((2, 8, 8, 3)),), {}),
    "ImageEncoder": (zoo.ImageEncoder((4, 8)), (images((2, 8, 8, 3)),), {}),
    "VAE": (zoo.VAE((8, 8, 1), latent=2, features=8), (images((2, 8, 8, 1)), rng), {}),
    "Autoencoder": (zoo.Autoencoder((8, 8, 1), code=4, features=8), (images((2, 8, 8, 1)),), {}),
    "DRAW": (zoo.DRAW((8, 8, 1), steps=3, read_n=2, write_n=3, encoder_features=8, decoder_features=8, latent=2),
             (images((2, 8, 8, 1)), rng), {}),
    "ConvDecoder": (zoo.ConvDecoder((8, 8, 1), features=8), (images((2, 4)),), {}),
    "ConvEncoder": (zoo.ConvEncoder(4, features=8), (images((2, 8, 8, 1)),), {}),
    "Discriminator": (zoo.Discriminator(features=8, num_classes=10), (images((2, 8, 8, 1)), tokens((2,), 10)), {}),
    "Generator": (zoo.Generator((8, 8, 1), features=8, num_classes=10), (images((2, 4)), tokens((2,), 10)),
                  {"train": False}),
    "GatedPixelCNN": (zoo.GatedPixelCNN(features=8, layers=3), (images((2, 8, 8, 1)),), {}),
    "MaskedConv": (zoo.MaskedConv(4, (3, 3)), (images((2, 8, 8, 1)),), {}),
    "PixelCNN": (zoo.PixelCNN(features=8, layers=3), (images((2, 8, 8, 1)),), {}),
    "PixelRNN": (zoo.PixelRNN(features=8, hidden=8), (images((2, 8, 8, 1)),), {}),
    "RowLSTM": (zoo.RowLSTM(8), (images((2, 8, 8, 4)),), {}),
    "CNN": (zoo.CNN(features=(4, 8), hidden=16, norm=True), (images((2, 8, 8, 1)),), {}),
    "LeNet5": (zoo.LeNet5(features=(4, 8), hidden=16), (images((2, 28, 28, 1)),), {}),
    "MLP": (zoo.MLP(features=(16,)), (images((2, 8, 8, 1)),), {}),
    "RBFNetwork": (zoo.RBFNetwork(num_centers=8), (images((2, 8, 8, 1)),), {}),
    "ResNet": (zoo.ResNet(blocks_per_stage=1, width=4), (images((2, 8, 8, 3)),), {}),
    "ResNetBlock": (zoo.ResNetBlock(8, strides=2), (images((2, 8, 8, 4)),), {}),
    "VGG16": (zoo.VGG16(include_top=False), (images((1, 32, 32, 3)),), {}),
    "VanillaRNNCell": (zoo.VanillaRNNCell(8), (images((2, 8)), images((2, 3))), {}),
    "GRUCell": (zoo.GRUCell(8), (images((2, 8)), images((2, 3))), {}),
    "LSTMCell": (zoo.LSTMCell(8), ((images((2, 8)), images((2, 8))), images((2, 3))), {}),
    "Recurrent": (zoo.Recurrent(zoo.LSTMCell(8)), (images((2, 5, 3)),), {}),
    "RecurrentStack": (zoo.RecurrentStack(features=8, num_layers=2, bidirectional=True), (images((2, 5, 3)),), {}),
    "ManyToOne": (zoo.ManyToOne(4, features=8, vocab_size=11, embed_dim=4), (tokens((2, 5), 11),), {}),
    "ManyToMany": (zoo.ManyToMany(4, features=8), (images((2, 5, 3)),), {}),
    "OneToMany": (zoo.OneToMany(11, features=8, embed_dim=4), (images((2, 6)), tokens((2, 5), 11)), {}),
    "RecurrentAttentionModel": (zoo.RecurrentAttentionModel(glimpses=3, patch=4, scales=2, glimpse_hidden=8, features=8),
                                (images((2, 16, 16, 1)), images((2, 3, 2))), {}),
    "Seq2Seq": (zoo.Seq2Seq(10, 7, features=8, embed_dim=4, attention_dim=8), (tokens((2, 6), 10), tokens((2, 4), 7)), {}),
    "FrameEncoder": (zoo.FrameEncoder(features=(4,), hidden=8), (images((2, 8, 8, 1)),), {}),
    "FrameLabeller": (zoo.FrameLabeller(features=(4,), hidden=8), (images((2, 5, 8, 8, 1)),), {}),
}


def in_bf16(module: nn.Module) -> nn.Module:
    if isinstance(module, zoo.Recurrent):  # takes its precision from its cell
        return module.clone(cell=module.cell.clone(dtype=jnp.bfloat16))
    return module.clone(dtype=jnp.bfloat16)


def test_every_public_module_is_covered():
    modules = {name for name in zoo.__all__
               if inspect.isclass(getattr(zoo, name)) and issubclass(getattr(zoo, name), nn.Module)}
    assert modules == set(MODULES)


def lecun_normal_like(shapes, seed=0):
    """Parameters of the given shapes drawn outside the model (its own initializers would cost a
    compile each): N(0, 1/fan_in) for kernels and tables, U(0.5, 1.5) for vectors (biases,
    scales, running variances must stay positive)."""
    rs = np.random.default_rng(seed)
    draw = lambda s: (rs.standard_normal(s.shape) / np.sqrt(np.prod(s.shape[:-1])) if len(s.shape) > 1
                      else rs.uniform(0.5, 1.5, s.shape))
    return jax.tree.map(lambda s: jnp.asarray(draw(s), s.dtype), shapes)


#: compile for one run, not for speed (about 30% less compile time than the default level here)
RUN_ONCE = {"xla_backend_optimization_level": 0}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_bf16_forward_pass_computes_in_bf16_with_float32_parameters(name):
    module, args, kwargs = MODULES[name]
    shapes = jax.eval_shape(lambda: in_bf16(module).init(jax.random.key(0), *args, **kwargs))
    assert {str(x.dtype) for x in jax.tree.leaves(shapes["params"])} == {"float32"}
    variables = lecun_normal_like(shapes)

    outputs, products = {}, {}
    for dtype, model in (("float32", module), ("bfloat16", in_bf16(module))):
        traced = jax.jit(lambda variables, *args: model.apply(variables, *args, **kwargs)).trace(variables, *args)
        products[dtype] = matmul_operand_dtypes(traced.jaxpr.jaxpr)
        outputs[dtype] = traced.lower().compile(compiler_options=RUN_ONCE)(variables, *args)
    assert products == {"float32": {"float32"}, "bfloat16": {"bfloat16"}}  # every product and convolution

    for a, b in zip(jax.tree.leaves(outputs["float32"]), jax.tree.leaves(outputs["bfloat16"])):
        if jnp.issubdtype(a.dtype, jnp.floating):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            assert np.sqrt(np.mean((b - a) ** 2)) <= TOLERANCE * np.sqrt(np.mean(a ** 2)) + 1e-6
