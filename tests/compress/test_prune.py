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
    s = polynomial_sparsity(0.8, begin=100, end=200, initial=0.2, power=2.0)  # 0.8 + (0.2 - 0.8) (1 - f)^2
    assert float(s(50)) == pytest.approx(0.2) and float(s(150)) == pytest.approx(0.65) and float(s(300)) == pytest.approx(0.8)


def _kept_by_sorting(scores, sparsity):
    """Keep-mask from the definition: the `floor(sparsity n)` smallest scores go, ties at the cut stay."""
    cut = np.sort(np.asarray(scores).ravel())[int(np.floor(sparsity * np.size(scores)))]
    return np.asarray(scores) >= cut


@pytest.mark.parametrize("sparsity", [0.33, 0.7])
def test_layer_masks_prune_floor_of_sparsity_times_size_as_a_sort_does(sparsity):
    """0.33 of 40 and 20 weights is 13.2 and 6.6: floor gives 13 and 6 zeros (NumPy sort reference)."""
    masks = magnitude_masks(PARAMS, sparsity)
    for name in ("dense", "head"):
        w = np.abs(np.asarray(PARAMS[name]["kernel"]))
        np.testing.assert_array_equal(np.asarray(masks[name]["kernel"]) == 1, _kept_by_sorting(w, sparsity))
        assert int((np.asarray(masks[name]["kernel"]) == 0).sum()) == int(np.floor(sparsity * w.size))


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_weights_tied_at_the_cut_are_kept(scope):
    """|w| = 1, 1, 2, 2 at sparsity 0.25: the cut is the second-smallest magnitude, 1, and both 1s stay."""
    masks = magnitude_masks({"kernel": jnp.array([[1.0, -1.0], [2.0, -2.0]])}, 0.25, scope=scope)
    np.testing.assert_array_equal(masks["kernel"], np.ones((2, 2)))


def test_structured_masks_rank_units_by_their_l2_norm_per_layer_and_globally():
    """Hand-built unit norms. Per layer: columns (3, 0, 0, 0) and (1, 1, 1, 1) have L2 norms 3 and 2 (L1 norms
    3 and 4), so the second goes. Globally: unit norms 5, 1 (6 inputs) and 2, 3, 4 (2 inputs); 0.4 of the 5
    units is 2, so the units of norm 1 and 2 go whatever their fan-in."""
    layer = magnitude_masks({"kernel": jnp.array([[3.0, 1.0], [0.0, 1.0], [0.0, -1.0], [0.0, 1.0]])}, 0.5,
                            structured=True)
    np.testing.assert_array_equal(layer["kernel"], np.tile([1.0, 0.0], (4, 1)))
    a = np.zeros((6, 2), np.float32)
    a[0] = [5.0, 1.0]
    b = np.array([[2.0, 0.0, 4.0], [0.0, 3.0, 0.0]], np.float32)
    masks = magnitude_masks({"a": jnp.asarray(a), "b": jnp.asarray(b)}, 0.4, scope="global", structured=True)
    np.testing.assert_array_equal(masks["a"], np.tile([1.0, 0.0], (6, 1)))
    np.testing.assert_array_equal(masks["b"], np.tile([0.0, 1.0, 1.0], (2, 1)))


def test_masks_are_recomputed_at_begin_plus_multiples_of_every_up_to_end():
    """Sparsity `0.1 t` with `begin=1, every=2, end=5` (learning rate 0, weights fixed): masks at steps 1, 3
    and 5, i.e. 4, 12 and 20 of 40 zeros; `end=None` prunes once, at `begin`."""
    params = {"kernel": PARAMS["dense"]["kernel"]}
    zero_grads = jax.tree.map(jnp.zeros_like, params)

    def zeros_per_step(tx, steps=8):
        p, state, counts, update = params, tx.init(params), [], jax.jit(tx.update)
        for _ in range(steps):
            updates, state = update(zero_grads, state, p)
            p = optax.apply_updates(p, updates)
            counts.append(int((np.asarray(p["kernel"]) == 0).sum()))
        return counts

    schedule = lambda step: 0.1 * step
    assert zeros_per_step(wrap(optax.sgd(0.0), schedule, begin=1, every=2, end=5)) == [0, 4, 4, 12, 12, 20, 20, 20]
    assert zeros_per_step(wrap(optax.sgd(0.0), schedule, begin=2, every=1)) == [0, 0, 8, 8, 8, 8, 8, 8]


def test_masks_come_from_the_updated_weights_and_min_ndim_reaches_the_biases():
    """One SGD step (lr 1) turns |w| = 1, 2, 3, 4 into 11, 2, 3, 4, so sparsity 0.5 prunes the 2 and the 3, not
    the 1; with `min_ndim=1` the bias (0.1, 0.2, 0.3, 0.4 after the step) loses its two smallest entries."""
    params = {"kernel": jnp.array([[1.0, 2.0], [3.0, 4.0]]), "bias": jnp.array([0.1, 0.2, 0.3, 0.4])}
    grads = {"kernel": jnp.array([[-10.0, 0.0], [0.0, 0.0]]), "bias": jnp.zeros(4)}
    for min_ndim, bias in ((2, [0.1, 0.2, 0.3, 0.4]), (1, [0.0, 0.0, 0.3, 0.4])):
        tx = wrap(optax.sgd(1.0), 0.5, min_ndim=min_ndim)
        updates, _ = tx.update(grads, tx.init(params), params)
        new = optax.apply_updates(params, updates)
        np.testing.assert_allclose(new["kernel"], [[11.0, 0.0], [0.0, 4.0]])
        np.testing.assert_allclose(new["bias"], bias, rtol=1e-6)


def test_sparsity_of_counts_zeros_among_arrays_of_at_least_min_ndim_dims():
    params = {"kernel": jnp.array([[0.0, 1.0], [2.0, 3.0]]), "bias": jnp.zeros(2)}
    assert sparsity_of(params) == 0.25 and sparsity_of(params, min_ndim=1) == 0.5  # 1 of 4; 3 of 6


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
