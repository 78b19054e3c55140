"""Low rank: rank rules, the Eckart-Young error, exact outputs at full rank for dense and conv
layers through interception, and a factored digits CNN recovering its accuracy by fine-tuning."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from compress.fit import accuracy, cross_entropy, fit
from compress.lowrank import count_weights, factorize, lowrank_apply, rank_for_energy, rank_for_size, svd_factors
from train.state import init_variables


def test_rank_rules():
    assert rank_for_energy([3.0, 2.0, 1.0], 0.9) == 2  # 9 + 4 = 13 of 14 -> 0.93
    assert rank_for_energy([3.0, 2.0, 1.0], 1.0) == 3
    assert rank_for_size((3, 3, 16, 32), 0.25) == 6  # 6 x (144 + 32) <= 1152 < 7 x 176
    with pytest.raises(ValueError, match="energy"):
        rank_for_energy([1.0], 0.0)


def test_truncated_factors_have_the_eckart_young_error():
    kernel = jnp.asarray(np.random.default_rng(0).standard_normal((3, 3, 8, 16), np.float32))
    s = np.linalg.svd(np.asarray(kernel).reshape(72, 16), compute_uv=False)
    a, b = svd_factors(kernel, 5)
    assert a.shape == (3, 3, 8, 5) and b.shape == (5, 16)
    error = np.linalg.norm(np.asarray(a).reshape(72, 5) @ np.asarray(b) - np.asarray(kernel).reshape(72, 16))
    assert error == pytest.approx(np.sqrt(np.sum(s[5:] ** 2)), rel=1e-4)


def test_full_rank_factors_reproduce_the_model_and_smaller_ranks_save_weights():
    model = zoo.CNN(features=(8, 16), hidden=32)
    x = jax.random.uniform(jax.random.key(1), (4, 8, 8, 1))
    variables = init_variables(model, jax.random.key(2), x)
    wide, ranks = factorize(variables["params"], rank=10_000)  # capped at full rank
    assert ranks and all("kernel" not in wide[name] and "kernel_a" in wide[name] for name in ranks)
    np.testing.assert_allclose(lowrank_apply(model.apply, {"params": wide}, x), model.apply(variables, x),
                               rtol=1e-4, atol=1e-5)
    small, _ = factorize(variables["params"], size=0.3)
    assert count_weights(small) < count_weights(variables["params"])
    assert lowrank_apply(model.apply, {"params": small}, x).shape == (4, 10)
    with pytest.raises(ValueError, match="exactly one"):
        factorize(variables["params"], rank=2, size=0.5)


def test_a_strided_valid_convolution_factors_exactly():
    conv = nn.Conv(12, (3, 3), strides=2, padding="VALID")
    x = jnp.asarray(np.random.default_rng(3).standard_normal((2, 9, 9, 5), np.float32))
    variables = init_variables(conv, jax.random.key(4), x)
    factored, ranks = factorize(variables["params"], rank=12, layers=("",))
    assert ranks == {"": 12}
    np.testing.assert_allclose(lowrank_apply(conv.apply, {"params": factored}, x), conv.apply(variables, x),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_fine_tuning_the_factors_recovers_a_truncated_digits_cnn(shipped):
    task, state = shipped("cnn_digits")
    variables = state.variables()
    splits = {name: task.split(name) for name in ("train", "test")}
    logits = lambda p, x: lowrank_apply(task.logits, dict(variables, params=p), x)
    dense = accuracy(logits, variables["params"], splits["test"])
    factored, _ = factorize(variables["params"], energy=0.8)  # keeps ~63% of the weights
    assert count_weights(factored) < 0.7 * count_weights(variables["params"])
    truncated = accuracy(logits, factored, splits["test"])
    tuned, _ = fit(cross_entropy(logits), factored, optax.adam(1e-3), splits["train"], 300, progress=False)
    recovered = accuracy(logits, tuned, splits["test"])
    assert recovered >= max(truncated + 0.02, dense - 0.02), (dense, truncated, recovered)


def test_factorize_chooses_layers_by_energy_and_size_only_where_weights_are_saved():
    """A rank-1 8x6 kernel keeps all its energy at rank 1 (1 (8 + 6) < 48 weights: factored, exactly); a full
    rank 2x2 kernel needs rank 2, which saves nothing, so it is left alone; `min_ndim=3` skips both."""
    rng = np.random.default_rng(5)
    low = np.outer(rng.standard_normal(8), rng.standard_normal(6)).astype(np.float32)
    params = {"low": {"kernel": jnp.asarray(low), "bias": jnp.zeros(6)},
              "full": {"kernel": jnp.array([[2.0, 0.0], [0.0, 1.0]]), "bias": jnp.zeros(2)}}
    factored, ranks = factorize(params, energy=0.999)
    assert ranks == {"low": 1} and "kernel" in factored["full"]
    np.testing.assert_allclose(np.asarray(factored["low"]["kernel_a"]) @ np.asarray(factored["low"]["kernel_b"]), low,
                               rtol=1e-4, atol=1e-5)
    assert factorize(params, size=0.5)[1] == {"low": 1}  # 0.5 x 48 // 14 = 1; the 2x2 gets rank 1 -> no saving
    assert factorize(params, rank=1, min_ndim=3)[1] == {}
    assert factorize(params, rank=1)[1] == {"low": 1, "full": 1}  # a fixed rank factors every layer
