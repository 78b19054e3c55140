"""Distillation: the loss against its definition, the teacher kept out of the student's state,
and one-line errors for unusable configs."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from train import configs
from train.errors import UserError
from train.loop import run
from train.overrides import apply_overrides
from train.tasks.distillation import distillation_loss


def test_distillation_loss_matches_its_definition():
    student = jnp.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    teacher = jnp.array([[3.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    labels = jnp.array([0, 1])
    T, alpha = 2.0, 0.7
    loss, m = distillation_loss(student, teacher, labels, T, alpha)
    p_t, p_s = jax.nn.softmax(teacher / T), jax.nn.softmax(student / T)
    kl = np.mean(np.sum(p_t * (np.log(p_t) - np.log(p_s)), axis=1))
    ce = -np.mean(np.log(jax.nn.softmax(student)[np.arange(2), labels]))
    np.testing.assert_allclose(m["kl_to_teacher"], kl, rtol=1e-5)
    np.testing.assert_allclose(loss, alpha * T ** 2 * kl + (1 - alpha) * ce, rtol=1e-5)
    same, _ = distillation_loss(teacher, teacher, labels, T, 1.0)
    np.testing.assert_allclose(same, 0.0, atol=1e-6)  # a student equal to its teacher has nothing to learn


def log_softmax64(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_the_task_loss_uses_the_configured_temperature_and_alpha():
    """`Distillation.loss_fn` at T=3, alpha=0.25 against Hinton et al.'s loss written in float64 NumPy
    on the student's own logits: `alpha T^2 KL(teacher_T || student_T) + (1 - alpha) CE(labels)`."""
    from train.tasks import make_task

    task = make_task(distill_config(["unused"], **{"distill.temperature": "3.0", "distill.alpha": "0.25"}))
    state = task.create_state(jax.random.key(0), optax.sgd(0.1))
    rng = np.random.default_rng(0)
    batch = {"inputs": jnp.asarray(rng.random((4, 8, 8, 1)), jnp.float32), "label": jnp.array([0, 3, 5, 9]),
             "teacher_logits": jnp.asarray(3 * rng.normal(size=(4, 10)), jnp.float32)}
    loss, (metrics, _) = jax.jit(task.loss_fn)(state.params, state, batch, jax.random.key(1))
    student = state.apply_fn(state.variables(), batch["inputs"], train=False)
    T, alpha = 3.0, 0.25
    log_s, log_t = log_softmax64(np.asarray(student) / T), log_softmax64(np.asarray(batch["teacher_logits"]) / T)
    kl = np.mean(np.sum(np.exp(log_t) * (log_t - log_s), -1))
    ce = -np.mean(log_softmax64(student)[np.arange(4), np.asarray(batch["label"])])
    assert float(metrics["kl_to_teacher"]) == pytest.approx(kl, rel=1e-5)
    assert float(metrics["cross_entropy"]) == pytest.approx(ce, rel=1e-5)
    assert float(loss) == pytest.approx(alpha * T ** 2 * kl + (1 - alpha) * ce, rel=1e-5)


@pytest.mark.parametrize("field, value", [("temperature", "0.0"), ("temperature", "-1.0"), ("alpha", "1.5"),
                                          ("alpha", "-0.1")])
def test_a_temperature_not_above_zero_or_an_alpha_outside_0_1_is_a_one_line_error(field, value):
    from train.tasks import make_task

    with pytest.raises(UserError, match=r"distill.temperature must be > 0 and distill.alpha in \[0, 1\]"):
        make_task(distill_config(["unused"], **{f"distill.{field}": value}))


def distill_config(teachers, **overrides):
    c = configs.get_config("classify_digits")
    c.task = "distillation"
    c.augment.crop_padding = 0
    c.model = configs.get_config("distill_digits").student
    import ml_collections

    c.distill = ml_collections.ConfigDict({"teachers": tuple(teachers), "temperature": 2.0, "alpha": 0.5,
                                           "cache_teacher": True})
    return apply_overrides(c, {"num_steps": "150", "eval_every": "0", "checkpoint_every": "150", **overrides})


@pytest.fixture(scope="module")
def teacher(digits_cnn_run):
    return digits_cnn_run(300)


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["true", "false"])
def test_distilled_student_learns_and_checkpoints_no_teacher(teacher, tmp_path, cache):
    summary = run("distill", distill_config([teacher], **{"distill.cache_teacher": cache}), str(tmp_path),
                  progress=False)
    assert summary["test"]["test_accuracy"] > 0.9
    from train.restore import load_run

    _, state, _ = load_run(str(tmp_path))
    assert set(state.params) == {"dense0", "dense1", "head"}  # the student's layers only


def test_unusable_configs_are_one_line_errors(teacher, tmp_path):
    with pytest.raises(UserError, match="needs --config.distill.teachers"):
        run("distill", distill_config([]), str(tmp_path), progress=False)
    with pytest.raises(UserError, match="crop_padding=0"):
        run("distill", distill_config([teacher], **{"augment.crop_padding": "1"}), str(tmp_path), progress=False)
