"""The training loop end to end: learning, outputs, resume, NaN stop, Ctrl-C."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train import configs, data
from train.cli import main
from train.errors import TrainingDiverged, UserError
from train.loop import run
from train.overrides import apply_overrides
from train.restore import load_run

from tests.helpers import require_torch, tensorboard_scalars, without_data

SHORT = {"num_steps": "300", "log_every": "50", "eval_every": "150", "checkpoint_every": "150"}


def config(recipe="classify_digits", **overrides):
    return apply_overrides(configs.get_config(recipe), {**SHORT, **overrides})


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("digits"))
    return workdir, run("classify_digits", config(), workdir, progress=False)


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow
def test_digits_cnn_learns(digits_run):
    _, summary = digits_run
    assert summary["test"]["test_accuracy"] >= 0.95  # chance is 0.10
    assert summary["train"]["loss"] < 0.5


@pytest.mark.slow
def test_mnist1d_cnn_learns(tmp_path):
    summary = run("classify_mnist1d", config("classify_mnist1d", num_steps="600", eval_every="0",
                                             checkpoint_every="600"), str(tmp_path), progress=False)
    assert summary["test"]["test_accuracy"] >= 0.9  # chance is 0.10; the full recipe reaches ~0.97


@pytest.mark.slow
def test_mnist1d_gru_learns(tmp_path):
    summary = run("classify_mnist1d_rnn", config("classify_mnist1d_rnn", num_steps="500", eval_every="0",
                                                 checkpoint_every="500"), str(tmp_path), progress=False)
    assert summary["test"]["test_accuracy"] >= 0.6  # chance is 0.10; the full recipe reaches ~0.97


def test_run_writes_the_workdir_contract(digits_run):
    workdir, summary = digits_run
    on_disk = json.load(open(os.path.join(workdir, "summary.json")))
    assert on_disk["test"] == summary["test"] and on_disk["steps"] == 300
    assert on_disk["config"]["optimizer"]["learning_rate"] == configs.get_config("classify_digits").optimizer.learning_rate
    lines = read_lines(os.path.join(workdir, "metrics.jsonl"))
    train_lines = [r for r in lines if "loss" in r]
    assert [r["step"] for r in train_lines] == list(range(50, 301, 50))
    assert {"loss", "accuracy", "learning_rate", "l2_grads", "l2_params"} <= set(train_lines[0])
    assert [r["step"] for r in lines if "test_accuracy" in r] == [150, 300]
    assert train_lines[-1]["loss"] < train_lines[0]["loss"]
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["150", "300"]
    assert os.path.getsize(os.path.join(workdir, "figures", "learning_curves.png")) > 10_000


def test_rerunning_a_finished_run_does_not_retrain(digits_run):
    workdir, summary = digits_run
    before = open(os.path.join(workdir, "metrics.jsonl")).read()
    again = run("classify_digits", config(), workdir, progress=False)
    assert again["resumed_from_step"] == 300 and again["compile_time_s"] == 0.0
    assert again["test"] == summary["test"] and again["train"] == summary["train"]
    assert open(os.path.join(workdir, "metrics.jsonl")).read() == before


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(digits_run, tmp_path):
    workdir = str(tmp_path / "diverge")
    shutil.copytree(digits_run[0], workdir)
    bad = config(num_steps="450", **{"optimizer.learning_rate": "1e30", "optimizer.schedule": "constant"})
    with pytest.raises(TrainingDiverged, match="last good checkpoint: step 300"):
        run("classify_digits", bad, workdir, progress=False)
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["150", "300"]


def _poison(monkeypatch, bad_step):
    """Classification batches with NaN inputs at train step `bad_step` (a corrupt batch)."""
    from train.tasks.classification import Classification

    batches = Classification.train_batches

    def poisoned(self, start_step):
        for step, batch in enumerate(batches(self, start_step), start_step + 1):
            yield dict(batch, inputs=np.full_like(batch["inputs"], np.nan)) if step == bad_step else batch

    monkeypatch.setattr(Classification, "train_batches", poisoned)


def test_a_nan_between_checkpoints_stops_at_the_next_log_step_and_a_resumed_run_ends_like_the_uninterrupted_one(
        digits_run, tmp_path, monkeypatch):
    """From step 150 of the digits run (log every 50, eval and checkpoint every 150) a NaN batch at
    step 163 makes the conv weights NaN (the CNN's loss stays finite on a CPU: XLA's fused ReLU
    drops the NaN) and stops the run at the log step 200, not at the next save (300): no line or
    checkpoint past 150 is written. Rerun without the bad batch, on other cadences (log 70, eval 75, checkpoint
    140), it resumes from 150 and ends with the uninterrupted run's parameters; each log line's
    learning rate is the mean of the closed-form warm-up cosine over the steps it covers."""
    workdir = str(tmp_path / "nan")
    shutil.copytree(digits_run[0], workdir)
    shutil.rmtree(os.path.join(workdir, "checkpoints", "300"))
    metrics = os.path.join(workdir, "metrics.jsonl")
    kept = [r for r in read_lines(metrics) if r["step"] <= 150]
    with monkeypatch.context() as patch:
        _poison(patch, 163)
        with pytest.raises(TrainingDiverged, match=r"^(parameters became NaN/inf|loss became nan) by step 200; "
                                                   r"last good checkpoint: step 150 in "):
            run("classify_digits", config(), workdir, progress=False)
    assert os.listdir(os.path.join(workdir, "checkpoints")) == ["150"]
    assert read_lines(metrics) == kept

    summary = run("classify_digits", config(log_every="70", eval_every="75", checkpoint_every="140"), workdir,
                  progress=False)
    assert summary["resumed_from_step"] == 150 and summary["steps"] == 300
    lines = read_lines(metrics)
    train_lines = [r for r in lines if "loss" in r]
    assert [r["step"] for r in train_lines] == [50, 100, 150, 210, 280, 300]  # the last step is always logged
    assert [r["step"] for r in lines if "test_accuracy" in r] == [150, 225, 300]
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints")), key=int) == ["280", "300"]  # the last 2 kept
    _, resumed, _ = load_run(workdir)
    _, uninterrupted, _ = load_run(digits_run[0])
    chex.assert_trees_all_close(resumed.params, uninterrupted.params, rtol=1e-6, atol=1e-7)
    assert summary["test"] == pytest.approx(digits_run[1]["test"], rel=1e-6)
    lr = configs.get_config("classify_digits").optimizer.learning_rate  # warm-up 50, cosine to 0 at 300
    cosine = lambda s: lr * np.where(s < 50, s / 50, 0.5 * (1 + np.cos(np.pi * (s - 50) / 250)))
    for (first, last), line in zip([(150, 210), (210, 280), (280, 300)], train_lines[3:]):  # state.step of each step
        assert line["learning_rate"] == pytest.approx(np.mean(cosine(np.arange(first, last))), rel=1e-5)


def _finite(tree):
    return all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(tree))


def test_a_divergence_on_a_checkpoint_step_keeps_a_finite_checkpoint(tmp_path):
    # a checkpoint every step: the step that blows the parameters up is itself a checkpoint step,
    # and its own loss (computed before its update) is still finite
    bad = config(num_steps="50", checkpoint_every="1", log_every="1", eval_every="0",
                 **{"optimizer.learning_rate": "1e30", "optimizer.schedule": "constant"})
    with pytest.raises(TrainingDiverged, match="(?i)nan|inf"):
        run("classify_digits", bad, str(tmp_path), progress=False)
    task, state, meta = load_run(str(tmp_path))
    assert _finite(state.params) and _finite(state.opt_state)
    images = data.load("digits", "test[:64]")
    batch = {"inputs": jnp.asarray(images["image"]), "label": jnp.asarray(images["label"])}
    loss, _ = task.loss_fn(state.params, state, batch, jax.random.key(0))
    assert np.isfinite(float(loss)), f"checkpoint {meta['step']} has a non-finite loss"


def _truncate_a_file(step_dir):
    path = os.path.join(step_dir, "state", "_METADATA")
    with open(path, "r+b") as f:
        f.truncate(10)


def test_a_damaged_latest_checkpoint_resumes_from_the_previous_one(digits_run, tmp_path, capsys):
    workdir = str(tmp_path / "damaged")
    shutil.copytree(digits_run[0], workdir)
    _truncate_a_file(os.path.join(workdir, "checkpoints", "300"))
    os.makedirs(os.path.join(workdir, "checkpoints", "450.orbax-checkpoint-tmp-17", "state"))  # a crashed save
    summary = run("classify_digits", config(num_steps="450"), workdir, progress=False)
    assert summary["resumed_from_step"] == 150 and summary["steps"] == 450
    assert "checkpoint 300 (state/_METADATA has 10 bytes" in capsys.readouterr().err
    assert os.listdir(os.path.join(workdir, "damaged_checkpoints")) == ["300"]
    # steps 200..300 were logged twice, before and after the resume from 150: TensorBoard, like
    # metrics.jsonl, keeps only the second pass
    logged = read_lines(os.path.join(workdir, "metrics.jsonl"))
    assert [r["step"] for r in logged if "loss" in r] == list(range(50, 451, 50))
    board = tensorboard_scalars(workdir)
    for key in ("loss", "l2_grads", "test_accuracy"):
        records = [r for r in logged if key in r]
        assert board["train/" + key if "loss" in records[0] else key] == [
            (r["step"], pytest.approx(r[key], rel=1e-6)) for r in records]


_LOG_WITHOUT_TORCH = """
import sys
from train.loop import MetricsLog
log = MetricsLog(sys.argv[1], 0)
log.write(7, {"loss": 0.5})
log.close()
assert "torch" not in sys.modules, "writing the TensorBoard log imported torch"
import torch
print(float(torch.ones(3).sum()))
"""


def test_the_tensorboard_log_leaves_torch_unimported_and_importable(tmp_path):
    require_torch()  # installed: tensorboardX would import it (about a second of every run's start)
    result = subprocess.run([sys.executable, "-c", _LOG_WITHOUT_TORCH, str(tmp_path / "metrics.jsonl")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "3.0"
    assert tensorboard_scalars(str(tmp_path)) == {"train/loss": [(7, 0.5)]}


def test_every_checkpoint_damaged_is_one_line_and_exit_2(digits_run, tmp_path):
    workdir = str(tmp_path / "damaged")
    shutil.copytree(digits_run[0], workdir)
    for step in ("150", "300"):
        _truncate_a_file(os.path.join(workdir, "checkpoints", step))
    result = subprocess.run(train_cli(workdir), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "every checkpoint in" in line and workdir in line and "--fresh" in line
    fresh = subprocess.run(train_cli(workdir, "--fresh", "--config.num_steps=20"), capture_output=True, text=True,
                           timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    assert json.load(open(os.path.join(workdir, "summary.json")))["resumed_from_step"] == 0


def test_resuming_with_other_shapes_names_the_changed_fields(digits_run, tmp_path):
    workdir = str(tmp_path / "wider")
    shutil.copytree(digits_run[0], workdir)
    with pytest.raises(UserError, match=r"changed fields: model\.hidden 128 -> 32, num_steps 300 -> 450; "):
        run("classify_digits", config(num_steps="450", **{"model.hidden": "32"}), workdir, progress=False)
    longer = run("classify_digits", config(num_steps="450"), workdir, progress=False)
    assert longer["resumed_from_step"] == 300 and longer["steps"] == 450


def _listdir(path):
    return os.listdir(path) if os.path.isdir(path) else []


def train_cli(workdir, *extra, steps="900"):
    args = [f"--config.{k}={v}" for k, v in {**SHORT, "num_steps": steps, "checkpoint_every": "100"}.items()]
    return [sys.executable, "-m", "train", "--workdir", workdir, "--no-progress", *args, *extra]


@pytest.mark.slow
def test_ctrl_c_saves_the_interrupted_step_and_rerun_ends_like_an_uninterrupted_run(tmp_path):
    # no periodic checkpoint before the end (checkpoint_every > num_steps): any checkpoint found after
    # the interrupt was written by the Ctrl-C handler, and it must hold the step the run had reached
    no_periodic = "--config.checkpoint_every=1000"
    reference = subprocess.run(train_cli(str(tmp_path / "reference"), no_periodic, steps="300"), capture_output=True, text=True,
                               timeout=300)
    assert reference.returncode == 0, reference.stderr
    workdir = str(tmp_path / "interrupted")
    # Python's Ctrl-C handler in the child even where this runs with SIGINT ignored (a background job)
    with_handler = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                    "runpy.run_module('train', run_name='__main__', alter_sys=True)")
    proc = subprocess.Popen([sys.executable, "-c", with_handler, *train_cli(workdir, no_periodic, steps="300")[3:]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(workdir, "metrics.jsonl")) and time.time() < deadline:  # step 50 logged
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    message = err.strip().splitlines()[-1]
    assert "interrupted; latest checkpoint is step" in message
    saved = [int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit()]
    assert len(saved) == 1 and 50 <= saved[0] < 300, saved
    assert f"step {saved[0]} in" in message
    logged = read_lines(os.path.join(workdir, "metrics.jsonl"))
    assert logged[-1]["step"] <= saved[0] < logged[-1]["step"] + 50  # the step it reached, not a logged one
    resumed = subprocess.run(train_cli(workdir, no_periodic, steps="300"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    ours, theirs = (json.load(open(os.path.join(d, "summary.json"))) for d in (workdir, str(tmp_path / "reference")))
    assert ours["resumed_from_step"] == saved[0]
    assert ours["test"] == theirs["test"]


_INTERRUPTED_SAVE = """
import os, signal, sys
import jax.numpy as jnp
from train.checkpoint import Checkpointer

