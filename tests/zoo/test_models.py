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
