"""The robustness study end to end at a reduced size, and the linearity measure."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.robustness import accuracy_and_confidence, linearity, run_study
from train import configs
from train.overrides import apply_overrides


def test_linearity_of_a_linear_model_is_exact():
    """R^2 = 1, and the first example's curve is (x + e sign(W (p - onehot))) W on the grid e in [-0.3, 0.3]
    (the cross-entropy's input gradient for logits x W, by hand)."""
    w = jax.random.normal(jax.random.key(0), (12, 4))
    apply_fn = lambda params, x: x.reshape(x.shape[0], -1) @ params
    x = jax.random.uniform(jax.random.key(1), (5, 12))
    result = linearity(apply_fn, w, x, jnp.zeros(5, jnp.int32), eps_max=0.3, num=9)
    np.testing.assert_allclose(result["r2_per_class"], 1.0, atol=1e-5)
    w64, x0 = np.asarray(w, np.float64), np.asarray(x[0], np.float64)
    p = np.exp(x0 @ w64) / np.exp(x0 @ w64).sum()
    direction = np.sign(w64 @ (p - np.eye(4)[0]))
    grid = np.linspace(-0.3, 0.3, 9)
    np.testing.assert_allclose(result["eps"], grid, rtol=1e-6)
    np.testing.assert_allclose(result["example_logits"], (x0 + grid[:, None] * direction) @ w64, rtol=1e-5, atol=1e-5)


def test_confidence_on_mistakes_averages_the_wrong_predictions_only():
    logits = jnp.log(jnp.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]))
    stats = accuracy_and_confidence(lambda p, x: x, None, logits, jnp.array([0, 0, 1]))
    assert stats["accuracy"] == pytest.approx(1 / 3)
    assert stats["confidence_on_mistakes"] == pytest.approx((0.7 + 0.6) / 2)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The study on its shipped models (`robustness_digits_*`, the study's default training), at reduced
    attack settings."""
    workdir = str(tmp_path_factory.mktemp("robustness"))
    config = apply_overrides(configs.get_config("robustness_digits"), {
        "pretrained": "true", "epsilons": "(0.1, 0.2)", "pgd_steps": "10", "pgd_restarts": "2",
        "parzen_sigmas": "(0.3, 0.5)"})
    return workdir, run_study("robustness_digits", config, workdir, progress=False)


def test_shipped_models_refuse_other_training_settings(tmp_path):
    from train.errors import UserError

    config = apply_overrides(configs.get_config("robustness_digits"), {"pretrained": "true", "adv_steps": "3"})
    with pytest.raises(UserError, match="the shipped robustness_digits_cnn_adversarial was trained with the "
                                        "study's default training settings"):
        run_study("robustness_digits", config, str(tmp_path), progress=False)


@pytest.mark.slow
def test_study_writes_table_markdown_and_figures(study):
    workdir, summary = study
    on_disk = json.load(open(os.path.join(workdir, "summary.json")))
    models = {"softmax_regression", "cnn", "cnn_adversarial", "rbf", "parzen"}
    assert {r["model"] for r in on_disk["table"]} == models and set(on_disk["transfer"]) == models
    assert {r["attack"] for r in on_disk["table"]} == {"clean", "fgsm", "pgd10x2", "random_sign"}
    assert "| cnn_adversarial |" in open(os.path.join(workdir, "robustness.md")).read()
    for figure in ("robust_accuracy.png", "linearity.png"):
        assert os.path.getsize(os.path.join(workdir, "figures", figure)) > 10_000


@pytest.mark.slow
def test_study_shows_the_lecture_claims(study):
    _, summary = study
    row = {(r["model"], r["attack"], r["eps"]): r for r in summary["table"]}
    assert row[("cnn", "pgd10x2", 0.2)]["accuracy"] < 0.1
    assert row[("cnn_adversarial", "pgd10x2", 0.2)]["accuracy"] >= 4 * max(row[("cnn", "pgd10x2", 0.2)]["accuracy"], 0.05)
    assert row[("rbf", "pgd10x2", 0.2)]["confidence_on_mistakes"] < row[("cnn", "pgd10x2", 0.2)]["confidence_on_mistakes"]
    # Random signs of the same L-infinity size barely move the CNN; the gradient's signs do.
    assert row[("cnn", "random_sign", 0.1)]["accuracy"] > row[("cnn", "fgsm", 0.1)]["accuracy"] + 0.2
    # Along the gradient's signs the CNN's logits are close to linear, more than the RBF net's.
    r2 = {name: result["mean_r2"] for name, result in summary["linearity"].items()}
    assert r2["softmax_regression"] > 0.999 and r2["cnn"] > 0.75 and r2["cnn"] > r2["rbf"]
