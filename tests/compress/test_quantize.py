"""Quantization: the integer grid, per-channel scales and the straight-through gradient; int8
post-training quantization and 4-bit QAT of the digits CNN against its float accuracy; the
int8 x int8 -> int32 matmul path against the fake-quantized one."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress.quantize import (calibrate, fake_quant, fake_quant_apply, int8_matmul, integer_apply, quantize,
                               quantize_weights, quantized_apply, symmetric_scale)
from train.state import init_variables


def test_quantize_rounds_to_the_symmetric_grid_and_clips():
    x = jnp.array([-3.0, -0.26, 0.0, 0.24, 0.26, 5.0])
    np.testing.assert_array_equal(quantize(x, bits=4, scale=0.5), [-6, -1, 0, 0, 1, 7])  # 4 bits: |q| <= 7


def test_per_channel_scales_and_the_straight_through_gradient():
    w = jnp.array([[1.0, -10.0], [-0.5, 5.0]])
    np.testing.assert_allclose(symmetric_scale(w, 8, axis=-1), [[1 / 127, 10 / 127]], rtol=1e-6)
    q = quantize_weights({"kernel": w, "bias": jnp.array([0.123])}, bits=2)
    np.testing.assert_allclose(q["kernel"], [[1.0, -10.0], [0.0, 0.0]])  # 2 bits: {-1, 0, 1} x scale; 0.5 rounds to even
    assert float(q["bias"][0]) == pytest.approx(0.123)
    grad = jax.grad(lambda x: jnp.sum(fake_quant(x, 4, 0.5) * jnp.arange(3.0)))(jnp.array([0.1, 0.7, 1.3]))
    np.testing.assert_allclose(grad, [0.0, 1.0, 2.0])


@pytest.fixture(scope="module")
def digits_cnn(shipped):
    from train import data

    task, state = shipped("cnn_digits")
    return task.logits, state.variables(), data.load("digits", "train"), data.load("digits", "test")


def accuracy(logits, labels):
    return float((np.asarray(logits).argmax(-1) == labels).mean())


@pytest.mark.slow
def test_int8_post_training_quantization_loses_at_most_half_a_point(digits_cnn):
    apply_fn, variables, train, test = digits_cnn
    ranges = calibrate(apply_fn, variables, [train["image"][i:i + 256] for i in range(0, 1024, 256)])
    assert len(ranges) >= 4  # every conv and dense layer was seen
    float_acc = accuracy(apply_fn(variables, test["image"]), test["label"])
    int8_acc = accuracy(quantized_apply(apply_fn, variables, test["image"], ranges, bits=8), test["label"])
    assert int8_acc >= float_acc - 0.005, (float_acc, int8_acc)


@pytest.mark.slow
def test_four_bit_quantization_aware_training_loses_at_most_one_point(digits_cnn):
    apply_fn, variables, train, test = digits_cnn
    float_acc = accuracy(apply_fn(variables, test["image"]), test["label"])
    tx = optax.adam(1e-4)  # fine-tuning a converged model: a twentieth of the recipe's peak rate (2e-3)

    def loss(params, x, y):
        logits = fake_quant_apply(apply_fn, dict(variables, params=params), x, bits=4)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def step(params, opt, x, y):
        grads = jax.grad(loss)(params, x, y)
        updates, opt = tx.update(grads, opt)
        return optax.apply_updates(params, updates), opt

    params, opt = variables["params"], tx.init(variables["params"])
    rng = np.random.default_rng(0)
    for _ in range(300):
        idx = rng.integers(0, len(train["label"]), 64)
        params, opt = step(params, opt, train["image"][idx], train["label"][idx])
    qat_acc = accuracy(fake_quant_apply(apply_fn, dict(variables, params=params), test["image"], bits=4),
                       test["label"])
    assert qat_acc >= float_acc - 0.01, (float_acc, qat_acc)


def test_int8_matmul_accumulates_integers_exactly():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 64), np.float32), rng.standard_normal((64, 3), np.float32)
    x_scale, w_scale = symmetric_scale(x, 8), symmetric_scale(w, 8, axis=-1)
    expected = (np.asarray(quantize(x, 8, x_scale), np.int64) @ np.asarray(quantize(w, 8, w_scale), np.int64)
                ) * np.asarray(x_scale) * np.asarray(w_scale)
    np.testing.assert_allclose(int8_matmul(x, w, x_scale, w_scale), expected, rtol=1e-6)
    hlo = jax.jit(int8_matmul).lower(x, w, x_scale, w_scale).as_text()
    assert re.search(r"dot_general.*5x64xi8>, tensor<64x3xi8>\) -> tensor<5x3xi32>", hlo)  # int8 in, int32 out


def test_integer_apply_runs_every_dense_layer_as_an_int8_dot_and_keeps_convolutions_in_float():
    import zoo

    x = jnp.asarray(np.random.default_rng(2).uniform(size=(4, 8, 8, 1)), jnp.float32)
    for model, int_dots in ((zoo.MLP(features=(16, 8)), 3), (zoo.CNN(features=(4,), hidden=8), 2)):
        variables = init_variables(model, jax.random.key(0), x)
        ranges = calibrate(model.apply, variables, [x])
        hlo = jax.jit(lambda v, x: integer_apply(model.apply, v, x, ranges)).lower(variables, x).as_text()
        integer = re.findall(r"dot_general[^\n]*xi8>, tensor<[^>]*xi8>\) -> tensor<[^>]*xi32>", hlo)
        assert len(integer) == int_dots, type(model).__name__  # the dense layers and the head
        assert re.findall(r"convolution[^\n]*xf32>", hlo) or int_dots == 3  # convolutions stay float


@pytest.mark.slow
def test_the_integer_path_matches_fake_quantization_on_the_digits_cnn(digits_cnn):
    apply_fn, variables, train, test = digits_cnn
    ranges = calibrate(apply_fn, variables, [train["image"][:256]])
    fake = quantized_apply(apply_fn, variables, test["image"], ranges, bits=8)
    integer = np.asarray(integer_apply(apply_fn, variables, test["image"], ranges))
    fake = np.asarray(fake)
    # an activation that lands on a rounding boundary may round one grid step apart in the two paths
    # (their float sums differ in order) and moves that image's logits by ~0.03: allow it in 1% of images
    rows_close = np.isclose(integer, fake, rtol=1e-3, atol=1e-3).all(-1)
    assert rows_close.mean() >= 0.99, np.flatnonzero(~rows_close)
    np.testing.assert_allclose(integer, fake, rtol=0.0, atol=0.1)
    assert (integer.argmax(-1) == fake.argmax(-1)).mean() >= 0.997


@pytest.mark.parametrize("x, w, argument", [(jnp.ones((4, 3, 5)), jnp.ones((3, 2, 1)), "w"),    # a 3-D kernel
                                            (jnp.ones((4, 5)), jnp.ones((3, 2)), "x"),          # 5 features, 3 rows
                                            (jnp.ones((4, 3)), jnp.ones((3, 2)), "w_scale")])   # 3 scales, 2 columns
def test_int8_matmul_names_the_argument_of_a_wrong_shape(x, w, argument):
    w_scale = jnp.ones((1, 3)) if argument == "w_scale" else jnp.ones((1, w.shape[-1]))
    with pytest.raises(ValueError, match=rf"^{argument} must be .*; got shape"):
        int8_matmul(x, w, jnp.float32(0.1), w_scale)


def test_scales_along_other_axes_and_min_ndim_by_hand():
    x = jnp.array([[1.0, -4.0, 2.0], [0.5, 0.25, -0.1]])
    np.testing.assert_allclose(symmetric_scale(x, 4), 4.0 / 7, rtol=1e-6)  # one scale: max |x| / 7
    np.testing.assert_allclose(symmetric_scale(x, 4, axis=0), [[4.0 / 7], [0.5 / 7]], rtol=1e-6)  # per row
    # 2 bits per column: scales 1, 4, 2 and a grid of {-1, 0, 1}; the second row rounds to 0
    np.testing.assert_allclose(quantize_weights({"kernel": x}, bits=2)["kernel"], [[1.0, -4.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(quantize_weights({"kernel": x}, bits=2, min_ndim=3)["kernel"], x)  # not a kernel


def test_quantized_apply_of_a_dense_layer_against_numpy_at_each_bit_width():
    """PTQ of one `nn.Dense` in NumPy: the input on the grid of `range / (2^(b-1) - 1)`, the kernel per column
    on `max|column| / (2^(b-1) - 1)`, then `x w + bias`; QAT's forward pass uses the batch's own range."""
    import flax.linen as nn

    layer = nn.Dense(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    variables = init_variables(layer, jax.random.key(0), x)
    kernel, bias = (np.asarray(variables["params"][k], np.float64) for k in ("kernel", "bias"))

    def reference(bits, x_range):
        q = 2 ** (bits - 1) - 1
        grid = lambda v, s: np.clip(np.round(v / s), -q, q) * s
        return grid(x, x_range / q) @ grid(kernel, np.abs(kernel).max(0, keepdims=True) / q) + bias

    ranges = calibrate(layer.apply, variables, [x[:2], x[2:]])
    assert ranges == {"": pytest.approx(float(np.abs(x).max()))}  # the largest input over both batches
    for bits in (3, 8):
        np.testing.assert_allclose(quantized_apply(layer.apply, variables, x, {"": 2.0}, bits=bits),
                                   reference(bits, 2.0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(fake_quant_apply(layer.apply, variables, x, bits=bits),
                                   reference(bits, np.abs(x).max()), rtol=1e-5, atol=1e-5)
