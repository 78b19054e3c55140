"""Attribution against known answers: a linear model's saliency is its weights, guided ReLU's
backward is its definition, occlusion finds the only region a model reads, Integrated
Gradients is complete, and the layer-level methods reach named layers of an unedited CNN."""

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from interpret.attribution import (grad_cam, guided_backprop, guided_relu, integrated_gradients, layer_gradient,
                                   neuron_gradient, occlusion, saliency, smoothgrad)
from train.state import init_variables

X = jnp.asarray(np.random.default_rng(0).random((4, 8, 8, 2), np.float32))
LABELS = jnp.array([0, 1, 2, 1])


def test_saliency_of_a_linear_model_is_the_largest_weight_magnitude_over_channels():
    w = jax.random.normal(jax.random.key(1), (8 * 8 * 2, 3))
    apply_fn = lambda w, x: x.reshape(x.shape[0], -1) @ w
    maps = saliency(apply_fn, w, X, LABELS)
    expected = np.abs(np.asarray(w)).reshape(8, 8, 2, 3).max(axis=2)
    np.testing.assert_allclose(maps, np.moveaxis(expected[..., np.asarray(LABELS)], -1, 0), rtol=1e-6)
    np.testing.assert_allclose(saliency(apply_fn, w, X, LABELS, batch_size=2), maps, rtol=1e-6)  # lax.map chunks


def test_guided_relu_backward_matches_its_definition():
    x = jnp.array([-1.0, 2.0, 3.0, -4.0, 0.5])
    g = jnp.array([1.0, -2.0, 3.0, 4.0, 0.0])
    _, vjp = jax.vjp(guided_relu, x)
    np.testing.assert_array_equal(vjp(g)[0], [0.0, 0.0, 3.0, 0.0, 0.0])  # input > 0 and gradient > 0
    np.testing.assert_array_equal(guided_relu(x), jnp.maximum(x, 0))


def test_occlusion_lights_up_only_the_region_the_model_reads():
    region = np.zeros((8, 8, 2), np.float32)
    region[2:4, 5:7] = 1.0
    apply_fn = lambda p, x: jnp.stack([jnp.sum(x * p[None], axis=(1, 2, 3)), jnp.zeros(x.shape[0])], -1)
    maps = np.asarray(occlusion(apply_fn, jnp.asarray(region), X + 0.1, jnp.zeros(4, jnp.int32), size=1))
    assert (maps[:, 2:4, 5:7] > 0.05).all()
    outside = np.ones((8, 8), bool)
    outside[2:4, 5:7] = False
    assert np.abs(maps[:, outside]).max() < 1e-5  # float32 summation order only
    with pytest.raises(ValueError, match="occluder size"):
        occlusion(apply_fn, region, X, jnp.zeros(4, jnp.int32), size=9)


@pytest.fixture(scope="module")
def cnn():
    model = zoo.CNN(features=(8, 16), hidden=32, act=jax.nn.gelu)
    variables = init_variables(model, jax.random.key(2), X)
    return model, variables, lambda v, x: model.apply(v, x)


def test_integrated_gradients_are_complete(cnn):
    """Completeness from a non-zero baseline (the reversed batch): attributions sum to S(x) - S(x')."""
    _, variables, apply_fn = cnn
    baseline = X[::-1]
    attributions = integrated_gradients(apply_fn, variables, X, LABELS, baseline=baseline, steps=256)
    scores = lambda x: jnp.take_along_axis(apply_fn(variables, x), LABELS[:, None], 1)[:, 0]
    gap = scores(X) - scores(baseline)
    np.testing.assert_allclose(attributions.sum(axis=(1, 2, 3)), gap, atol=1e-3 * max(1.0, float(jnp.abs(gap).max())))


def test_smoothgrad_averages_noisy_gradients_and_zero_noise_is_the_gradient(cnn):
    _, variables, apply_fn = cnn
    plain = jax.vmap(jax.grad(lambda x, y: apply_fn(variables, x[None])[0, y]))(X, LABELS)
    np.testing.assert_allclose(smoothgrad(apply_fn, variables, X, LABELS, jax.random.key(3), samples=4, sigma=0.0),
                               plain, rtol=1e-5, atol=1e-7)
    noisy = smoothgrad(apply_fn, variables, X, LABELS, jax.random.key(3), samples=8, sigma=0.2)
    assert noisy.shape == X.shape and not np.allclose(noisy, plain)


def test_guided_backprop_swaps_the_activation_without_editing_the_model():
    model = zoo.CNN(features=(8, 16), hidden=32)  # ReLU
    variables = init_variables(model, jax.random.key(4), X)
    guided = guided_backprop(model, variables, X, LABELS)
    plain = jax.vmap(jax.grad(lambda x, y: model.apply(variables, x[None])[0, y]))(X, LABELS)
    assert guided.shape == X.shape and not np.allclose(guided, plain)
    assert model.act is jax.nn.relu or model.act.__name__ == "relu"  # the original is untouched


