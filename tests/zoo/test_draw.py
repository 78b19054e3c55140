"""DRAW: Gaussian filterbanks against their definition, attention reads recover a centred patch,
shapes of the bound terms and of the canvases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.draw import DRAW, filterbank


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
    variables = model.init(jax.random.key(1), x, jax.random.key(2))
    logits, kl, canvases = model.apply(variables, x, jax.random.key(2))
    assert logits.shape == (2, 8, 8, 1) and kl.shape == (2,) and canvases.shape == (2, 3, 8, 8)
    assert (kl >= 0).all()
    np.testing.assert_allclose(canvases[:, -1], logits[..., 0])
    samples = model.apply(variables, jax.random.key(3), 5, method="generate")
    assert samples.shape == (5, 3, 8, 8) and ((samples >= 0) & (samples <= 1)).all()
