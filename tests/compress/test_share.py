"""Weight sharing: k-means finds the clusters, sparsity survives, centroid gradients are the
per-cluster sums, and a 4-bit shared digits MLP fine-tuned on its codebooks still classifies."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from compress.share import codebook_gradients, kmeans_1d, reconstruct, share, trainable, with_trainable
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
