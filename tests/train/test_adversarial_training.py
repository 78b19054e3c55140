"""Adversarial training (`--config.adversarial.method=pgd`, Madry et al. 2018) makes the digits CNN
robust to the PGD attack that breaks the shipped, normally trained one."""

import jax
import jax.numpy as jnp
import pytest

from interpret.adversarial import pgd
from train import configs, data
from train.loop import run
from train.overrides import apply_overrides
from train.restore import load_run

EPS = 0.2


@pytest.mark.slow
def test_adversarial_training_makes_the_cnn_more_robust(shipped, tmp_path):
    config = apply_overrides(configs.get_config("classify_digits"), {
        "num_steps": "300", "eval_every": "0", "checkpoint_every": "300", "adversarial.method": "pgd",
        "adversarial.steps": "5", "adversarial.step_size": "0.1"})
    run("classify_digits", config, str(tmp_path), progress=False)
    task, state, _ = load_run(str(tmp_path))
    plain_task, plain_state = shipped("cnn_digits")
    test = data.load("digits", "test")
    x, y = jnp.asarray(test["image"][:120]), jnp.asarray(test["label"][:120])
    accuracy = {}
    for name, (apply_fn, params) in {"plain": (plain_task.logits, plain_state.variables()),
                                     "adversarial": (task.logits, state.variables())}.items():
        _, success = pgd(apply_fn, params, x, y, EPS, 2.5 * EPS / 20, 20, jax.random.key(0), restarts=2)
        accuracy[name] = 1 - float(success.mean())
    assert accuracy["adversarial"] >= 4 * accuracy["plain"] and accuracy["adversarial"] > 0.3, accuracy