ckpt = Checkpointer(sys.argv[1])
wait, finished = ckpt._manager.wait_until_finished, []

def interrupted_wait():  # Ctrl-C lands while orbax waits for the commit
    os.kill(os.getpid(), signal.SIGINT)
    wait()
    finished.append(True)

ckpt._manager.wait_until_finished = interrupted_wait
try:
    ckpt.save(7, {"w": jnp.arange(3.0)}, {"step": 7})
except KeyboardInterrupt:
    restored, meta = ckpt.restore({"w": jnp.zeros(3)})
    print(bool(finished), ckpt.latest_step(), restored["w"].tolist(), meta)
"""


def test_ctrl_c_during_a_save_waits_for_the_commit_then_raises(tmp_path):
    # in a subprocess: signal handlers belong to the main thread, which pytest-xdist keeps
    result = subprocess.run([sys.executable, "-c", _INTERRUPTED_SAVE, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True 7 [0.0, 1.0, 2.0] {'step': 7}", result.stdout


_LOAD_EXPORTED = """
import sys
import numpy as np
from jax import export
exported = export.deserialize(bytearray(open(sys.argv[1], "rb").read()))
for path in sys.argv[2:]:
    np.save(path, np.asarray(exported.call(np.load(path))))
assert not {m.split(".")[0] for m in sys.modules} & {"zoo", "train", "interpret", "compress", "flax"}, "jaxzoo imported"
"""


def test_the_run_restores_and_exports_without_its_data_and_runs_where_jaxzoo_is_not(digits_run, tmp_path,
                                                                                     monkeypatch, capsys):
    workdir, _ = digits_run
    with without_data(monkeypatch):
        task, state, meta = load_run(workdir)
        assert main(["export", "--workdir", workdir]) == 0
    assert meta["shapes"] == {"inputs": [8, 8, 1]}
    assert "inputs Nx8x8x1 float32 -> logits Nx10 float32" in capsys.readouterr().out
    signature = json.load(open(os.path.join(workdir, "export", "signature.json")))
    assert signature["inputs"] == [{"name": "inputs", "shape": [None, 8, 8, 1], "dtype": "float32"}]
    images = data.load("digits", "test")["image"]
    batches = {n: str(tmp_path / f"batch{n}.npy") for n in (3, 7)}  # one artifact, any batch size
    for n, path in batches.items():
        np.save(path, images[:n])
    loaded = subprocess.run([sys.executable, "-c", _LOAD_EXPORTED, os.path.join(workdir, "export", "model.bin"),
                             *batches.values()], capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    for n, path in batches.items():
        logits = np.asarray(task.logits(state.variables(), jnp.asarray(images[:n])))
        assert np.load(path).shape == (n, 10) and np.abs(np.load(path) - logits).max() <= 1e-5
