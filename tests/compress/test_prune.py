"""Magnitude pruning: masks hit their sparsity, pruned weights stay zero through training and
checkpoint-shaped state, the Zhu & Gupta schedule, structured pruning, and a pruned MLP that
still classifies digits."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from compress.prune import magnitude_masks, polynomial_sparsity, sparsity_of, wrap
from train.state import init_variables

PARAMS = {"dense": {"kernel": jnp.arange(1.0, 41.0).reshape(8, 5) * jnp.array([[1, -1, 1, -1, 1.0]]),
                    "bias": jnp.ones(5)},
          "head": {"kernel": jnp.linspace(-3, 3, 20).reshape(5, 4) + 0.01, "bias": jnp.ones(4)}}


def test_layer_masks_prune_the_smallest_fraction_of_each_kernel_and_leave_biases():
    masks = magnitude_masks(PARAMS, 0.5)
    assert masks["dense"]["bias"] is None and masks["head"]["bias"] is None
    assert float(masks["dense"]["kernel"].mean()) == 0.5 and float(masks["head"]["kernel"].mean()) == 0.5
    kept = np.abs(np.asarray(PARAMS["dense"]["kernel"]))[np.asarray(masks["dense"]["kernel"]) == 1]
    dropped = np.abs(np.asarray(PARAMS["dense"]["kernel"]))[np.asarray(masks["dense"]["kernel"]) == 0]
    assert kept.min() > dropped.max()


def test_global_masks_share_one_threshold():
    masks = magnitude_masks(PARAMS, 0.5, scope="global")
    total = sum(float(m.sum()) for m in (masks["dense"]["kernel"], masks["head"]["kernel"]))
    assert total == 30  # half of 40 + 20 weights kept
    assert float(masks["head"]["kernel"].mean()) == 0.0  # the head's |w| <= 3 all fall below the cut


def test_structured_masks_remove_whole_output_units():
    masks = magnitude_masks(PARAMS, 0.4, structured=True)
    cols = np.asarray(masks["dense"]["kernel"])
    assert all(len(set(cols[:, j])) == 1 for j in range(5)) and cols[0].sum() == 3  # 2 of 5 units gone


def test_polynomial_schedule():
    s = polynomial_sparsity(0.8, begin=100, end=200)
    assert float(s(0)) == 0.0 and float(s(100)) == 0.0 and float(s(200)) == pytest.approx(0.8)
    assert float(s(150)) == pytest.approx(0.8 * (1 - 0.5 ** 3))


@pytest.mark.parametrize("scope, structured", [("layer", False), ("global", False), ("layer", True)])
def test_wrapped_optimizer_keeps_pruned_weights_at_zero(scope, structured):
    tx = wrap(optax.adam(0.1), polynomial_sparsity(0.75, 0, 6), scope=scope, structured=structured, every=2, end=6)
    params, state = PARAMS, tx.init(PARAMS)
    for i in range(10):
        grads = jax.tree.map(lambda x: jnp.full_like(x, (-1.0) ** i), params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        for name in ("dense", "head"):
            pruned = np.asarray(state.masks[name]["kernel"]) == 0
            np.testing.assert_array_equal(np.asarray(params[name]["kernel"])[pruned], 0)
    assert sparsity_of(params) >= 0.7 if not structured else sparsity_of(params) >= 0.5
    assert float(params["dense"]["bias"][0]) != 1.0  # biases train unpruned


@pytest.mark.slow
def test_gradually_pruned_mlp_still_classifies_digits():
    from train import data

    train, test = data.load("digits", "train"), data.load("digits", "test")
    model = zoo.MLP(features=(128,))
    params = init_variables(model, jax.random.key(0), train["image"][:1])
    tx = wrap(optax.adam(3e-3), polynomial_sparsity(0.9, begin=100, end=400), every=50, end=400)
    state = tx.init(params)

    @jax.jit
    def step(params, state, x, y):
        grads = jax.grad(lambda p: optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y).mean())(params)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    rng = np.random.default_rng(0)
    for _ in range(600):
        idx = rng.integers(0, len(train["label"]), 64)
        params, state = step(params, state, train["image"][idx], train["label"][idx])
    accuracy = float((model.apply(params, test["image"]).argmax(-1) == test["label"]).mean())
    assert sparsity_of(params) >= 0.89 and accuracy > 0.9, (sparsity_of(params), accuracy)


def test_masks_and_zeros_survive_a_checkpoint_round_trip(tmp_path):
    from train.checkpoint import Checkpointer
    from train.state import TrainState

    tx = wrap(optax.sgd(0.1), 0.5)
    state = TrainState.create(apply_fn=None, params=PARAMS, tx=tx)
    grads = jax.tree.map(jnp.ones_like, PARAMS)
    state = state.apply_gradients(grads=grads)
    ckpt = Checkpointer(str(tmp_path / "ckpt"))
    ckpt.save(1, state, {"step": 1})
    restored, _ = ckpt.restore(TrainState.create(apply_fn=None, params=PARAMS, tx=tx))
    ckpt.close()
    chex.assert_trees_all_equal((restored.params, restored.opt_state), (state.params, state.opt_state))
    restored = restored.apply_gradients(grads=grads)  # training on after the restore
    mask = np.asarray(restored.opt_state.masks["dense"]["kernel"])
    assert (mask == 0).sum() == 20
    np.testing.assert_array_equal(np.asarray(restored.params["dense"]["kernel"])[mask == 0], 0)
