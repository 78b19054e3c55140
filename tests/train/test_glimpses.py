"""cluttered_digits and glimpse classification: canvases are deterministic by seed and hold the
digit; a short recurrent-attention run learns beyond chance, draws its glimpse paths, and its
evaluation averages paths around the policy's mean."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers import load_run_without_data
from train import configs
from train.data import cluttered_digits as cd
from train.data.bundled import _digit_arrays
from train.loop import run
from train.overrides import apply_overrides
from train.tasks.glimpses import GlimpseClassification, glimpse_losses
from zoo import RecurrentAttentionModel
from train.state import init_variables

IMAGES = _digit_arrays()[0][..., 0]


def test_same_seed_gives_byte_identical_canvases():
    make = lambda seed: cd.canvas(np.random.default_rng(seed), IMAGES, 7)
    assert make(1).tobytes() == make(1).tobytes() and make(1).tobytes() != make(2).tobytes()


def test_canvases_from_digits_upscaled_once_are_the_same_canvases():
    """The dataset builder upscales every digit once (`upscale`, then scale 1); the canvases must
    be those drawn from the 8x8 digits at scale 2, byte for byte, seed by seed."""
    upscaled, once = cd.upscale(IMAGES, cd.SMALL), cd.SMALL._replace(scale=1)
    np.testing.assert_array_equal(upscaled[7], np.kron(IMAGES[7], np.ones((2, 2))))
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for k in range(50):
        assert cd.canvas(a, IMAGES, k).tobytes() == cd.canvas(b, upscaled, k, once).tobytes()


def test_the_digit_is_on_the_canvas_whole():
    rng = np.random.default_rng(0)
    digit = np.round(np.kron(IMAGES[7], np.ones((2, 2))) * 255)
    for _ in range(20):
        image = cd.canvas(rng, IMAGES, 7)[..., 0].astype(float)
        assert image.shape == (cd.SMALL.size, cd.SMALL.size)
        # somewhere the canvas is at least the digit everywhere (clutter only adds by maximum)
        windows = np.lib.stride_tricks.sliding_window_view(image, digit.shape)
        assert ((windows >= digit - 1e-6).all(axis=(2, 3))).any()


SHORT = {"num_steps": "500", "eval_every": "0", "checkpoint_every": "500", "log_every": "100",
         "model.features": "128", "model.glimpse_hidden": "64"}


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """`(config, summary, workdir)` of a short run of the learned glimpse policy."""
    config = apply_overrides(configs.get_config("ram_cluttered"), SHORT)
    workdir = tmp_path_factory.mktemp("ram")
    return config, run("ram_cluttered", config, str(workdir), progress=False), workdir


@pytest.mark.slow
def test_recurrent_attention_learns_beyond_chance(learned, monkeypatch):
    config, summary, workdir = learned
    assert summary["test"]["test_accuracy"] > 0.2, summary["test"]          # chance: 0.1
    assert (workdir / "figures" / "glimpses.png").exists()

    # evaluation: path 0 follows the policy's mean whatever the number of sampled paths; with none,
    # the averaged prediction is that path's
    _, state, _ = load_run_without_data(str(workdir), monkeypatch)
    batch = {k: jnp.asarray(v[:200]) for k, v in GlimpseClassification(config).split("test").items()}
    metrics = {n: jax.jit(GlimpseClassification(apply_overrides(config, {"eval_samples": str(n)})).eval_metrics)(state, batch)
               for n in (0, 16)}
    np.testing.assert_array_equal(metrics[0]["accuracy"], metrics[0]["single_path_accuracy"])
    np.testing.assert_array_equal(metrics[0]["single_path_accuracy"], metrics[16]["single_path_accuracy"])
    assert not np.array_equal(metrics[0]["loss"], metrics[16]["loss"])


@pytest.mark.slow
def test_the_learned_policy_beats_its_random_glimpse_control(learned, tmp_path):
    # The same networks and budget with uniform random glimpse locations (ram_cluttered_random), one
    # pass each over the 2,000 test canvases. Measured here, seeds 0 and 1: learned 0.229 and 0.232
    # against random 0.184 and 0.176 (a binomial standard error of the difference is about 0.013).
    _, summary, _ = learned
    config = apply_overrides(configs.get_config("ram_cluttered_random"), SHORT)
    control = run("ram_cluttered_random", config, str(tmp_path), progress=False)
    ours, theirs = (s["test"]["test_single_path_accuracy"] for s in (summary, control))
    assert ours >= theirs + 0.02, (ours, theirs)


def test_the_reinforce_loss_has_the_score_function_gradient_of_its_definition():
    """For `a = mu + std * n` with `mu = tanh(W h + c)` (the location head), the score of the
    Gaussian policy is `d log N(a; mu, std^2) / d mu = (a - mu) / std^2 = n / std`, so the
    REINFORCE loss `-(1/B) sum_b sum_t A_bt log pi(a_bt)` has the bias gradient
    `-(1/B) sum_bt A_bt (n_bt / std) (1 - mu_bt^2)`, with the advantage A = reward - baseline held
    constant. `mu` is read off the locations the model looked at (`a` clipped to [-1, 1]; the
    noise is kept small enough that nothing is clipped)."""
    model = RecurrentAttentionModel(glimpses=4, patch=4, scales=1, glimpse_hidden=8, features=8, std=0.2)
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.uniform(size=(6, 16, 16, 1)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, 10, 6))
    noise = jnp.asarray(0.5 * rng.standard_normal((6, 4, 2)), jnp.float32)
    params = init_variables(model, jax.random.key(0), images, noise)["params"]
    params = jax.tree.map(lambda p: p + 0.3 * jax.random.normal(jax.random.key(1), p.shape), params)

    def reinforce_loss(p):
        _, reinforce, _, reward, out = glimpse_losses(model, p, images, labels, noise)
        return jnp.mean(reinforce), (reward, out)

    grads, (reward, out) = jax.jit(jax.grad(reinforce_loss, has_aux=True))(params)
    a = np.asarray(out["locations"][:, 1:], np.float64)                          # (B, G - 1, 2) chosen locations
    n = np.asarray(noise[:, :-1], np.float64)
    mu = a - 0.2 * n
    assert np.abs(mu + 0.2 * n).max() < 1, "a location was clipped: choose smaller noise"
    advantage = np.asarray(reward, np.float64)[:, None] - np.asarray(out["baselines"], np.float64)
    expected = -(advantage[..., None] * (n / 0.2) * (1 - mu ** 2)).sum((0, 1)) / len(a)
    np.testing.assert_allclose(np.asarray(grads["step"]["location"]["bias"]), expected, rtol=1e-4, atol=1e-6)
