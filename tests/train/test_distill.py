"""Distillation: the loss against its definition, the teacher kept out of the student's state,
and one-line errors for unusable configs."""

import jax
import jax.numpy as jnp
import numpy as np
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
