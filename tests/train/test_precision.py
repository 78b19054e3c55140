"""Mixed precision: float32 master weights, fp16 dynamic loss scaling that skips bad steps,
and bf16/fp16 digits runs that learn like fp32."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import zoo
from train import configs
from train.cli import main
from train.errors import UserError
from train.losses import cross_entropy_loss
from train.loop import run
from train.overrides import apply_overrides
from train.precision import compute_dtype, loss_scale
from train.state import TrainState
from train.steps import make_train_step
from train.state import init_variables
from tests.helpers import matmul_operand_dtypes

BATCH = {"inputs": jnp.asarray(np.random.default_rng(0).random((16, 8, 8, 1), np.float32)), "label": jnp.arange(16) % 10}


def fp16_state(scale, growth_interval=2000):
    model = zoo.CNN(features=(4,), hidden=8, norm=True, dtype=jnp.float16)
    variables = init_variables(model, jax.random.key(1), BATCH["inputs"][:1])
    ls = loss_scale("fp16", growth_interval=growth_interval, initial_scale=scale)
    return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=optax.adam(1e-2),
                             batch_stats=variables["batch_stats"], loss_scale=ls)


@pytest.fixture(scope="module")
def step():
    return jax.jit(make_train_step(cross_entropy_loss))


def test_master_weights_and_batch_stats_stay_float32_under_fp16():
    state = fp16_state(2.0 ** 10)
    assert {x.dtype for x in jax.tree.leaves(state.params)} == {jnp.dtype(jnp.float32)}
    assert {x.dtype for x in jax.tree.leaves(state.batch_stats)} == {jnp.dtype(jnp.float32)}
    logits = state.apply_fn(state.variables(), BATCH["inputs"], train=False)
    assert logits.dtype == jnp.float16  # computed in float16; the loss casts to float32


def test_overflow_skips_the_update_and_halves_the_scale(step):
    state = fp16_state(2.0 ** 40)  # loss * 2^40 overflows float16 in the backward pass
    new, metrics = step(state, BATCH, jax.random.key(2))
    assert float(metrics["grads_finite"]) == 0.0 and float(metrics["loss_scale"]) == 2.0 ** 40
    assert float(new.loss_scale.scale) == 2.0 ** 39
    for tree in ("params", "opt_state", "batch_stats"):
        chex.assert_trees_all_equal(getattr(new, tree), getattr(state, tree), custom_message=tree)
    assert int(new.step) == 1


def test_scale_recovers_by_halving_until_steps_are_finite_then_trains(step):
    state = fp16_state(2.0 ** 40)
    first_params = state.params
    for _ in range(40):
        state, metrics = step(state, BATCH, jax.random.key(3))
    assert float(state.loss_scale.scale) < 2.0 ** 40 / 2 ** 10  # halved many times
    assert float(metrics["grads_finite"]) == 1.0 and np.isfinite(float(metrics["loss"]))
    changed = jax.tree.map(lambda a, b: not bool(jnp.array_equal(a, b)), state.params, first_params)
    assert all(jax.tree.leaves(changed))


def test_scale_grows_after_growth_interval_finite_steps(step):
    state = fp16_state(2.0 ** 4, growth_interval=3)
    scales = []
    for _ in range(5):
        state, metrics = step(state, BATCH, jax.random.key(4))
        scales.append(float(metrics["loss_scale"]))
    assert scales == [16.0, 16.0, 16.0, 16.0, 32.0]  # after 3 finite steps (counted from 0) it doubles


def test_policies_compute_in_their_dtype_and_only_fp16_scales_the_loss():
    """The policy table of `train.precision`'s docstring (Micikevicius et al.: loss scaling for float16 only)."""
    assert [jnp.dtype(compute_dtype(p)) for p in ("fp32", "bf16", "fp16")] == [
        jnp.dtype(np.float32), jnp.dtype(jnp.bfloat16), jnp.dtype(np.float16)]
    assert loss_scale("fp32") is None and loss_scale("bf16") is None
    scale = loss_scale("fp16", growth_interval=7, initial_scale=64.0)
    assert (scale.growth_interval, float(scale.scale), float(scale.growth_factor), float(scale.backoff_factor)) == (
        7, 64.0, 2.0, 0.5)


