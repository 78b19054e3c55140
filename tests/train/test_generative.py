"""Generative tasks: the likelihood, divergence and penalty formulas against hand-computed
values, and short runs on binarized digits that must beat the independent-pixels baseline,
cover the digit classes, and give useful codes."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tests.helpers import cli_commands_in_one_process, load_run_without_data
from train.generative_eval import bernoulli_nll, frechet_distance, image_grid, independent_pixels_nll
from train.sampling import sample_pixels
from train.tasks.gan import gan_losses, gradient_penalty


def test_bernoulli_nll_and_the_independent_pixels_baseline():
    logits = jnp.array([[0.0, 2.0], [-1.0, 0.5]])
    targets = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    manual = -(np.log(0.5) + np.log(1 - 1 / (1 + np.exp(-2.0))) + np.log(1 - 1 / (1 + np.exp(1.0)))
               + np.log(1 / (1 + np.exp(-0.5))))
    assert float(bernoulli_nll(logits, targets).sum()) == pytest.approx(manual, rel=1e-5)
    train = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])  # smoothed p = (3/5, 2/5)
    test = np.array([[1.0, 1.0]])
    assert independent_pixels_nll(train, test) == pytest.approx(-np.log(0.6) - np.log(0.4), rel=1e-5)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + np.array([3.0, 0.0, 4.0])) == pytest.approx(25.0, rel=1e-3)
    assert frechet_distance(a, 2 * a) == pytest.approx(3 * (2 - 1) ** 2, rel=0.02)  # tr(S + 4S - 2 * 2S) = 3


def test_gan_losses_and_the_gradient_penalty_of_a_linear_critic():
    d_real, d_fake = jnp.array([0.0]), jnp.array([0.0])
    d, g = gan_losses("ns", d_real, d_fake)
    assert float(d) == pytest.approx(2 * np.log(2)) and float(g) == pytest.approx(np.log(2))
    d, g = gan_losses("lsgan", jnp.array([1.0]), jnp.array([0.0]))
    assert float(d) == 0.0 and float(g) == pytest.approx(0.5)
    d, g = gan_losses("wgan_gp", jnp.array([2.0]), jnp.array([-1.0]))
    assert float(d) == -3.0 and float(g) == 1.0
    a = jnp.array([0.0, 3.0, 4.0])  # |grad| = 5 everywhere: penalty (5 - 1)^2
    penalty = gradient_penalty(lambda x: x @ a, jnp.ones((6, 3)), jnp.zeros((6, 3)), jax.random.key(0))
    assert float(penalty) == pytest.approx(16.0, rel=1e-5)


def test_the_sequential_sampler_fills_every_pixel_in_raster_order():
    # A "model" whose pixel (i, j) copies the pixel before it, with pixel (0, 0) certainly on.
    def apply_fn(x):
        previous = jnp.roll(x.reshape(x.shape[0], -1), 1, axis=1).at[:, 0].set(1.0).reshape(x.shape)
        return jnp.stack([-30.0 * previous, 30.0 * previous], axis=-1)

    images = sample_pixels(apply_fn, jax.random.key(0), 2, (3, 4, 1), levels=2)
    np.testing.assert_array_equal(images, np.ones((2, 3, 4, 1)))  # only right if each pixel saw the one before
    assert image_grid(np.zeros((5, 3, 4, 1))).shape == (3 * 4 - 1, 2 * 5 - 1)


RECIPES = {"conditional_gan": "gan_digits", "gaussian_vae": "vae_digits"}
# one `python -m train` process runs these at LLVM's default optimization level instead of the suite's
# -O1 (tests/conftest.py): their runs are bound by execution, which -O1 slows (the GANs' 1,500 steps
# nearly twice; measured alone, the VAE's 24.1 -> 30.2 s)
EXECUTION_BOUND = ("vae_digits", "gan_digits", "conditional_gan")


def _summaries_of_one_process(root, overrides: dict) -> dict:
    """`{name: summary}` of the runs `{name: config overrides}`, trained in turn by one subprocess."""
    import json
    import os

    commands = [["train", RECIPES.get(name, name), "--workdir", str(root / name), "--no-progress",
                 *(f"--config.{k}={v}" for k, v in fields.items())] for name, fields in overrides.items()]
    flags = " ".join(flag for flag in os.environ["XLA_FLAGS"].split()
                     if not flag.startswith("--xla_backend_optimization_level"))
    cli_commands_in_one_process(commands, timeout=600, XLA_FLAGS=flags)
    return {name: json.load(open(root / name / "summary.json")) for name in overrides}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Short runs of each generative recipe sharing one evaluation classifier; the `EXECUTION_BOUND` ones
    in one subprocess, the rest in this process."""
    from train import configs
    from train.loop import run
    from train.overrides import apply_overrides

    root = tmp_path_factory.mktemp("generative")
    classifier = "cnn_digits"  # the samples' scorer: the shipped classify_digits CNN
    base = {"eval_every": "0", "log_every": "50", "num_samples": "200", "eval_classifier": classifier}
    settings = {
        "vae_digits": {"num_steps": "500", "iwae_samples": "100"},
        "pixelcnn_digits": {"num_steps": "250", "model.features": "16", "model.dropout": "0.0", "num_samples": "20"},
        "pixelrnn_digits": {"num_steps": "600", "model.features": "16", "model.hidden": "16", "num_samples": "20"},
        "gan_digits": {"num_steps": "1500", "model.features": "32"},
        "autoencoder_digits": {"num_steps": "600"},
        "conditional_gan": {"num_steps": "1500", "model.features": "32", "gan.conditional": "true"},  # WGAN-GP
        "gaussian_vae": {"num_steps": "30", "binarize": "false", "model.likelihood": "gaussian", "iwae_samples": "10",
                         "num_samples": "100"},
    }

    @functools.cache
    def execution_bound():
        return _summaries_of_one_process(root, {name: {**base, **settings[name]} for name in EXECUTION_BOUND})

    @functools.cache  # each run once, whichever test asks first
    def get(name):
        if name in EXECUTION_BOUND:
            return execution_bound()[name]
        recipe = RECIPES.get(name, name)
        config = apply_overrides(configs.get_config(recipe), {**base, **settings[name]})
        return run(recipe, config, str(root / name), progress=False)

    get.workdir = lambda name: str(root / name)
    return get


