"""Weight sharing: k-means finds the clusters, sparsity survives, centroid gradients are the
per-cluster sums, and a 4-bit shared digits MLP fine-tuned on its codebooks still classifies."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from compress.share import Shared, codebook_gradients, kmeans_1d, reconstruct, share, trainable, with_trainable
from train.state import init_variables


def test_kmeans_finds_separated_clusters_and_leaves_zeros_alone():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.01, 50) for c in (-2.0, 0.5, 3.0)] + [np.zeros(10)])
    codebook, idx = kmeans_1d(jnp.asarray(x), 3)
    np.testing.assert_allclose(np.sort(np.asarray(codebook)), [-2.0, 0.5, 3.0], atol=0.01)
    assert (np.asarray(idx)[-10:] == 3).all() and (np.asarray(idx)[:-10] < 3).all()


def test_more_bits_reconstruct_better_and_pruned_weights_stay_zero():
    w = jax.random.normal(jax.random.key(0), (64, 32)) * (jax.random.uniform(jax.random.key(1), (64, 32)) > 0.5)
    params = {"kernel": w, "bias": jnp.ones(32)}
    errors = []
    for bits in (2, 4, 6):
        rebuilt = reconstruct(share(params, bits=bits))
        np.testing.assert_array_equal(rebuilt["bias"], params["bias"])
        np.testing.assert_array_equal(np.asarray(rebuilt["kernel"])[np.asarray(w) == 0], 0)
        assert len(np.unique(np.asarray(rebuilt["kernel"]))) <= 2 ** bits  # 2**bits - 1 centroids and 0
        errors.append(float(jnp.abs(rebuilt["kernel"] - w).max()))
    assert errors[0] > errors[1] > errors[2]


def test_codebook_gradients_are_per_cluster_sums_of_weight_gradients():
    w = jax.random.normal(jax.random.key(2), (16, 8))
    shared = share({"kernel": w}, bits=2)
    target = jax.random.normal(jax.random.key(3), (16, 8))
    loss = lambda params: jnp.sum((params["kernel"] - target) ** 2)
    auto = jax.grad(lambda v: loss(reconstruct(with_trainable(shared, v))))(trainable(shared))
    dense_grads = jax.grad(loss)(reconstruct(shared))
    np.testing.assert_allclose(auto["kernel"], codebook_gradients(dense_grads, shared)["kernel"], rtol=1e-5)


@pytest.mark.slow
def test_four_bit_shared_mlp_keeps_its_digits_accuracy_after_codebook_fine_tuning():
    from train import data

    train, test = data.load("digits", "train"), data.load("digits", "test")
    model = zoo.MLP(features=(128,))
    accuracy = lambda p: float((model.apply(p, test["image"]).argmax(-1) == test["label"]).mean())
    xent = lambda p, x, y: optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y).mean()

    def fit(values, to_params, steps, lr):
        tx = optax.adam(lr)
        opt = tx.init(values)

        @jax.jit
        def step(values, opt, x, y):
            grads = jax.grad(lambda v: xent(to_params(v), x, y))(values)
            updates, opt = tx.update(grads, opt)
            return optax.apply_updates(values, updates), opt

        rng = np.random.default_rng(0)
        for _ in range(steps):
            idx = rng.integers(0, len(train["label"]), 64)
            values, opt = step(values, opt, train["image"][idx], train["label"][idx])
        return values

    dense = fit(init_variables(model, jax.random.key(0), train["image"][:1]), lambda v: v, 600, 3e-3)
    shared = share(dense, bits=4)
    tuned = with_trainable(shared, fit(trainable(shared), lambda v: reconstruct(with_trainable(shared, v)), 200, 1e-3))
    assert accuracy(reconstruct(tuned)) >= accuracy(dense) - 0.01, (accuracy(dense), accuracy(reconstruct(tuned)))


def test_kmeans_linear_init_and_one_lloyd_step_by_hand():
    """x = 1, 2, 3, 9, 10 (and a pruned 0). k=2: init linspace(1, 10) = (1, 10); one step assigns 1, 2, 3 and
    9, 10, giving the means (2, 9.5). k=3: init (1, 5.5, 10); the middle cluster is empty and stays at 5.5.
    `iterations=0` is the linear init itself; `ignore_zeros=False` lets the 0 join and lowers the range."""
    x = jnp.array([1.0, 2.0, 3.0, 9.0, 10.0, 0.0])
    np.testing.assert_allclose(kmeans_1d(x, 2, iterations=0)[0], [1.0, 10.0])
    codebook, idx = kmeans_1d(x, 2, iterations=1)
    np.testing.assert_allclose(codebook, [2.0, 9.5])
    np.testing.assert_array_equal(idx, [0, 0, 0, 1, 1, 2])
    np.testing.assert_allclose(kmeans_1d(x, 3, iterations=1)[0], [2.0, 5.5, 9.5])
    codebook, idx = kmeans_1d(x, 2, iterations=1, ignore_zeros=False)  # init (0, 10): 0..3 and 9, 10
    np.testing.assert_allclose(codebook, [1.5, 9.5])
    np.testing.assert_array_equal(idx, [0, 0, 0, 1, 1, 0])


def test_share_builds_two_to_the_bits_minus_one_centroids_and_min_ndim_selects_the_leaves():
    params = {"kernel": jnp.arange(1.0, 21.0).reshape(4, 5), "bias": jnp.arange(1.0, 6.0)}
    both = share(params, bits=3, min_ndim=1)
    assert both["kernel"].codebook.shape == both["bias"].codebook.shape == (7,)
    kernel_only = share(params, bits=2, iterations=0)  # iterations=0 keeps the linear init over [1, 20]
    assert not isinstance(kernel_only["bias"], Shared)
    np.testing.assert_allclose(kernel_only["kernel"].codebook, [1.0, 10.5, 20.0])