def test_layer_level_methods_reach_named_layers(cnn):
    model, variables, apply_fn = cnn
    acts, grads = layer_gradient(apply_fn, variables, X, LABELS, "conv1_1")
    assert acts.shape == grads.shape == (4, 4, 4, 16)
    head_in, head_grads = layer_gradient(apply_fn, variables, X, LABELS, "dense")
    assert head_in.shape == (4, 32) and float(jnp.abs(head_grads).sum()) > 0
    cams = grad_cam(apply_fn, variables, X, LABELS, "conv1_1")
    assert cams.shape == (4, 8, 8) and float(cams.min()) >= 0
    g = neuron_gradient(apply_fn, variables, X, "conv0_0", (3, 3, 0))
    assert g.shape == X.shape and (np.asarray(g)[:, 6:, :] == 0).all()  # a 3x3 conv unit at (3, 3) reads rows 2-4
    with pytest.raises(ValueError, match="no layer named"):
        layer_gradient(apply_fn, variables, X, LABELS, "conv9")


# Hand computations on tiny models. TinyConv: a 2x2 stride-2 conv "conv" (8x8x2 -> 4x4x3), a ReLU, a dense head.
class TinyConv(nn.Module):
    @nn.compact
    def __call__(self, x):
        a = nn.Conv(3, (2, 2), strides=(2, 2), padding="VALID", name="conv")(x)
        h = jax.nn.relu(a)
        return nn.Dense(4, name="head")(h.reshape(h.shape[0], -1))


TINY = TinyConv()
TINY_VARIABLES = TINY.init(jax.random.key(5), X)
TINY_APPLY = lambda v, x: TINY.apply(v, x)


def numpy_tiny_conv():
    """`(kernel (2, 2, 2, 3), conv output (B, 4, 4, 3), d score_label / d output (B, 4, 4, 3))` in NumPy."""
    p = jax.tree.map(np.asarray, TINY_VARIABLES["params"])
    kernel = p["conv"]["kernel"]
    patches = np.asarray(X).reshape(4, 4, 2, 4, 2, 2).transpose(0, 1, 3, 2, 4, 5)        # (B, i, j, di, dj, c)
    acts = np.einsum("bijuvc,uvck->bijk", patches, kernel) + p["conv"]["bias"]
    head = p["head"]["kernel"].T[np.asarray(LABELS)].reshape(4, 4, 4, 3)                   # row-major flatten
    return kernel, acts, head * (acts > 0)


def test_layer_gradient_and_grad_cam_match_a_numpy_computation():
    """Activations and gradients at "conv" by hand; Grad-CAM = relu(sum_k mean_ij(dS/dA_k) A_k), resized."""
    _, acts, grads = numpy_tiny_conv()
    got_acts, got_grads = layer_gradient(TINY_APPLY, TINY_VARIABLES, X, LABELS, "conv")
    np.testing.assert_allclose(got_acts, acts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_grads, grads, rtol=1e-5, atol=1e-6)
    weights = grads.mean(axis=(1, 2))                                                      # (B, K)
    cam = np.maximum(np.einsum("bk,bijk->bij", weights, acts), 0)
    assert (cam == 0).any() and (cam > 0).any()                                            # the ReLU bites
    expected = jax.image.resize(jnp.asarray(cam, jnp.float32), (4, 8, 8), "bilinear")
    np.testing.assert_allclose(grad_cam(TINY_APPLY, TINY_VARIABLES, X, LABELS, "conv"), expected, rtol=1e-4, atol=1e-6)


def test_neuron_gradient_of_a_conv_unit_is_its_kernel_on_its_receptive_field():
    """d A[r, c, k] / dx: the kernel's channel k on the 2x2 input patch at (2r, 2c), zero elsewhere."""
    kernel, _, _ = numpy_tiny_conv()
    expected = np.zeros((8, 8, 2), np.float32)
    expected[2:4, 6:8] = kernel[..., 2]
    got = neuron_gradient(TINY_APPLY, TINY_VARIABLES, X, "conv", (1, 3, 2))
    np.testing.assert_allclose(got, np.broadcast_to(expected, X.shape), rtol=1e-6, atol=1e-7)


class GuidedMLP(nn.Module):
    act: Callable = jax.nn.relu

    @nn.compact
    def __call__(self, x):
        h = self.act(nn.Dense(16, name="d1")(x.reshape(x.shape[0], -1)))
        h = self.act(nn.Dense(12, name="d2")(h))
        return nn.Dense(3, name="out")(h)


def test_guided_backprop_through_a_two_layer_relu_mlp_matches_a_numpy_backward_pass():
    """Backward by hand: at each ReLU keep the gradient where the forward input and the gradient are positive."""
    model = GuidedMLP()
    variables = model.init(jax.random.key(6), X)
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])
    flat = np.asarray(X, np.float64).reshape(4, -1)
    z1 = flat @ p["d1"]["kernel"] + p["d1"]["bias"]
    z2 = np.maximum(z1, 0) @ p["d2"]["kernel"] + p["d2"]["bias"]
    g = p["out"]["kernel"].T[np.asarray(LABELS)]                                           # (B, 12) dS/dh2
    g = g * (z2 > 0) * (g > 0)
    g = g @ p["d2"]["kernel"].T
    assert ((z1 > 0) & (g < 0)).any()                                                       # the gradient gate bites
    g = g * (z1 > 0) * (g > 0)
    expected = (g @ p["d1"]["kernel"].T).reshape(X.shape)
    np.testing.assert_allclose(guided_backprop(model, variables, X, LABELS), expected, rtol=1e-4, atol=1e-6)