@pytest.mark.slow
def test_vae_importance_weighted_nll_beats_the_baseline_and_tightens_the_elbo(runs):
    summary = runs("vae_digits")
    report = summary["report"]
    assert report["iwae_nll_nats"] < report["independent_pixels_nll_nats"] - 3
    assert report["iwae_nll_nats"] <= summary["test"]["test_negative_elbo"]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["pixelcnn_digits", "pixelrnn_digits"])
def test_autoregressive_models_beat_the_baseline_and_sample(runs, recipe):
    summary = runs(recipe)
    assert summary["test"]["test_nll_nats"] < summary["report"]["independent_pixels_nll_nats"] - 2
    assert summary["report"]["samples_per_s"] > 0


@pytest.mark.slow
def test_gan_samples_are_closer_to_digits_than_noise_and_cover_the_classes(runs):
    quality = runs("gan_digits")["report"]["sample_quality"]
    assert quality["frechet_ratio"] < 0.5 and quality["classes_covered"] >= 8, quality


@pytest.mark.slow
def test_autoencoder_codes_support_a_linear_probe(runs):
    probes = runs("autoencoder_digits")["report"]["probe_accuracy"]
    assert probes["autoencoder"] > 0.8 and probes["pca"] > 0.8, probes  # chance is 0.1


