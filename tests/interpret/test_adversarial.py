"""Attacks: bounds, success flags, analytic FGSM, and what they do to trained digit models."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.adversarial import fgsm, input_gradients, pgd, project
from train import configs, data
from train.loop import run
from train.overrides import apply_overrides
from train.restore import load_run

EPS = 0.2


@pytest.fixture(scope="module")
def digits_test():
    test = data.load("digits", "test")
    return jnp.asarray(test["image"][:120]), jnp.asarray(test["label"][:120])


def loaded(workdir):
    task, state, _ = load_run(workdir)
    return task.logits, state.variables()


def trained(tmp_path_factory, name, **overrides):
    workdir = str(tmp_path_factory.mktemp(name))
    c = apply_overrides(configs.get_config("classify_digits"),
                        {"num_steps": "300", "eval_every": "0", "checkpoint_every": "300", **overrides})
    run(name, c, workdir, progress=False)
    return loaded(workdir)


@pytest.fixture(scope="module")
def cnn(digits_cnn_run):
    return loaded(digits_cnn_run(300))  # the run `trained` makes without overrides


def linear_logits(params, x):
    return x.reshape(x.shape[0], -1) @ params["w"] + params["b"][None]


LINEAR = {"w": jnp.asarray(np.random.default_rng(0).standard_normal((64, 10), np.float32)), "b": jnp.zeros(10)}


def test_fgsm_on_a_linear_model_follows_the_analytic_gradient(digits_test):
    x, y = digits_test
    x_adv, _ = fgsm(linear_logits, LINEAR, x, y, 0.1)
    p = jax.nn.softmax(linear_logits(LINEAR, x))
    grad = (p - jax.nn.one_hot(y, 10)) @ LINEAR["w"].T          # d CE / d x for logits x W + b
    expected = jnp.clip(x + 0.1 * jnp.sign(grad).reshape(x.shape), 0, 1)
    np.testing.assert_allclose(x_adv, expected, atol=1e-6)


def test_input_gradients_are_per_example(digits_test):
    x, y = digits_test
    g = input_gradients(linear_logits, LINEAR, x[:4], y[:4])
    for i in range(4):
        single = input_gradients(linear_logits, LINEAR, x[i:i + 1], y[i:i + 1])
        np.testing.assert_allclose(g[i], single[0], rtol=1e-5, atol=1e-6)


def test_l2_projection_scales_only_what_is_outside_the_ball():
    delta = jnp.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(project(delta, 1.0, "l2"), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(project(delta, 0.5, "linf"), [[0.5, 0.5], [0.3, 0.4]])


@pytest.mark.parametrize("norm, eps", [("linf", EPS), ("l2", 1.5)])
@pytest.mark.parametrize("targeted", [False, True])
def test_attacks_stay_in_range_and_ball_and_flags_match_repredictions(cnn, digits_test, norm, eps, targeted):
    apply_fn, params = cnn
    x, y = digits_test
    goal = (y + 1) % 10 if targeted else y
    for x_adv, success in (fgsm(apply_fn, params, x, goal, eps, norm=norm, targeted=targeted),
                           pgd(apply_fn, params, x, goal, eps, eps / 4, 10, jax.random.key(0), restarts=2, norm=norm,
                               targeted=targeted, unroll=1)):  # a rolled loop: compiles in a fraction
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
        delta = np.asarray(x_adv - x).reshape(len(x), -1)
        size = np.abs(delta).max(1) if norm == "linf" else np.linalg.norm(delta, axis=1)
        assert size.max() <= eps * (1 + 1e-5)
        pred = np.asarray(jnp.argmax(apply_fn(params, x_adv), -1))
        expected = pred == np.asarray(goal) if targeted else pred != np.asarray(goal)
        np.testing.assert_array_equal(np.asarray(success), expected)


def test_pgd_with_zero_budget_changes_nothing(cnn, digits_test):
    apply_fn, params = cnn
    x, y = digits_test
    x_adv, _ = pgd(apply_fn, params, x, y, 0.0, 0.01, 5, jax.random.key(0), unroll=1)
    np.testing.assert_array_equal(x_adv, x)


@pytest.mark.slow
def test_pgd_breaks_the_undefended_cnn_and_beats_fgsm(cnn, digits_test):
    apply_fn, params = cnn
    x, y = digits_test
    clean = float(jnp.mean(jnp.argmax(apply_fn(params, x), -1) == y))
    _, fgsm_success = fgsm(apply_fn, params, x, y, EPS)
    _, pgd_success = pgd(apply_fn, params, x, y, EPS, 2.5 * EPS / 20, 20, jax.random.key(0), restarts=2)
    fgsm_acc, pgd_acc = 1 - float(fgsm_success.mean()), 1 - float(pgd_success.mean())
    assert clean > 0.9 and fgsm_acc < clean - 0.3
    assert pgd_acc < 0.1 and pgd_acc <= fgsm_acc


@pytest.mark.slow
def test_adversarial_training_makes_the_cnn_more_robust(cnn, digits_test, tmp_path_factory):
    robust = trained(tmp_path_factory, "cnn_adv", **{"adversarial.method": "pgd", "adversarial.steps": "5",
                                                     "adversarial.step_size": "0.1"})
    x, y = digits_test
    accuracy = {}
    for name, (apply_fn, params) in {"plain": cnn, "adversarial": robust}.items():
        _, success = pgd(apply_fn, params, x, y, EPS, 2.5 * EPS / 20, 20, jax.random.key(0), restarts=2)
        accuracy[name] = 1 - float(success.mean())
    assert accuracy["adversarial"] >= 4 * accuracy["plain"] and accuracy["adversarial"] > 0.3