def test_occlusion_with_a_fill_value_and_stride_matches_a_hand_loop_on_a_linear_model():
    """Score = sum(x * P_label): each occluder's drop is sum over its patch of (x - value) P_label, averaged over
    the occluders covering each pixel (0 where none does: size 3, stride 2 leaves the last row and column)."""
    weights = np.random.default_rng(7).standard_normal((2, 8, 8, 2)).astype(np.float32)
    apply_fn = lambda p, x: jnp.einsum("bhwc,khwc->bk", x, p)
    labels = jnp.array([0, 1, 1, 0])
    for size, stride, value in ((3, 2, 0.5), (2, 1, -0.25)):
        total, count = np.zeros((4, 8, 8)), np.zeros((8, 8))
        for i in range(0, 8 - size + 1, stride):
            for j in range(0, 8 - size + 1, stride):
                for b in range(4):
                    patch = (np.asarray(X[b, i:i + size, j:j + size]) - value) * weights[labels[b], i:i + size, j:j + size]
                    total[b, i:i + size, j:j + size] += patch.sum()
                count[i:i + size, j:j + size] += 1
        expected = total / np.maximum(count, 1)
        got = occlusion(apply_fn, jnp.asarray(weights), X, labels, size=size, stride=stride, value=value)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_integrated_gradients_with_a_baseline_on_a_linear_model_is_the_difference_times_the_weights():
    """IG = (x - x') * w_label exactly, for a per-example baseline and for a broadcast scalar one."""
    w = np.random.default_rng(8).standard_normal((3, 8, 8, 2)).astype(np.float32)
    apply_fn = lambda p, x: jnp.einsum("bhwc,khwc->bk", x, p)
    baseline = jnp.asarray(np.random.default_rng(9).random(X.shape, np.float32))
    for base in (baseline, 0.7):
        got = integrated_gradients(apply_fn, jnp.asarray(w), X, LABELS, baseline=base, steps=3)
        np.testing.assert_allclose(got, (np.asarray(X) - np.asarray(base)) * w[np.asarray(LABELS)], rtol=1e-5,
                                   atol=1e-6)


def test_integrated_gradients_on_a_cubic_is_the_midpoint_riemann_sum_for_each_step_count():
    """S = sum(c x^3): along x' + a d the gradient is 3 c (x' + a d)^2, whose mean over the midpoints
    (k + 1/2) / n is 3 c (x'^2 + x' d + d^2 (1/3 - 1/(12 n^2))); IG is d times that."""
    c = np.random.default_rng(10).standard_normal((3, 8, 8, 2)).astype(np.float32)
    apply_fn = lambda p, x: jnp.einsum("bhwc,khwc->bk", x ** 3, p)
    x0 = np.random.default_rng(11).uniform(-1, 1, X.shape).astype(np.float32)
    d = np.asarray(X) - x0
    for n in (1, 3):
        expected = d * 3 * c[np.asarray(LABELS)] * (x0 ** 2 + x0 * d + d ** 2 * (1 / 3 - 1 / (12 * n ** 2)))
        got = integrated_gradients(apply_fn, jnp.asarray(c), X, LABELS, baseline=jnp.asarray(x0), steps=n)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_smoothgrad_is_the_mean_gradient_at_the_noisy_inputs_and_its_spread_falls_with_samples():
    """S = sum(q x^2) has gradient 2 q x, so SmoothGrad is 2 q_label * mean(x + sigma (max - min) noise), the
    noise drawn from the documented keys (one split per example); across seeds its spread falls ~ 1/sqrt(n)."""
    q = np.random.default_rng(12).standard_normal((3, 8, 8, 2)).astype(np.float32)
    apply_fn = lambda p, x: jnp.einsum("bhwc,khwc->bk", x ** 2, p)
    keys = jax.random.split(jax.random.key(13), 4)
    noise = np.stack([np.asarray(jax.random.normal(k, (5, 8, 8, 2))) for k in keys])        # (B, samples, ...)
    spread = 0.3 * (np.asarray(X).max(axis=(1, 2, 3)) - np.asarray(X).min(axis=(1, 2, 3)))
    noisy_mean = np.asarray(X) + spread[:, None, None, None] * noise.mean(1)
    got = smoothgrad(apply_fn, jnp.asarray(q), X, LABELS, jax.random.key(13), samples=5, sigma=0.3)
    np.testing.assert_allclose(got, 2 * q[np.asarray(LABELS)] * noisy_mean, rtol=1e-4, atol=1e-5)
    spreads = [np.std([np.asarray(smoothgrad(apply_fn, jnp.asarray(q), X, LABELS, jax.random.key(s), samples=n))
                       for s in range(6)], axis=0).mean() for n in (4, 64)]
    assert spreads[1] < spreads[0] / 2.5                                                     # sqrt(16) = 4 expected
