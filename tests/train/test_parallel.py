"""Data parallelism on jax.sharding: 8 simulated devices match one device on the same global
batch, and two processes (jax.distributed on CPU, gloo) train together and agree."""

import os
import socket
import subprocess
import sys

import chex
import jax
import numpy as np
import optax
import pytest

import zoo
from train.losses import cross_entropy_loss
from train.parallel import data_parallel_step, make_mesh, process_rows, replicate, shard_batch
from train.state import TrainState
from train.steps import make_train_step
from train.state import init_variables

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")


def small_problem(batch_size=32):
    """A BatchNorm CNN (so the test also covers batch statistics) and fixed batches."""
    model = zoo.CNN(features=(8,), hidden=16, norm=True)
    rng = np.random.default_rng(0)
    batches = [{"inputs": rng.random((batch_size, 8, 8, 1), dtype=np.float32),
                "label": rng.integers(0, 10, batch_size).astype(np.int32)} for _ in range(4)]
    variables = init_variables(model, jax.random.key(0), batches[0]["inputs"][:1])
    state = TrainState.create(apply_fn=model.apply, params=variables["params"], tx=optax.adam(1e-2),
                              batch_stats=variables["batch_stats"])
    return state, batches


def test_eight_devices_match_one_device_on_the_same_global_batch():
    assert jax.device_count() == 8  # tests/conftest.py
    state, batches = small_problem()
    step = make_train_step(cross_entropy_loss)
    rng = jax.random.key(1)
    single = jax.device_put(state, jax.devices()[0])
    one = jax.jit(step)
    for b in batches:
        single, _ = one(single, b, rng)
    mesh = make_mesh()
    sharded = replicate(state, mesh)
    first = shard_batch(process_rows(batches[0]), mesh)
    many = data_parallel_step(step, mesh, sharded, first)
    for b in batches:
        sharded, metrics = many(sharded, shard_batch(process_rows(b), mesh), replicate(rng, mesh))
    assert len(sharded.params["head"]["kernel"].sharding.device_set) == 8
    chex.assert_trees_all_close((single.params, single.batch_stats), (sharded.params, sharded.batch_stats),
                                rtol=1e-4, atol=1e-5)


def test_process_rows_are_distinct_and_cover_the_batch():
    batch = {"x": np.arange(12), "flag": np.float32(1.0)}
    parts = [process_rows(batch, i, 3) for i in range(3)]
    np.testing.assert_array_equal(np.concatenate([p["x"] for p in parts]), batch["x"])
    assert all(p["flag"] == 1.0 for p in parts)
    with pytest.raises(ValueError, match="not divisible by 5 processes"):
        process_rows(batch, 0, 5)


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_together_and_agree_with_one_process(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "PYTEST_XDIST_WORKER")}
    procs = [subprocess.Popen([sys.executable, WORKER, str(i), "2", str(port), str(tmp_path / f"p{i}.npz")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    ref = subprocess.run([sys.executable, WORKER, "0", "1", str(free_port()), str(tmp_path / "ref.npz")], env=env,
                         capture_output=True, text=True, timeout=240)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    results = [np.load(tmp_path / f"{name}.npz") for name in ("p0", "p1", "ref")]
    assert "rows 0:16" in outs[0] and "rows 16:32" in outs[1]  # each process read its own shard
    for key in results[2].files:
        np.testing.assert_array_equal(results[0][key], results[1][key])
        np.testing.assert_allclose(results[0][key], results[2][key], rtol=1e-4, atol=1e-5)


def test_model_axis_shards_the_largest_weights_and_matches_one_device():
    """A (data 4, model 2) mesh: the MLP's big kernels and their Adam moments are split over
    `model`; a few steps give the same parameters as one device."""
    from jax.sharding import NamedSharding

    from train.parallel import model_sharding

    model = zoo.MLP(features=(256, 256))
    rng = np.random.default_rng(1)
    batches = [{"inputs": rng.random((32, 8, 8, 1), dtype=np.float32),
                "label": rng.integers(0, 10, 32).astype(np.int32)} for _ in range(3)]
    params = init_variables(model, jax.random.key(0), batches[0]["inputs"][:1])["params"]
    state = TrainState.create(apply_fn=model.apply, params=params, tx=optax.adam(1e-3))
    step = make_train_step(cross_entropy_loss)
    single = jax.device_put(state, jax.devices()[0])
    for b in batches:
        single, _ = jax.jit(step)(single, b, jax.random.key(1))
    mesh = make_mesh(model=2)
    sharded = jax.device_put(state, model_sharding(mesh, state))
    kernel = sharded.params["dense1"]["kernel"]
    assert isinstance(kernel.sharding, NamedSharding) and kernel.sharding.spec[-1] == "model"
    assert kernel.addressable_shards[0].data.shape == (256, 128)
    first = shard_batch(process_rows(batches[0]), mesh)
    many = data_parallel_step(step, mesh, sharded, first)
    for b in batches:
        sharded, _ = many(sharded, shard_batch(process_rows(b), mesh), replicate(jax.random.key(1), mesh))
    assert sharded.params["dense1"]["kernel"].sharding.spec[-1] == "model"
    chex.assert_trees_all_close(single.params, sharded.params, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_data_parallel_training_through_the_loop_matches_one_device(tmp_path):
    """`--config.data_parallel=true` on the 8 simulated devices: the same parameters as the
    single-device run after the same steps (the loop shards batches and replicates the state)."""
    from train import configs
    from train.loop import run
    from train.overrides import apply_overrides
    from train.restore import load_run

    assert jax.device_count() == 8
    base = {"num_steps": "20", "eval_every": "0", "checkpoint_every": "20", "batch_size": "64"}
    replicas = {name: run("classify_digits", apply_overrides(configs.get_config("classify_digits"), {**base, **extra}),
                          str(tmp_path / name), progress=False)["data_parallel_replicas"]
                for name, extra in (("one", {}), ("eight", {"data_parallel": "true"}))}
    assert replicas == {"one": 1, "eight": 8}
    one, eight = (load_run(str(tmp_path / name))[1] for name in ("one", "eight"))
    assert int(one.step) == int(eight.step) == 20
    moved = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(
        jax.tree.leaves(one.params), jax.tree.leaves(load_run(str(tmp_path / "one"))[0].create_state(
            jax.random.split(jax.random.key(0))[0], optax.sgd(0.0)).params)))
    assert moved > 1e-3  # training changed the parameters, so agreement below is not trivial
    chex.assert_trees_all_close(one.params, eight.params, rtol=1e-4, atol=1e-5)
