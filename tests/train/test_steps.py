import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from train import TrainState, make_eval_step, make_train_step, mean_over_batches
from train.augment import random_crop, random_flip
from train.errors import UserError
from train.optim import make_optimizer
from train.state import init_variables


def linear_state(lr=0.1):
    apply_fn = lambda variables, x, **_: x @ variables["params"]["w"]
    return TrainState.create(apply_fn=apply_fn, params={"w": jnp.array([[1.0], [-2.0]])}, tx=optax.sgd(lr))


def squared_loss(params, state, batch, rng):
    pred = state.apply_fn(state.variables(params), batch["x"])[:, 0]
    return jnp.mean((pred - batch["y"]) ** 2), ({"bias": jnp.mean(pred - batch["y"])}, {})


BATCH = {"x": jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "y": jnp.array([0.0, 0.0, 1.0])}


def test_train_step_applies_the_hand_computed_gradient():
    """Update, loss and norms against NumPy on a linear model; the learning rate metric is
    `learning_rate_fn` at the state's step (here 4, where the made-up schedule gives 0.5)."""
    state = linear_state().replace(step=4)
    step_fn = jax.jit(make_train_step(squared_loss, lambda step: 0.1 * (step + 1)))
    new_state, metrics = step_fn(state, BATCH, jax.random.key(0))
    x, y, w = np.asarray(BATCH["x"]), np.asarray(BATCH["y"]), np.array([[1.0], [-2.0]])
    residual = x @ w[:, 0] - y                    # [1, -2, -2]
    grad = 2 * x.T @ residual / len(y)            # d/dw mean(residual^2)
    np.testing.assert_allclose(new_state.params["w"][:, 0], w[:, 0] - 0.1 * grad, rtol=1e-6)
    np.testing.assert_allclose(metrics["loss"], np.mean(residual**2), rtol=1e-6)
    np.testing.assert_allclose(metrics["l2_grads"], np.linalg.norm(grad), rtol=1e-6)
    np.testing.assert_allclose(metrics["l2_params"], np.linalg.norm(w), rtol=1e-6)
    assert float(metrics["learning_rate"]) == pytest.approx(0.5)
    assert int(new_state.step) == 5 and "bias" in metrics
    np.testing.assert_allclose(metrics["bias"], np.mean(residual), rtol=1e-6)  # the loss's own metrics pass through


def test_train_step_replaces_the_state_fields_the_loss_returns():
    """A loss's `updates` (BatchNorm statistics, say) replace those fields of the new state: here
    the column means of the batch, computed in NumPy."""
    state = linear_state().replace(batch_stats={"mean": jnp.zeros(2)})

    def loss_with_stats(params, state, batch, rng):
        loss, (metrics, _) = squared_loss(params, state, batch, rng)
        return loss, (metrics, {"batch_stats": {"mean": jnp.mean(batch["x"], 0)}})

    new_state, _ = jax.jit(make_train_step(loss_with_stats))(state, BATCH, jax.random.key(0))
    np.testing.assert_allclose(new_state.batch_stats["mean"], np.asarray(BATCH["x"]).mean(0), rtol=1e-6)


