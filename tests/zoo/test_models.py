import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from train.state import init_variables


def n_params(params):
    return sum(x.size for x in jax.tree.leaves(params))


@pytest.mark.parametrize("model, shape", [
    (zoo.MLP(features=(16,)), (2, 8, 8, 1)),
    (zoo.CNN(features=(8, 16)), (2, 8, 8, 1)),
    (zoo.CNN(features=(8, 16), kernel_size=(5,)), (2, 40, 1)),
    (zoo.CNN(features=(8,), norm=True), (2, 8, 8, 1)),
    (zoo.resnet_cifar(8, width=4), (2, 32, 32, 3)),
])
def test_logits_shape_and_param_dtype(model, shape):
    variables = init_variables(model, jax.random.key(0), jnp.zeros(shape))
    out = model.apply(variables, jnp.zeros(shape))
    assert out.shape == (2, 10)
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables["params"]))


def test_bfloat16_compute_keeps_float32_params():
    model = zoo.CNN(features=(8,), dtype=jnp.bfloat16)
    variables = init_variables(model, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
    assert model.apply(variables, jnp.zeros((1, 8, 8, 1))).dtype == jnp.bfloat16
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables["params"]))


def test_resnet20_has_paper_parameter_count():
    # He et al. (2016), Table 6: ResNet-20 has 0.27M parameters (ours adds 1x1 projections).
    variables = jax.eval_shape(zoo.resnet_cifar(20).init, jax.random.key(0), jnp.zeros((1, 32, 32, 3)))
    assert 0.26e6 < n_params(variables["params"]) < 0.29e6
    assert [k for k in variables["params"] if k.startswith("stage")] == \
        [f"stage{s}_block{b}" for s in range(3) for b in range(3)]


@pytest.mark.parametrize("depth", [7, 21, 2])
def test_resnet_rejects_depths_not_6n_plus_2(depth):
    with pytest.raises(ValueError, match="6n \\+ 2"):
        zoo.resnet_cifar(depth)


def test_cnn_rank_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="expects inputs of rank 4"):
        init_variables(zoo.CNN(), jax.random.key(0), jnp.zeros((1, 40, 1)))


def test_act_field_is_used_everywhere():
    """Swapping `act` for the zero function leaves only the head bias: every input maps to it."""
    model = zoo.CNN(features=(8,), act=lambda x: jnp.zeros_like(x))
    x = jax.random.uniform(jax.random.key(1), (3, 8, 8, 1))
    variables = init_variables(model, jax.random.key(0), x)
    out = model.apply(variables, x)
    np.testing.assert_allclose(out, jnp.broadcast_to(variables["params"]["head"]["bias"], out.shape))


def test_resnet_block_starts_as_identity():
    """bn2's scale is zero-initialized, so a block without projection computes relu(x)."""
    block = zoo.ResNetBlock(4)
    x = jax.random.normal(jax.random.key(0), (2, 8, 8, 4))
    variables = init_variables(block, jax.random.key(1), x)
    np.testing.assert_allclose(block.apply(variables, x), nn.relu(x), atol=1e-6)


def test_batchnorm_train_mode_updates_statistics():
    model = zoo.CNN(features=(4,), norm=True)
    x = jax.random.uniform(jax.random.key(0), (4, 8, 8, 1))
    variables = init_variables(model, jax.random.key(1), x)
    _, updates = model.apply(variables, x, train=True, mutable=["batch_stats"])
    before, after = variables["batch_stats"]["bn0_0"]["mean"], updates["batch_stats"]["bn0_0"]["mean"]
    assert not np.allclose(before, after)


def test_lenet5_has_the_caffe_lenet_weight_count():
    # Caffe's LeNet (Han et al. 2016, Table 1: 431K weights): 5x5x1x20 and 5x5x20x50 convolutions, a
    # 4*4*50 -> 500 dense layer and a 500 -> 10 head, with biases
    expected = (25 * 20 + 20) + (25 * 20 * 50 + 50) + (800 * 500 + 500) + (500 * 10 + 10)
    variables = init_variables(zoo.LeNet5(), jax.random.key(0), jnp.zeros((1, 28, 28, 1)))
    assert sum(p.size for p in jax.tree.leaves(variables)) == expected == 431_080
    assert zoo.LeNet5().apply(variables, jnp.zeros((3, 28, 28, 1))).shape == (3, 10)


