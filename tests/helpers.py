"""Helpers shared by test modules."""

import os

import pytest


def require_torch():
    """`torch`, or a skip where it is not installed; in CI (`CI` set, where `.ci/run` installs the
    `bench` extra) a missing torch fails the test instead, so torch-backed checks never go quiet."""
    if os.environ.get("CI"):
        import torch
        return torch
    return pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0 (the CPU build)")


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
