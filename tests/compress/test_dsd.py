"""DSD: the three phases of the optax wrapper (dense, masked, re-dense from zero with a smaller
step), and the `python -m compress dsd` study against its dense baseline."""

import json
import os
import signal

import chex
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress import dsd


def test_dense_then_masked_then_dense_again_with_scaled_updates():
    params = {"kernel": jnp.arange(1.0, 17.0).reshape(4, 4), "bias": jnp.zeros(4)}
    tx = dsd.wrap(optax.sgd(0.5), sparsity=0.5, sparse_begin=2, sparse_end=4, redense_scale=0.1)
    grads = jax.tree.map(lambda x: -jnp.ones_like(x), params)  # every step adds 0.5 (x0.1 once re-dense)
    state = tx.init(params)
    history = []
    for _ in range(6):
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        history.append(np.asarray(params["kernel"]))
    assert (history[1] != 0).all()                                   # steps 0-1: dense
    zeros = history[2] == 0
    assert zeros.sum() == 8 and (history[3][zeros] == 0).all()       # steps 2-3: half pruned, held at zero
    np.testing.assert_allclose(history[4][zeros], 0.05)              # step 4: restored from zero, lr x0.1
    np.testing.assert_allclose(history[5][~zeros], history[3][~zeros] + 0.1, rtol=1e-6)
    assert float(params["bias"][0]) == pytest.approx(0.5 * 4 + 0.05 * 2)  # biases are never pruned
    with pytest.raises(ValueError, match="sparse_begin"):
        dsd.wrap(optax.sgd(0.1), 0.5, sparse_begin=5, sparse_end=2)
    # min_ndim=1 prunes biases too: the two smallest of 1, 2, 3, 4 (the all-equal kernel ties and is kept)
    params = {"kernel": jnp.ones((2, 2)), "bias": jnp.arange(1.0, 5.0)}
    tx = dsd.wrap(optax.sgd(0.0), 0.5, sparse_begin=0, sparse_end=1, min_ndim=1)
    updates, _ = tx.update(jax.tree.map(jnp.zeros_like, params), tx.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(new["bias"], [0.0, 0.0, 3.0, 4.0])
    np.testing.assert_array_equal(new["kernel"], np.ones((2, 2)))


def _masks_by_sorting(kernels, sparsity, scope):
    """The DSD mask from its definition in NumPy: the `floor(sparsity n)` smallest magnitudes of each
    kernel (or of all kernels pooled) are pruned, ties at the cut kept."""
    def keep(values, pool):
        cut = np.sort(np.abs(pool).ravel())[int(np.floor(sparsity * pool.size))]
        return np.abs(values) >= cut
    if scope == "global":
        pool = np.concatenate([k.ravel() for k in kernels])
        return [keep(k, pool) for k in kernels]
    return [keep(k, k) for k in kernels]


@pytest.mark.parametrize("inner, scope", [(optax.adam(0.05), "layer"), (optax.sgd(0.05, momentum=0.9), "global")],
                         ids=["adam-layer", "momentum-global"])
def test_dsd_on_a_tiny_model_holds_masks_through_momentum_and_redenses_from_the_sparse_weights(inner, scope):
    """A two-layer linear regression trained by `dsd.wrap(inner)` against the DSD recipe written out in
    NumPy around a separate copy of `inner` fed the same gradients: dense steps are `w + u`; at `sparse_begin`
    the new weights are pruned by sorting; sparse steps are `mask * (w + u)` (exact zeros, although momentum
    keeps proposing updates for pruned weights); re-dense steps are `w + redense_scale * u` from the sparse
    weights, so pruned weights leave zero by exactly `redense_scale * u`."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    params = {"hidden": {"kernel": jnp.asarray(rng.standard_normal((4, 3)), jnp.float32), "bias": jnp.zeros(3)},
              "out": {"kernel": jnp.asarray(rng.standard_normal((3, 2)), jnp.float32), "bias": jnp.zeros(2)}}
    loss = lambda p: jnp.mean(((x @ p["hidden"]["kernel"] + p["hidden"]["bias"][None]) @ p["out"]["kernel"]
                               + p["out"]["bias"][None] - y) ** 2)
    begin, end, scale, names = 2, 5, 0.1, ("hidden", "out")
    tx = dsd.wrap(inner, sparsity=0.5, sparse_begin=begin, sparse_end=end, redense_scale=scale, scope=scope)
    state, ref_state = tx.init(params), inner.init(params)
    reference, masks = jax.tree.map(np.asarray, params), None

    @jax.jit
    def step(params, state, ref_state):  # both optimizers see the same gradient
        grads = jax.grad(loss)(params)
        u, ref_state = inner.update(grads, ref_state, params)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, u, ref_state

    for t in range(8):
        params, state, u, ref_state = step(params, state, ref_state)
        u = jax.tree.map(np.asarray, u)
        reference = jax.tree.map(lambda w, d: w + (scale if t >= end else 1.0) * d, reference, u)
        if t == begin:
            masks = dict(zip(names, _masks_by_sorting([reference[n]["kernel"] for n in names], 0.5, scope)))
        if begin <= t < end:
            for n in names:
                reference[n]["kernel"] = reference[n]["kernel"] * masks[n]
                np.testing.assert_array_equal(np.asarray(params[n]["kernel"])[~masks[n]], 0)  # exactly zero
                assert (np.abs(u[n]["kernel"][~masks[n]]) > 0).all()  # although the optimizer still moves them
            assert sum(int((~m).sum()) for m in masks.values()) == 9  # half of 12 + 6 weights pruned
        if t == end:  # the first re-dense step starts the pruned weights from zero, not from their dense values
            for n in names:
                np.testing.assert_allclose(np.asarray(params[n]["kernel"])[~masks[n]], scale * u[n]["kernel"][~masks[n]],
                                           rtol=1e-5)
        chex.assert_trees_all_close(jax.tree.map(np.asarray, params), reference, rtol=1e-5, atol=1e-6)
    for n in names:  # pruned weights are free again after re-densing
        assert (np.asarray(params[n]["kernel"])[~masks[n]] != 0).all()
        assert float(params[n]["bias"][0]) != 0.0  # biases are never pruned


@pytest.mark.slow
def test_the_dsd_study_compares_three_seeds_against_a_same_steps_baseline(tmp_path):
    from compress.cli import main

    assert main(["dsd", "--workdir", str(tmp_path), "--no-progress"]) == 0
    with open(os.path.join(tmp_path, "summary.json")) as f:
        summary = json.load(f)
    assert all(len(v) == 3 for v in summary["test_accuracy"].values())
    assert summary["mean"]["dsd"] >= 0.95 and summary["mean"]["baseline"] >= 0.95  # both learn; either may win
    assert summary["gain"] == pytest.approx(summary["mean"]["dsd"] - summary["mean"]["baseline"])
    assert summary["verdict"] in open(os.path.join(tmp_path, "dsd.md")).read()


SMALL = ["--no-progress", "--config.seeds=3", "--config.dense_steps=40", "--config.sparse_steps=20",
         "--config.redense_steps=20"]


def _interrupt_at(step: int):
    """A stand-in for `tqdm` that sends SIGINT (Ctrl-C) before step `step` of the first loop
    that reaches it, as a user's Ctrl-C during that step would."""
    sent = []

    def bar(iterable, **kwargs):
        for i in iterable:
            if i == step and not sent:
                sent.append(i)
                signal.raise_signal(signal.SIGINT)
            yield i
    return bar


def test_the_study_resumes_after_ctrl_c_reruns_without_training_and_refuses_another_config(tmp_path, monkeypatch,
                                                                                            capsys):
    from compress import fit
    from compress.cli import main

    def summary(workdir):
        with open(os.path.join(workdir, "summary.json")) as f:
            return json.load(f)

    whole, resumed = str(tmp_path / "whole"), str(tmp_path / "resumed")
    assert main(["dsd", "--workdir", whole, *SMALL]) == 0
    with monkeypatch.context() as m:
        m.setattr(fit, "tqdm", _interrupt_at(25))
        # Ctrl-C as in a terminal, also where the suite runs as a background job (SIGINT ignored)
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            assert main(["dsd", "--workdir", resumed, *SMALL]) == 130
        finally:
            signal.signal(signal.SIGINT, previous)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: interrupted after step 26 of baseline seed 3"), err
    with open(os.path.join(resumed, "checkpoints", "seed3_baseline.msgpack"), "rb") as f:
        assert flax.serialization.msgpack_restore(f.read())["step"] == 26
    assert not os.path.exists(os.path.join(resumed, "summary.json"))

    def steps_run(workdir):  # the steps of each phase that a rerun trains
        ranges = []
        with monkeypatch.context() as m:
            m.setattr(fit, "tqdm", lambda iterable, **kwargs: ranges.append(list(iterable)) or iter(ranges[-1]))
            assert main(["dsd", "--workdir", workdir, *SMALL]) == 0
        return [(r[0], r[-1]) if r else () for r in ranges]

    assert steps_run(resumed) == [(26, 79), (0, 59), (0, 19)]  # baseline, DSD's dense+sparse, re-dense
    assert summary(resumed)["test_accuracy"] == summary(whole)["test_accuracy"]  # the same batches and steps
    assert steps_run(resumed) == [(), (), ()]  # a finished study trains nothing when rerun
    assert summary(resumed)["test_accuracy"] == summary(whole)["test_accuracy"]

    assert main(["dsd", "--workdir", resumed, *SMALL, "--config.sparsity=0.3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed: sparsity 0.5 -> 0.3" in err[0] and "--fresh" in err[0], err
    assert main(["dsd", "--workdir", resumed, *SMALL, "--config.sparsity=0.3", "--fresh"]) == 0
    assert summary(resumed)["config"]["sparsity"] == 0.3