@pytest.mark.slow
def test_conditional_gan_samples_are_classified_as_their_conditioning_class(runs):
    quality = runs("conditional_gan")["report"]["sample_quality"]
    # 200 samples cycling the 10 classes, labelled by the evaluation classifier: chance is 0.1 (a
    # discriminator that cannot relate image and label leaves the generator at 0.1; measured 0.635)
    assert quality["conditional_accuracy"] >= 0.4 and quality["classes_covered"] == 10, quality


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vae_digits", "pixelcnn_digits", "gan_digits", "autoencoder_digits"])
def test_a_finished_run_restores_without_its_data(runs, name, monkeypatch):
    steps = runs(name)["steps"]
    _, state, meta = load_run_without_data(runs.workdir(name), monkeypatch)
    assert int(state.step) == steps and meta["shapes"] == {"inputs": [8, 8, 1]}


@pytest.mark.parametrize("name, metric", [("vae_digits", "test_negative_elbo"), ("pixelcnn_digits", "test_nll_nats"),
                                          ("pixelrnn_digits", "test_nll_nats"),
                                          ("autoencoder_digits", "test_reconstruction_nats")])
def test_the_primary_metric_is_one_the_run_reports(runs, name, metric):
    """The summary's headline (what a model card and the CLI's line lead with) is a metric of the run."""
    summary = runs(name)
    assert summary["primary_metric"] == metric and np.isfinite(summary["test"][metric])