def test_train_step_gradient_matches_finite_differences():
    """The update that the real step (`make_train_step` around a task loss) applies with SGD at
    learning rate 1 is minus the gradient: compare it with central differences of the loss,
    computed in float64 numpy from the same weights, on a tanh MLP."""
    from train.losses import cross_entropy_loss
    from zoo import MLP

    model = MLP(features=(5,), num_classes=3, act=jnp.tanh)
    rng = np.random.default_rng(0)
    batch = {"inputs": jnp.asarray(rng.normal(size=(6, 4)), jnp.float32), "label": jnp.asarray([0, 1, 2, 0, 1, 2])}
    params = init_variables(model, jax.random.key(0), batch["inputs"])["params"]
    state = TrainState.create(apply_fn=model.apply, params=params, tx=optax.sgd(1.0))
    new_state, metrics = jax.jit(make_train_step(cross_entropy_loss))(state, batch, jax.random.key(1))
    update = jax.tree.map(lambda old, new: np.asarray(old, np.float64) - np.asarray(new, np.float64),
                          params, new_state.params)

    def logits64(p):
        h = np.tanh(np.asarray(batch["inputs"], np.float64) @ p["dense0"]["kernel"] + p["dense0"]["bias"])
        return h @ p["head"]["kernel"] + p["head"]["bias"]

    def loss64(p):
        logits = logits64(p)
        logits = logits - logits.max(-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return -log_probs[np.arange(6), np.asarray(batch["label"])].mean()

    p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    assert float(metrics["loss"]) == pytest.approx(loss64(p64), rel=1e-5)
    assert float(metrics["accuracy"]) == pytest.approx(np.mean(logits64(p64).argmax(-1) == np.asarray(batch["label"])))
    eps = 1e-6
    for layer, name, index in [("dense0", "kernel", (1, 2)), ("dense0", "bias", (4,)), ("head", "kernel", (3, 0)),
                               ("head", "bias", (2,))]:
        up, down = jax.tree.map(np.copy, p64), jax.tree.map(np.copy, p64)
        up[layer][name][index] += eps
        down[layer][name][index] -= eps
        numerical = (loss64(up) - loss64(down)) / (2 * eps)
        assert update[layer][name][index] == pytest.approx(numerical, rel=1e-3, abs=1e-6), (layer, name)


def test_step_key_is_folded_with_the_step():
    seen = []

    def noisy_loss(params, state, batch, rng):
        noise = jax.random.normal(rng, ())
        return jnp.sum(params["w"]) * 0 + noise, ({"noise": noise}, {})

    step = jax.jit(make_train_step(noisy_loss))
    state = linear_state()
    for _ in range(2):
        state, metrics = step(state, BATCH, jax.random.key(0))
        seen.append(float(metrics["noise"]))
    assert seen[0] != seen[1]
    _, again = step(linear_state(), BATCH, jax.random.key(0))
    assert float(again["noise"]) == seen[0]


def test_eval_step_excludes_padding():
    metrics_fn = lambda state, batch: {"value": batch["x"]}
    eval_step = jax.jit(make_eval_step(metrics_fn))
    batches = [{"x": jnp.array([1.0, 2.0, 3.0]), "mask": jnp.array([1.0, 1.0, 1.0])},
               {"x": jnp.array([4.0, 99.0, 99.0]), "mask": jnp.array([1.0, 0.0, 0.0])}]
    assert mean_over_batches(eval_step, None, batches) == {"value": 2.5}


def optimizer_config(**overrides):
    c = ml_collections.ConfigDict(dict(name="sgd", learning_rate=1.0, schedule="cosine", warmup_steps=10,
                                       weight_decay=0.0, momentum=0.0, grad_clip_norm=0.0))
    c.update(overrides)
    return c


def warmup_cosine(step, peak, warmup, total):
    """The closed form: linear from 0 to `peak` over `warmup` steps, then half a cosine period to 0 at `total`."""
    step = np.asarray(step, np.float64)
    return np.where(step < warmup, peak * step / max(warmup, 1),
                    peak * 0.5 * (1 + np.cos(np.pi * np.clip(step - warmup, 0, total - warmup) / (total - warmup))))


STEPS = np.array([0, 3, 5, 9, 10, 11, 30, 55, 80, 99, 100, 120])


def test_schedule_warms_up_then_decays_to_zero():
    """Cosine and constant schedules, with and without warm-up, against their closed forms."""
    _, schedule = make_optimizer(optimizer_config(learning_rate=0.3), num_steps=100)
    np.testing.assert_allclose([float(schedule(s)) for s in STEPS], warmup_cosine(STEPS, 0.3, 10, 100), atol=1e-7)
    _, constant = make_optimizer(optimizer_config(schedule="constant", warmup_steps=0), 100)
    assert float(constant(0)) == 1.0 and float(constant(57)) == 1.0
    _, warm = make_optimizer(optimizer_config(schedule="constant", warmup_steps=10), 100)
    np.testing.assert_allclose([float(warm(s)) for s in STEPS], np.minimum(STEPS / 10, 1.0), atol=1e-7)


def test_accumulated_steps_follow_the_schedule_of_updates():
    """With `accumulate_steps=k` the schedule counts updates (num_steps / k of them) and the
    returned one is read at train step // k; the parameters after 2 x 12 micro-steps of a
    constant gradient 1 under SGD are minus the sum of the closed-form rate over the 12 updates."""
    tx, schedule = make_optimizer(optimizer_config(accumulate_steps=2, warmup_steps=3), num_steps=24)
    np.testing.assert_allclose([float(schedule(s)) for s in range(25)],
                               warmup_cosine(np.arange(25) // 2, 1.0, 3, 12), atol=1e-7)
    params = {"w": jnp.zeros(())}
    opt_state = tx.init(params)
    update = jax.jit(tx.update)
    for _ in range(24):
        updates, opt_state = update({"w": jnp.ones(())}, opt_state, params)
        params = optax.apply_updates(params, updates)
    assert float(params["w"]) == pytest.approx(-warmup_cosine(np.arange(12), 1.0, 3, 12).sum(), rel=1e-6)


def test_gradient_clipping_bounds_the_gradient_before_the_learning_rate():
    """Global-norm clipping to 2 of the gradient (30, 40) (norm 50), then SGD at 0.5: -0.5 * 2 * (0.6, 0.8);
    a gradient under the norm passes unchanged."""
    tx, _ = make_optimizer(optimizer_config(learning_rate=0.5, schedule="constant", warmup_steps=0,
                                            grad_clip_norm=2.0), 10)
    params = {"w": jnp.zeros(2)}
    updates, _ = tx.update({"w": jnp.array([30.0, 40.0])}, tx.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.6, -0.8], rtol=1e-6)
    updates, _ = tx.update({"w": jnp.array([0.3, 0.4])}, tx.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.15, -0.2], rtol=1e-6)


GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, 0.1, -0.4])]
START = np.array([1.0, -2.0, 0.5])