def test_a_loss_scaled_step_applies_the_unscaled_hand_computed_gradient():
    """On a float32 linear model the scaled step is the plain SGD step `w - lr * grad` (gradient by hand),
    reports the unscaled loss and the scale it used (the initial 2^10), and, with `growth_interval=1`,
    doubles the scale after the second finite step (after 1 finite step, counted from 0)."""
    x, y, w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 1.0]), np.array([1.0, -2.0])
    apply_fn = lambda variables, x, **_: x @ variables["params"]["w"]
    state = TrainState.create(apply_fn=apply_fn, params={"w": jnp.asarray(w, jnp.float32)}, tx=optax.sgd(0.1),
                              loss_scale=loss_scale("fp16", growth_interval=1, initial_scale=2.0 ** 10))

    def squared_loss(params, state, batch, rng):
        return jnp.mean((state.apply_fn(state.variables(params), batch["x"]) - batch["y"]) ** 2), ({}, {})

    step = jax.jit(make_train_step(squared_loss))
    batch = {"x": jnp.asarray(x, jnp.float32), "y": jnp.asarray(y, jnp.float32)}
    new, metrics = step(state, batch, jax.random.key(0))
    residual = x @ w - y
    np.testing.assert_allclose(new.params["w"], w - 0.1 * 2 * x.T @ residual / 3, rtol=1e-6)
    assert float(metrics["loss"]) == pytest.approx(np.mean(residual ** 2), rel=1e-6)
    assert float(metrics["loss_scale"]) == 2.0 ** 10 and float(metrics["grads_finite"]) == 1.0
    scales = [float(new.loss_scale.scale)]
    for _ in range(2):
        new, _ = step(new, batch, jax.random.key(0))
        scales.append(float(new.loss_scale.scale))
    assert scales == [2.0 ** 10, 2.0 ** 11, 2.0 ** 11]


def test_unknown_precision_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(UserError, match="unknown precision 'fp8'"):
        compute_dtype("fp8")
    assert main(["--config.precision=fp8", "--workdir", str(tmp_path), "--no-progress"]) == 2
    assert "unknown precision 'fp8'" in capsys.readouterr().err


@pytest.mark.slow
def test_bf16_and_fp16_learn_digits_like_fp32(tmp_path, digits_cnn_run):
    with open(os.path.join(digits_cnn_run(400), "summary.json")) as f:  # the same config in fp32 (the default)
        accuracy = {"fp32": json.load(f)["test"]["test_accuracy"]}
    for precision in ("bf16", "fp16"):
        config = apply_overrides(configs.get_config("classify_digits"),
                                 {"num_steps": "400", "eval_every": "0", "checkpoint_every": "400",
                                  "precision": precision})
        accuracy[precision] = run("classify_digits", config, str(tmp_path / precision), progress=False)["test"]["test_accuracy"]
    assert accuracy["fp32"] > 0.95
    assert abs(accuracy["bf16"] - accuracy["fp32"]) < 0.02 and abs(accuracy["fp16"] - accuracy["fp32"]) < 0.02


@pytest.mark.parametrize("recipe", ["caption_shapes", "vae_digits", "translate_dates", "draw_digits"])
def test_bf16_recipes_multiply_in_bf16_with_float32_weights(recipe):
    from train.tasks import make_task

    def traced_loss(precision):
        task = make_task(apply_overrides(configs.get_config(recipe), {"precision": precision}))
        state = task.create_state(jax.random.key(0), optax.adam(1e-3))
        batch = next(task.train_batches(0))
        return state, jax.make_jaxpr(task.loss_fn)(state.params, state, batch, jax.random.key(1)).jaxpr

    state, bf16 = traced_loss("bf16")
    assert matmul_operand_dtypes(bf16) == {"bfloat16"}  # every product and convolution
    assert {str(p.dtype) for p in jax.tree.leaves(state.params)} == {"float32"}
    assert matmul_operand_dtypes(traced_loss("fp32")[1]) == {"float32"}  # the check sees the difference


@pytest.mark.parametrize("recipe", ["ram_cluttered", "gan_digits", "label_frames_rnn"])
def test_a_recipe_whose_task_ignores_precision_refuses_it_in_one_line(recipe, tmp_path):
    config = apply_overrides(configs.get_config(recipe), {"precision": "bf16"})
    with pytest.raises(UserError, match=rf"^{recipe} \(\w+\) trains in fp32 only; --config.precision=bf16 is not"):
        run(recipe, config, str(tmp_path), progress=False)