def _conv(x, w, b=None, padding="SAME"):
    """NHWC / HWIO cross-correlation by `lax.conv_general_dilated`, the reference for `nn.Conv`."""
    y = jax.lax.conv_general_dilated(x, w, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y if b is None else y + b.reshape(1, 1, 1, -1)


def _pool(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def test_mlp_fields_against_a_hand_built_forward_pass_and_parameter_count():
    """MLP(features=(5, 3), act=tanh, num_classes=4) on 2x3 inputs: flatten, two tanh dense layers and a head
    in NumPy; (6 5 + 5) + (5 3 + 3) + (3 4 + 4) parameters. Dropout 1.0 in training drops every hidden unit, so
    only the head bias is left; in evaluation dropout is off."""
    model = zoo.MLP(num_classes=4, features=(5, 3), act=jnp.tanh, dropout=1.0)
    x = np.random.default_rng(0).standard_normal((2, 2, 3)).astype(np.float32)
    variables = init_variables(model, jax.random.key(0), x)
    p = jax.tree.map(np.asarray, variables["params"])
    assert n_params(p) == (6 * 5 + 5) + (5 * 3 + 3) + (3 * 4 + 4)
    h = x.reshape(2, 6)
    for name in ("dense0", "dense1"):
        h = np.tanh(h @ p[name]["kernel"] + p[name]["bias"])
    np.testing.assert_allclose(model.apply(variables, x), h @ p["head"]["kernel"] + p["head"]["bias"], rtol=1e-5,
                               atol=1e-6)
    dropped = model.apply(variables, x, train=True, rngs={"dropout": jax.random.key(1)})
    np.testing.assert_allclose(dropped, np.broadcast_to(p["head"]["bias"], (2, 4)), atol=1e-6)


@pytest.mark.parametrize("norm", [False, True])
def test_cnn_fields_against_lax_conv_and_parameter_count(norm):
    """CNN(features=(2, 3), convs_per_stage=1, hidden=5, act=tanh) on 4x4x1 images, built from
    `lax.conv_general_dilated` (SAME), a 2x2 max pool after the first stage, a spatial mean, a tanh dense layer
    and the head. Parameters: (9 1 2 + 2) + (9 2 3 + 3) + (3 5 + 5) + (5 10 + 10); `norm=True` drops the conv
    biases and adds a BatchNorm scale and bias per channel (inference statistics: mean 0, variance 1)."""
    model = zoo.CNN(features=(2, 3), convs_per_stage=1, hidden=5, act=jnp.tanh, norm=norm)
    x = jnp.asarray(np.random.default_rng(1).uniform(size=(2, 4, 4, 1)), jnp.float32)
    variables = init_variables(model, jax.random.key(0), x)
    p = variables["params"]
    convs = (9 * 1 * 2 + 9 * 2 * 3) + (0 if norm else 2 + 3) + (2 * (2 + 3) if norm else 0)
    assert n_params(p) == convs + (3 * 5 + 5) + (5 * 10 + 10)
    h = x
    for s in range(2):
        h = _conv(h, p[f"conv{s}_0"]["kernel"], None if norm else p[f"conv{s}_0"]["bias"])
        if norm:
            bn = p[f"bn{s}_0"]
            h = h / jnp.sqrt(1.0 + 1e-5) * bn["scale"].reshape(1, 1, 1, -1) + bn["bias"].reshape(1, 1, 1, -1)
        h = jnp.tanh(h)
        h = _pool(h) if s == 0 else h
    h = jnp.tanh(h.mean((1, 2)) @ p["dense"]["kernel"] + p["dense"]["bias"][None])
    np.testing.assert_allclose(model.apply(variables, x), h @ p["head"]["kernel"] + p["head"]["bias"][None],
                               rtol=1e-4, atol=1e-5)


def test_lenet5_fields_against_lax_conv_with_valid_padding_and_no_activation_after_the_last_pool():
    """LeNet5(features=(2, 3), kernel_size=3, hidden=5, act=tanh) on 10x10 images: VALID 3x3 conv -> 8x8,
    pool -> 4x4, tanh, conv -> 2x2, pool -> 1x1 (no activation), flatten 3, tanh dense 5, head."""
    model = zoo.LeNet5(features=(2, 3), kernel_size=3, hidden=5, act=jnp.tanh)
    x = jnp.asarray(np.random.default_rng(2).uniform(size=(2, 10, 10, 1)), jnp.float32)
    variables = init_variables(model, jax.random.key(0), x)
    p = variables["params"]
    assert n_params(p) == (9 * 1 * 2 + 2) + (9 * 2 * 3 + 3) + (3 * 5 + 5) + (5 * 10 + 10)
    h = jnp.tanh(_pool(_conv(x, p["conv0"]["kernel"], p["conv0"]["bias"], "VALID")))
    h = _pool(_conv(h, p["conv1"]["kernel"], p["conv1"]["bias"], "VALID")).reshape(2, -1)
    h = jnp.tanh(h @ p["dense"]["kernel"] + p["dense"]["bias"][None])
    np.testing.assert_allclose(model.apply(variables, x), h @ p["head"]["kernel"] + p["head"]["bias"][None],
                               rtol=1e-4, atol=1e-5)


def test_lenet5_as_madrys_network_same_padding_and_an_activation_after_the_last_pool():
    """The MNIST network of Madry et al. 2018 (MadryLab/mnist_challenge): SAME 5x5 convolutions of 32
    and 64 channels with ReLU and 2x2 pooling (28 -> 14 -> 7), 7*7*64 -> 1,024 -> 10; and the same
    fields on small images against lax: SAME 3x3 conv keeps 6x6, pool 3x3, tanh, conv, pool 1x1, tanh."""
    madry = zoo.LeNet5(features=(32, 64), hidden=1024, padding="SAME", act_last=True)
    variables = init_variables(madry, jax.random.key(0), jnp.zeros((1, 28, 28, 1)))
    assert n_params(variables) == (25 * 32 + 32) + (25 * 32 * 64 + 64) + (7 * 7 * 64 * 1024 + 1024) + (1024 * 10 + 10)
    model = zoo.LeNet5(features=(2, 3), kernel_size=3, hidden=5, act=jnp.tanh, padding="SAME", act_last=True)
    x = jnp.asarray(np.random.default_rng(3).uniform(size=(2, 6, 6, 1)), jnp.float32)
    p = init_variables(model, jax.random.key(1), x)["params"]
    h = jnp.tanh(_pool(_conv(x, p["conv0"]["kernel"], p["conv0"]["bias"], "SAME")))
    h = jnp.tanh(_pool(_conv(h, p["conv1"]["kernel"], p["conv1"]["bias"], "SAME"))).reshape(2, -1)
    h = jnp.tanh(h @ p["dense"]["kernel"] + p["dense"]["bias"][None])
    np.testing.assert_allclose(model.apply({"params": p}, x), h @ p["head"]["kernel"] + p["head"]["bias"][None],
                               rtol=1e-4, atol=1e-5)


def test_resnet_width_and_blocks_per_stage_set_the_parameter_count():
    """ResNet-8 of width 4 by hand: a stem, one block per stage (the last two with 1x1 projections), BatchNorm
    scale and bias per channel, and the head; ResNet-14 adds one block per stage without projection."""
    bn = lambda c: 2 * c
    stem = 27 * 4 + bn(4)
    plain = lambda c: 2 * (9 * c * c + bn(c))
    down = lambda i, o: 9 * i * o + bn(o) + 9 * o * o + bn(o) + i * o + bn(o)
    resnet8 = stem + plain(4) + down(4, 8) + down(8, 16) + (16 * 10 + 10)
    count = lambda m: n_params(jax.eval_shape(m.init, jax.random.key(0), jnp.zeros((1, 32, 32, 3)))["params"])
    assert count(zoo.resnet_cifar(8, width=4)) == resnet8
    assert count(zoo.resnet_cifar(14, width=4)) == resnet8 + plain(4) + plain(8) + plain(16)