def run_optimizer(config):
    """The parameters after one update per gradient of GRADS from START, with `make_optimizer(config)`."""
    tx, _ = make_optimizer(config, num_steps=10)
    params = {"w": jnp.asarray(START, jnp.float32)}
    opt_state = tx.init(params)
    for g in GRADS:
        updates, opt_state = tx.update({"w": jnp.asarray(g, jnp.float32)}, opt_state, params)
        params = optax.apply_updates(params, updates)
    return np.asarray(params["w"])


@pytest.mark.parametrize("name, weight_decay", [("adam", 0.0), ("adamw", 0.3)])
def test_adam_and_adamw_follow_numpy_with_their_betas_and_decoupled_weight_decay(name, weight_decay):
    """Adam (Kingma & Ba, bias-corrected moments, eps 1e-8) and AdamW (Loshchilov & Hutter: `lr * wd * w`
    added to the step, outside the moments) written out in NumPy, with non-default betas."""
    lr, b1, b2, eps = 0.1, 0.5, 0.9, 1e-8
    config = optimizer_config(name=name, learning_rate=lr, schedule="constant", warmup_steps=0,
                              weight_decay=weight_decay)
    config.b1, config.b2 = b1, b2
    w, m, v = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, 1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g ** 2
        step = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        w = w - lr * (step + weight_decay * w)
    np.testing.assert_allclose(run_optimizer(config), w, rtol=1e-5)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_follows_numpy_nesterov_momentum_on_the_weight_decayed_gradient(momentum):
    """SGD in NumPy: the gradient plus `wd * w`, then Nesterov momentum (Sutskever et al. 2013 in the
    form t = g + mu t, step = g + mu t) when `momentum` > 0, plain SGD when 0."""
    lr, wd = 0.1, 0.2
    config = optimizer_config(learning_rate=lr, schedule="constant", warmup_steps=0, weight_decay=wd,
                              momentum=momentum)
    w, trace = START.copy(), np.zeros(3)
    for g in GRADS:
        g = g + wd * w
        trace = g + momentum * trace
        w = w - lr * (g + momentum * trace)
    np.testing.assert_allclose(run_optimizer(config), w, rtol=1e-5)


@pytest.mark.parametrize("field, value, match", [("name", "adagrad", "adam, adamw, sgd"),
                                                  ("schedule", "step", "constant, cosine")])
def test_unknown_optimizer_settings_name_the_choices(field, value, match):
    with pytest.raises(UserError, match=match):
        make_optimizer(optimizer_config(**{field: value}), 10)


def test_random_crop_translates_and_zero_pads():
    image = jnp.arange(16.0).reshape(1, 4, 4, 1) + 1
    out = jax.jit(random_crop, static_argnums=2)(jax.random.key(0), jnp.repeat(image, 64, 0), 1)
    assert out.shape == (64, 4, 4, 1)
    # Every crop is the image shifted by (dy, dx) in {-1, 0, 1}^2 with zeros shifted in.
    padded = np.pad(np.asarray(image[0, :, :, 0]), 1)
    shifts = {(dy, dx) for o in np.asarray(out[..., 0]) for dy in range(3) for dx in range(3)
              if np.array_equal(o, padded[dy:dy + 4, dx:dx + 4])}
    assert len(shifts) == 9
    np.testing.assert_array_equal(random_crop(jax.random.key(0), image, 0), image)


def test_random_flip_mirrors_about_half():
    images = jnp.tile(jnp.arange(3.0).reshape(1, 1, 3, 1), (200, 2, 1, 1))
    out = random_flip(jax.random.key(0), images)
    flipped = np.asarray(out[:, 0, 0, 0] == 2.0)
    assert 0.35 < flipped.mean() < 0.65
    np.testing.assert_array_equal(out[flipped], images[flipped][:, :, ::-1])