def test_publish_refuses_in_one_line_a_run_without_its_headline_metric(monkeypatch, tmp_path):
    from train import loop, publish
    from train.errors import UserError

    monkeypatch.setattr(loop, "run", lambda *a, **k: {"primary_metric": "test_loss", "test": {"test_fid": 1.0}})
    with pytest.raises(UserError, match="gan_digits's run reports no test_frechet_distance to put on a model card"):
        publish.publish("gan_digits", "gan", str(tmp_path / "run"), str(tmp_path / "out"), progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_gaussian_vae_runs_end_to_end(runs):
    vae = runs("gaussian_vae")
    assert np.isfinite(vae["report"]["iwae_nll_nats"]) and "independent_pixels_nll_nats" not in vae["report"]


def test_gan_sample_snapshots_live_in_the_workdir_for_a_resumed_run(tmp_path):
    """Evaluations keep the fixed-noise samples in the workdir: a new task object (a resumed run)
    sees those taken before it, up to its step."""
    from train import configs
    from train.overrides import apply_overrides
    from train.tasks import make_task
    from train.tasks.gan import snapshot_history

    config = apply_overrides(configs.get_config("gan_digits"), {"model.features": "8"})
    first = make_task(config)
    first.workdir = str(tmp_path)
    state = first.create_state(jax.random.key(0), optax.adam(1e-3))
    first.evaluate(state, "test[:64]")
    first.evaluate(state.replace(step=state.step + 100), "test[:64]")
    resumed = make_task(config)
    assert resumed.workdir is None and not hasattr(resumed, "snapshots")  # nothing carried in memory
    history = snapshot_history(str(tmp_path), upto=100)
    assert list(history) == [0, 100] and history[0].shape == (64, 8, 8, 1)
    np.testing.assert_array_equal(history[0], history[100])  # same parameters, same fixed noise
    assert list(snapshot_history(str(tmp_path), upto=50)) == [0]


def test_each_gan_player_is_updated_by_its_own_loss_alone():
    """One step updates both players from `L_D + L_G`; with the stop-gradients in place the
    generator's gradient is exactly that of `L_G` and the discriminator's that of `L_D` (WGAN-GP,
    whose penalty differentiates the critic inside the loss)."""
    from train import configs
    from train.optim import make_optimizer
    from train.overrides import apply_overrides
    from train.tasks import make_task

    config = apply_overrides(configs.get_config("gan_digits"), {"model.features": "8", "gan.loss": "wgan_gp"})
    task = make_task(config)
    state = task.create_state(jax.random.key(0), make_optimizer(config.optimizer, config.num_steps)[0])
    batch = {"inputs": jnp.asarray(task.split("train")["inputs"][:16])}
    @jax.jit
    def gradients(params):
        part = lambda name: jax.grad(lambda p: task.loss_fn(p, state, batch, jax.random.key(1))[1][0][name])(params)
        return jax.grad(lambda p: task.loss_fn(p, state, batch, jax.random.key(1))[0])(params), part("d_loss"), \
            part("g_loss")

    total, d_part, g_part = gradients(state.params)
    norm = lambda tree: float(sum(jnp.sum(x ** 2) for x in jax.tree.leaves(tree)))
    assert norm(d_part["generator"]) == 0 and norm(g_part["discriminator"]) == 0
    assert norm(d_part["discriminator"]) > 0 and norm(g_part["generator"]) > 0
    chex.assert_trees_all_close(total["generator"], g_part["generator"], rtol=1e-5, atol=1e-7)
    chex.assert_trees_all_close(total["discriminator"], d_part["discriminator"], rtol=1e-5, atol=1e-7)


def test_the_importance_weighted_bound_converges_to_the_exact_likelihood_of_a_linear_gaussian_model():
    """p(z) = N(0, I), p(x | z) = N(W z + b, s^2 I): the marginal is N(b, W W^T + s^2 I) in closed
    form. With a posterior wider than the true one, k = 1 is a loose bound (the negative ELBO) and
    the bound tightens towards -log p(x) as k grows."""
    from scipy.stats import multivariate_normal

    from train.generative_eval import importance_weighted_nll

    rng = np.random.default_rng(0)
    d, latent, s = 5, 2, 0.5
    W, b = rng.normal(size=(d, latent)), rng.normal(size=d)
    x = rng.normal(size=(4, d)) @ np.diag([1.5] * d) + b
    exact = -multivariate_normal(b, W @ W.T + s ** 2 * np.eye(d)).logpdf(x)
    # the true posterior N(P W^T (x - b) / s^2, P) with P = (I + W^T W / s^2)^-1, made 1.5x wider
    P = np.linalg.inv(np.eye(latent) + W.T @ W / s ** 2)
    encode = lambda x: ((x - b[None]) @ W @ P.T / s ** 2, jnp.broadcast_to(jnp.log(jnp.diag(P) * 1.5 ** 2), (x.shape[0], latent)))
    log_lik = lambda z, x: jnp.sum(-0.5 * ((x - z @ W.T - b[None]) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi), -1)
    x = jnp.asarray(x, jnp.float32)
    bound = {k: np.mean([np.asarray(importance_weighted_nll(encode, log_lik, x, jax.random.key(r), k))
                         for r in range(20 if k < 1000 else 2)], 0) for k in (1, 10, 5000)}
    assert np.all(bound[1] > bound[10]) and np.all(bound[10] > bound[5000] - 1e-3)
    assert np.all(bound[1] - exact > 0.05)                       # the ELBO is visibly loose here
    np.testing.assert_allclose(bound[5000], exact, atol=0.02)    # and the k = 5000 bound is tight


def test_the_vae_kl_term_is_the_kl_divergence_by_its_definition():
    import optax

    import zoo
    from train import configs
    from train.overrides import apply_overrides
    from train.tasks import make_task

    task = make_task(apply_overrides(configs.get_config("vae_digits"), {"model.latent": "3"}))
    params = task.create_state(jax.random.key(0), optax.sgd(0.1)).params
    params = jax.tree.map(lambda p: p * 3.0, params)  # a posterior far from the prior
    x = jnp.asarray(task.split("train")["inputs"][:3])
    _, kl = task.elbo_terms(params, x, jax.random.key(1))
    mu, logvar = (np.asarray(a, np.float64) for a in task.model.apply({"params": params}, x, method=zoo.VAE.encode))
    sigma = np.exp(0.5 * logvar)
    z = mu[:, None] + sigma[:, None] * np.random.default_rng(0).standard_normal((3, 400_000, 3))
    log_q = -0.5 * (((z - mu[:, None]) / sigma[:, None]) ** 2 + np.log(2 * np.pi * sigma[:, None] ** 2))
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi))
    sampled = (log_q - log_p).sum(-1).mean(1)                     # E_q[log q - log p]
    assert np.all(sampled > 0.5)
    np.testing.assert_allclose(np.asarray(kl), sampled, rtol=0.02, atol=0.02)
