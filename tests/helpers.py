"""Helpers shared by test modules."""

import contextlib
import os

import pytest


def require_torch():
    """`torch`, or a skip where it is not installed; in CI (`CI` set, where `.ci/run` installs the
    `bench` extra) a missing torch fails the test instead, so torch-backed checks never go quiet."""
    if os.environ.get("CI"):
        import torch
        return torch
    return pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0 (the CPU build)")


RUN_ALL = """
import importlib, json, sys
for module, *argv in json.loads(sys.argv[1]):
    code = importlib.import_module(f"{module}.cli").main(argv)
    if code:
        sys.exit(f"{module} {argv} exited {code}")
"""


def cli_commands_in_one_process(commands: list[list[str]], timeout: int, **env: str) -> None:
    """Runs `python -m MODULE ARGS` for each `[MODULE, *ARGS]` of `commands`, in turn, in one subprocess
    (as `MODULE.cli.main(ARGS)`: Python, JAX and the zoo start once), its environment updated with `env`;
    a command that fails fails the test with the subprocess's stderr."""
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(commands)], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]


def train_digits(workdir: str, num_steps: int) -> str:
    """A short `classify_digits` run (default CNN, evaluated only at the end) in `workdir`."""
    from train import configs
    from train.loop import run
    from train.overrides import apply_overrides

    steps = str(num_steps)
    config = apply_overrides(configs.get_config("classify_digits"),
                             {"num_steps": steps, "eval_every": "0", "checkpoint_every": steps})
    run("classify_digits", config, workdir, progress=False)
    return workdir


def shipped_run(name: str, workdir: str) -> str:
    """A run workdir holding the shipped model `name` as its checkpoint (and the card's test metrics
    as its `summary.json`), made without training: what the commands that read a `--workdir` run
    are tested on."""
    import json

    from train.checkpoint import Checkpointer
    from train.restore import load_pretrained
    from zoo import pretrained

    _, state, meta = load_pretrained(name)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    try:
        ckpt.save(meta["step"], state, meta)
    finally:
        ckpt.close()
    card = pretrained.load(name)[2]
    with open(os.path.join(workdir, "summary.json"), "w") as f:
        json.dump({"recipe": card["recipe"], "test": card["metrics"]}, f)
    return workdir


@contextlib.contextmanager
def no_classifier_training(where: str):
    """Training a classifier (`Classification.train_batches`) fails inside: the tests of `where`
    start from shipped models."""
    from train.tasks.classification import Classification

    def refuse(self, start_step):
        raise AssertionError(f"a test in {where} trained a classifier; start from a shipped model "
                             f"(the `shipped` fixture, or tests.helpers.shipped_run for a workdir)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Classification, "train_batches", refuse)
        yield


def tensorboard_scalars(workdir: str) -> dict:
    """`{tag: [(step, value), ...]}` as TensorBoard's own reader loads `workdir`'s event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(workdir)
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@contextlib.contextmanager
def without_data(monkeypatch):
    """Every dataset reader raises inside: what runs there (restoring a run from its checkpoint,
    exporting it) must not read any data."""
    from train import data
    from train.data import registry

    def no_data(*args, **kwargs):
        raise AssertionError(f"a dataset was read: {args}")

    with monkeypatch.context() as patch:
        for module in (data, registry):
            for reader in ("load", "load_text", "builder"):
                patch.setattr(module, reader, no_data)
        yield


def load_run_without_data(workdir: str, monkeypatch):
    """`train.restore.load_run(workdir)` under `without_data`: the run restores from its checkpoint."""
    from train.restore import load_run

    with without_data(monkeypatch):
        return load_run(workdir)


def matmul_operand_dtypes(jaxpr) -> set:
    """Dtypes (as strings) of the operands of every matrix product and convolution in `jaxpr`,
    inside scans, conditionals and nested jits too."""
    import jax

    found = set()
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("dot_general", "conv_general_dilated"):
            found.update(str(v.aval.dtype) for v in eqn.invars)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                if isinstance(sub, jax.extend.core.ClosedJaxpr):
                    found |= matmul_operand_dtypes(sub.jaxpr)
                elif isinstance(sub, jax.extend.core.Jaxpr):
                    found |= matmul_operand_dtypes(sub)
    return found
