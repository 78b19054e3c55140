"""DSD: the three phases of the optax wrapper (dense, masked, re-dense from zero with a smaller
step), and the `python -m compress dsd` study against its dense baseline."""

import json
import os
import signal

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
        assert main(["dsd", "--workdir", resumed, *SMALL]) == 130
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
