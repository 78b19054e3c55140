"""Binary and ternary weights: the forward values and straight-through gradients each paper
defines, BinaryConnect/XNOR nets that learn digits from scratch, and TTQ on the digits CNN
within 1.5 points of full precision."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from compress import binary
from compress.fit import accuracy, fit
from train.state import init_variables


def test_binary_connect_takes_two_values_and_its_gradient_stops_outside_the_bound():
    w = jnp.array([[0.3, -0.01], [0.0, -2.0], [0.5, 0.1]])  # fan_in 3, fan_out 2: H = sqrt(6/5)
    h = (6 / 5) ** 0.5
    np.testing.assert_allclose(binary.binary_connect(w), [[h, -h], [h, -h], [h, h]], rtol=1e-6)
    grad = jax.grad(lambda w: jnp.sum(binary.binary_connect(w) * jnp.arange(6.0).reshape(3, 2)))(w)
    np.testing.assert_allclose(grad, h * np.array([[0, 1], [2, 0], [4, 5]]), rtol=1e-6)  # |-2| > H: no gradient


def test_stochastic_binary_connect_is_unbiased_inside_the_bound():
    h = binary.glorot_bound((4, 4096))
    samples = binary.binary_connect(jnp.full((4, 4096), 0.5 * h), jax.random.key(0))
    np.testing.assert_allclose(np.abs(np.asarray(samples)), h, rtol=1e-6)
    assert float(samples.mean()) == pytest.approx(0.5 * h, rel=0.05)  # E[w_b] = H (2p - 1) = w


def test_xnor_scales_each_output_channel_by_its_mean_magnitude():
    w = jnp.array([[1.0, -0.1], [-3.0, 0.3]])
    np.testing.assert_allclose(binary.xnor(w), [[2.0, -0.2], [-2.0, 0.2]], rtol=1e-6)


def test_ttq_forward_values_and_gradients_follow_the_paper():
    w = jnp.array([[0.9, -0.5], [0.02, 1.0]])  # max 1.0, threshold 0.05: {+, -, 0, +}
    t = binary.Ternary(w, jnp.array(2.0), jnp.array(3.0))
    np.testing.assert_allclose(binary.ternary(t), [[2.0, -3.0], [0.0, 2.0]])
    g = jnp.array([[1.0, 10.0], [100.0, 1000.0]])
    grads = jax.grad(lambda t: jnp.sum(binary.ternary(t) * g))(t)
    assert float(grads.wp) == 1001.0 and float(grads.wn) == -10.0   # sums over the positive / negative sets
    np.testing.assert_allclose(grads.latent, [[2.0, 30.0], [100.0, 2000.0]])  # scaled by W_p, W_n or 1
    values = binary.init({"kernel": w, "bias": jnp.zeros(2)}, "ttq")
    assert float(values["kernel"].wp) == pytest.approx(0.95) and float(values["kernel"].wn) == pytest.approx(0.5)
    assert len(np.unique(np.asarray(binary.weights(values, "ttq")["kernel"]))) == 3


def test_clip_latent_keeps_latent_weights_inside_the_bound_and_unknown_methods_fail():
    params = {"kernel": jnp.zeros((6, 6)), "bias": jnp.zeros(6)}
    tx = binary.clip_latent(optax.sgd(10.0))
    updates, _ = tx.update(jax.tree.map(lambda x: -jnp.ones_like(x), params), tx.init(params), params)
    new = optax.apply_updates(params, updates)
    assert float(new["kernel"].max()) == pytest.approx(binary.glorot_bound((6, 6))) and float(new["bias"][0]) == 10.0
    with pytest.raises(ValueError, match="unknown method"):
        binary.init(params, "binary_net")


@pytest.fixture(scope="module")
def digits():
    from train import data

    tr, te = data.load("digits", "train"), data.load("digits", "test")
    return {"train": {"inputs": tr["image"], "label": tr["label"]}, "test": {"inputs": te["image"], "label": te["label"]}}


def train_binary(logits, values, method, split, steps, lr=3e-3):
    tx = optax.adam(lr)
    if method.startswith("binary_connect"):
        tx = binary.clip_latent(tx)
    loss = lambda v, x, y, rng: optax.softmax_cross_entropy_with_integer_labels(
        logits(binary.weights(v, method, rng), x), y).mean()
    return fit(loss, values, tx, split, steps, progress=False)[0]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["binary_connect", "binary_connect_stochastic", "xnor"])
def test_binary_weight_mlps_learn_digits_from_scratch(digits, method):
    model = zoo.MLP(features=(300, 100))
    values = train_binary(model.apply, init_variables(model, jax.random.key(1), digits["train"]["inputs"][:1]), method,
                          digits["train"], 1500)
    params = binary.weights(values, method)
    kernel = np.asarray(params["params"]["dense1"]["kernel"])
    assert len(np.unique(np.abs(kernel).round(6))) == (1 if method != "xnor" else kernel.shape[-1])
    assert accuracy(model.apply, params, digits["test"]) >= 0.93  # chance is 0.1


@pytest.mark.slow
def test_ttq_fine_tuning_of_the_digits_cnn_stays_within_one_and_a_half_points(shipped, digits):
    task, state = shipped("cnn_digits")
    variables = state.variables()
    logits = lambda p, x: task.logits(dict(variables, params=p), x)
    full = accuracy(logits, variables["params"], digits["test"])
    values = train_binary(logits, binary.init(variables["params"], "ttq"), "ttq", digits["train"], 400, lr=1e-3)
    ternary = binary.weights(values, "ttq")
    assert all(len(np.unique(np.asarray(w))) <= 3 for w in jax.tree.leaves(ternary) if w.ndim >= 2)
    assert accuracy(logits, ternary, digits["test"]) >= full - 0.015, full


def test_the_ttq_threshold_moves_the_zero_band():
    """threshold 0.5 (of max |w| = 1): only 0.9 and 1.0 exceed 0.5 and -0.5 is not below -0.5, so the kernel is
    W_p on those two and 0 elsewhere; `init` with the same threshold starts W_p at their mean, W_n at 0."""
    w = jnp.array([[0.9, -0.5], [0.02, 1.0]])
    t = binary.Ternary(w, jnp.array(2.0), jnp.array(3.0))
    np.testing.assert_allclose(binary.ternary(t, threshold=0.5), [[2.0, 0.0], [0.0, 2.0]])
    values = binary.init({"kernel": w}, "ttq", threshold=0.5)
    assert float(values["kernel"].wp) == pytest.approx(0.95) and float(values["kernel"].wn) == 0.0
    np.testing.assert_allclose(binary.weights({"kernel": t}, "ttq", threshold=0.5)["kernel"], [[2.0, 0.0], [0.0, 2.0]])
    assert binary.init({"kernel": w}, "ttq", min_ndim=3)["kernel"] is w  # not a kernel at min_ndim 3
