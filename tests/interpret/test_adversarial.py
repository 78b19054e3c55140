"""Attacks: bounds, success flags, analytic FGSM, and what they do to trained digit models."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from interpret.adversarial import fgsm, input_gradients, pgd, project
from train import data

EPS = 0.2


@pytest.fixture(scope="module")
def digits_test():
    test = data.load("digits", "test")
    return jnp.asarray(test["image"][:120]), jnp.asarray(test["label"][:120])


@pytest.fixture(scope="module")
def cnn(shipped):
    """The shipped digits CNN (`zoo/weights/cnn_digits`)."""
    task, state = shipped("cnn_digits")
    return task.logits, state.variables()


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
    """Bounds and flags against re-predictions, and the stated success rates on the trained CNN: PGD reaches the
    target (label + 1) on at least half (L-inf) / 70% (L2) of the examples, 10 points more than one FGSM step,
    and fools it untargeted on 95%."""
    apply_fn, params = cnn
    x, y = digits_test
    goal = (y + 1) % 10 if targeted else y
    rates = []
    for x_adv, success in (fgsm(apply_fn, params, x, goal, eps, norm=norm, targeted=targeted),
                           pgd(apply_fn, params, x, goal, eps, eps / 4, 10, jax.random.key(0), restarts=2, norm=norm,
                               targeted=targeted, unroll=1)):  # a rolled loop: compiles in a fraction
        rates.append(float(success.mean()))
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
        delta = np.asarray(x_adv - x).reshape(len(x), -1)
        size = np.abs(delta).max(1) if norm == "linf" else np.linalg.norm(delta, axis=1)
        assert size.max() <= eps * (1 + 1e-5)
        pred = np.asarray(jnp.argmax(apply_fn(params, x_adv), -1))
        expected = pred == np.asarray(goal) if targeted else pred != np.asarray(goal)
        np.testing.assert_array_equal(np.asarray(success), expected)
    fgsm_rate, pgd_rate = rates          # measured here: targeted 0.39 -> 0.61 (L-inf), 0.44 -> 0.88 (L2)
    assert pgd_rate >= ({"linf": 0.5, "l2": 0.7}[norm] if targeted else 0.95)
    assert pgd_rate >= fgsm_rate + (0.1 if targeted else 0.0)


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


# Closed forms on a two-class linear model (logistic regression): the cross-entropy of label y depends on x only
# through the margin m = x . (w_other - w_y), increasingly, so its input gradient is a positive multiple of
# w_other - w_y, every step along (a clipped copy of) that direction raises it, and a targeted step moves along
# w_target - w_other.
D = 6
BINARY = {"w": jnp.asarray(np.random.default_rng(1).standard_normal((D, 2), np.float32)),
          "b": jnp.asarray([0.3, -0.2], jnp.float32)}
XB = jnp.asarray(np.random.default_rng(2).uniform(0.4, 0.6, (8, D)).astype(np.float32))
YB = jnp.asarray([0, 1, 0, 1, 1, 0, 0, 1])


def binary_direction(labels, targeted=False):
    """(B, D) w_other - w_y (untargeted: away from y) or w_t - w_other (targeted: toward t), in NumPy."""
    w = np.asarray(BINARY["w"]).T                                     # (2, D)
    toward = (1 - np.asarray(labels)) if not targeted else np.asarray(labels)
    return w[toward] - w[1 - toward]


def numpy_cross_entropy(logits, labels):
    logits = np.asarray(logits, np.float64)
    top = logits.max(-1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(-1))
    return log_z - logits[np.arange(len(logits)), np.asarray(labels)]


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_on_logistic_regression_is_the_closed_form_in_both_norms_with_clipping(targeted):
    """x + eps sign(w_y' - w_y) (L-inf) and x + eps (w_y' - w_y) / |w_y' - w_y| (L2), clipped to [lo, hi]."""
    direction = binary_direction(YB, targeted)
    x_adv, _ = fgsm(linear_logits, BINARY, XB, YB, 0.05, targeted=targeted)
    np.testing.assert_allclose(x_adv, np.asarray(XB) + 0.05 * np.sign(direction), atol=1e-6)
    unit = direction / np.linalg.norm(direction, axis=1, keepdims=True)
    x_adv, _ = fgsm(linear_logits, BINARY, XB, YB, 0.05, norm="l2", targeted=targeted)
    np.testing.assert_allclose(x_adv, np.asarray(XB) + 0.05 * unit, atol=1e-6)
    x_adv, _ = fgsm(linear_logits, BINARY, XB, YB, 0.3, targeted=targeted, lo=0.25, hi=0.7)   # both bounds bite
    expected = np.clip(np.asarray(XB) + 0.3 * np.sign(direction), 0.25, 0.7)
    assert (expected == 0.25).any() and (expected == 0.7).any()
    np.testing.assert_allclose(x_adv, expected, atol=1e-6)


