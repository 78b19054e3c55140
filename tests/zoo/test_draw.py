"""DRAW: Gaussian filterbanks against their definition, attention reads recover a centred patch,
shapes of the bound terms and of the canvases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train.generative_eval import bernoulli_nll
from zoo.draw import DRAW, _DrawStep, filterbank
from train.state import init_variables


def test_filterbank_rows_are_normalized_gaussians_on_the_grid():
    f = np.asarray(filterbank(jnp.array([3.5]), jnp.array([2.0]), jnp.array([0.5]), 3, 8))[0]
    np.testing.assert_allclose(f.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(f @ np.arange(8), [1.5, 3.5, 5.5], atol=1e-2)        # centres 3.5 + (i - 1) * 2
    raw = np.exp(-(np.arange(8) - 1.5) ** 2 / (2 * 0.5))
    np.testing.assert_allclose(f[0], raw / raw.sum(), atol=1e-6)


def test_a_narrow_unit_stride_read_copies_the_patch():
    image = jax.random.uniform(jax.random.key(0), (1, 8, 8))
    f = filterbank(jnp.array([3.5]), jnp.array([1.0]), jnp.array([1e-3]), 4, 8)     # rows 2..5, sharp
    patch = jnp.einsum("bnh,bhw,bmw->bnm", f, image, f)
    np.testing.assert_allclose(patch[0], image[0, 2:6, 2:6], atol=1e-5)


@pytest.mark.parametrize("attention", [True, False])
def test_bound_terms_and_canvases(attention):
    model = DRAW((8, 8, 1), steps=3, read_n=2, write_n=3, encoder_features=8, decoder_features=8, latent=2,
                 attention=attention)
    x = (jax.random.uniform(jax.random.key(0), (2, 8, 8, 1)) > 0.5).astype(jnp.float32)
    variables = init_variables(model, jax.random.key(1), x, jax.random.key(2))
    logits, kl, canvases = model.apply(variables, x, jax.random.key(2))
    assert logits.shape == (2, 8, 8, 1) and kl.shape == (2,) and canvases.shape == (2, 3, 8, 8)
    assert (kl >= 0).all()
    np.testing.assert_allclose(canvases[:, -1], logits[..., 0])
    samples = model.apply(variables, jax.random.key(3), 5, method="generate")
    assert samples.shape == (5, 3, 8, 8) and ((samples >= 0) & (samples <= 1)).all()


def _kl_by_sampling(mu, sigma, samples=200_000, seed=0):
    """`KL(N(mu, sigma^2) || N(0, I))` per row by its definition `E_q[log q(z) - log p(z)]`,
    estimated from samples of q (float64 numpy, no closed form)."""
    z = mu[:, None] + sigma[:, None] * np.random.default_rng(seed).standard_normal((mu.shape[0], samples, mu.shape[1]))
    log_q = -0.5 * (((z - mu[:, None]) / sigma[:, None]) ** 2 + np.log(2 * np.pi * sigma[:, None] ** 2))
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi))
    return (log_q - log_p).sum(-1).mean(1)


@pytest.mark.parametrize("attention", [True, False])
def test_the_bound_is_the_reconstruction_plus_each_steps_kl_by_definition(attention):
    steps, latent = 3, 2
    model = DRAW((8, 8, 1), steps=steps, read_n=2, write_n=3, encoder_features=8, decoder_features=8, latent=latent,
                 attention=attention)
    x = (jax.random.uniform(jax.random.key(0), (2, 8, 8, 1)) > 0.5).astype(jnp.float32)
    rng = jax.random.key(2)
    variables = init_variables(model, jax.random.key(1), x, rng)
    logits, kl, _ = model.apply(variables, x, rng)
    # the steps unrolled by hand with the model's noise, reading each step's posterior off its layers
    eps = jax.random.normal(rng, (2, steps, latent))
    step = _DrawStep(8, 8, 2, 3, 8, 8, latent, attention, jnp.float32, jnp.float32)
    zeros = (jnp.zeros((2, 8)), jnp.zeros((2, 8)))
    state, expected_kl = (jnp.zeros((2, 8, 8)), zeros, zeros), np.zeros(2)
    for t in range(steps):
        (state, _), seen = step.apply({"params": variables["params"]["step"]}, state, eps[:, t], x[..., 0],
                                      jnp.asarray(False), capture_intermediates=True, mutable=["intermediates"])
        mu, log_sigma = (np.asarray(seen["intermediates"][name]["__call__"][0], np.float64) for name in ("mu", "log_sigma"))
        expected_kl += _kl_by_sampling(mu, np.exp(log_sigma), seed=t)
    canvas = np.asarray(state[0], np.float64)
    p = 1 / (1 + np.exp(-canvas))
    target = np.asarray(x[..., 0], np.float64)
    reconstruction = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum((1, 2))
    np.testing.assert_allclose(np.asarray(logits[..., 0]), canvas, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(kl), expected_kl, rtol=0.02, atol=0.02)
    np.testing.assert_allclose(np.asarray(bernoulli_nll(logits, x)), reconstruction, rtol=1e-5)