def test_attacks_reject_an_unknown_norm_and_a_negative_budget():
    """At the call, before jit makes eps a tracer: a Python float and a concrete array both."""
    with pytest.raises(ValueError, match="unknown norm"):
        fgsm(linear_logits, BINARY, XB, YB, 0.1, norm="l1")
    with pytest.raises(ValueError, match="eps must be >= 0"):
        pgd(linear_logits, BINARY, XB, YB, -0.1, 0.01, 1, jax.random.key(0))
    with pytest.raises(ValueError, match="eps must be >= 0"):
        fgsm(linear_logits, BINARY, XB, YB, jnp.asarray(-0.1))


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_steps_on_logistic_regression_follow_the_closed_form_and_each_improves_the_objective(norm, targeted):
    """From no random start, k steps of size s land at x + min(k s, eps) u, u the closed-form unit direction
    (sign for L-inf, normalized for L2), the eps ball cutting in after the third step; each step raises the
    untargeted cross-entropy (lowers the targeted one), recomputed in NumPy."""
    direction = binary_direction(YB, targeted)
    unit = np.sign(direction) if norm == "linf" else direction / np.linalg.norm(direction, axis=1, keepdims=True)
    eps, step = 0.07, 0.02
    objectives = [numpy_cross_entropy(linear_logits(BINARY, XB), YB)]
    for k in range(1, 5):
        x_adv, _ = pgd(linear_logits, BINARY, XB, YB, eps, step, k, jax.random.key(0), norm=norm, targeted=targeted,
                       random_start=False, unroll=1)
        np.testing.assert_allclose(x_adv, np.asarray(XB) + min(k * step, eps) * unit, atol=1e-6)
        objectives.append(numpy_cross_entropy(linear_logits(BINARY, x_adv), YB))
    change = np.diff(np.stack(objectives), axis=0) * (-1 if targeted else 1)        # (steps, B) improvement per step
    assert (change > 1e-4).all()


_RNG = np.random.default_rng(0)
THREE = {"w": jnp.asarray(_RNG.standard_normal((D, 3)).astype(np.float32)), "b": jnp.zeros(3)}
X3 = jnp.asarray(_RNG.uniform(0.2, 0.8, (32, D)).astype(np.float32))


def numpy_pgd_restarts(params, x, labels, eps, step, steps, rng, restarts, norm, targeted):
    """Each restart's (R, B, D) result, objective and success by hand on a linear model: the same random starts
    (one key split per restart; L2 radii from `fold_in(key, 1)`), then NumPy steps along the gradient of the
    softmax cross-entropy ((p - onehot) W^T; minus it when targeted), projection onto the ball and clipping to
    [0, 1]."""
    sign = -1.0 if targeted else 1.0
    w, b, x = (np.asarray(a, np.float64) for a in (params["w"], params["b"], x))
    labels = np.asarray(labels)
    results = []
    for key in jax.random.split(rng, restarts):
        if norm == "linf":
            delta = np.asarray(jax.random.uniform(key, x.shape, jnp.float32, -eps, eps), np.float64)
        else:
            direction = np.asarray(jax.random.normal(key, x.shape, jnp.float32), np.float64)
            radius = eps * np.asarray(jax.random.uniform(jax.random.fold_in(key, 1), (len(x), 1)), np.float64)
            delta = radius * direction / np.linalg.norm(direction, axis=1, keepdims=True)
        x_adv = np.clip(x + delta, 0, 1)
        for _ in range(steps):
            z = x_adv @ w + b
            p = np.exp(z - z.max(-1, keepdims=True))
            g = sign * (p / p.sum(-1, keepdims=True) - np.eye(w.shape[1])[labels]) @ w.T
            x_adv = x_adv + step * (np.sign(g) if norm == "linf" else g / np.linalg.norm(g, axis=1, keepdims=True))
            d = x_adv - x
            d = np.clip(d, -eps, eps) if norm == "linf" else d * np.minimum(1, eps / np.linalg.norm(d, axis=1)[:, None])
            x_adv = np.clip(x + d, 0, 1)
        z = x_adv @ w + b
        hit = z.argmax(-1) == labels
        results.append((x_adv, sign * numpy_cross_entropy(z, labels), hit if targeted else ~hit))
    return [np.stack(r) for r in zip(*results)]


@pytest.mark.parametrize("norm, eps, targeted", [("linf", 0.2, False), ("l2", 0.5, True)])
def test_pgd_keeps_each_examples_best_restart(norm, eps, targeted):
    """Per example, against each restart redone by hand: a successful restart when one exists (untargeted: even
    over an unsuccessful one of higher loss), else the restart of the best objective (targeted: the lowest
    cross-entropy of the target). Different examples pick different restarts, so a choice made once for the
    whole batch, or by loss alone, fails."""
    labels = jnp.argmax(linear_logits(THREE, X3), -1)
    labels = (labels + 1) % 3 if targeted else labels
    x_adv, success = pgd(linear_logits, THREE, X3, labels, eps, eps / 4, 1, jax.random.key(0), restarts=4, norm=norm,
                         targeted=targeted, unroll=1)
    candidates, losses, successes = numpy_pgd_restarts(THREE, X3, labels, eps, eps / 4, 1, jax.random.key(0), 4, norm,
                                                       targeted)
    highest = losses.argmax(0)
    columns = np.arange(len(X3))
    assert len(set(highest[~successes.any(0)])) > 1     # among the examples no restart fools, different ones win
    if not targeted:
        assert (successes.any(0) & ~successes[highest, columns]).any()     # success outranks a higher loss somewhere
    for i in columns:
        allowed = np.flatnonzero(successes[:, i]) if successes[:, i].any() else [highest[i]]
        distance = [np.abs(np.asarray(x_adv[i]) - candidates[r, i]).max() for r in allowed]
        assert min(distance) < 1e-5, (i, allowed, distance)
    np.testing.assert_array_equal(success, successes.any(0))
