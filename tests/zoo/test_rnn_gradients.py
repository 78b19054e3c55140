"""The exploding/vanishing-gradient law on constructed weights (Pascanu et al. 2013)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train.gradient_flow import update_norms, vanilla_norms
from zoo.rnn import LSTMCell
from zoo.rnn_gradients import carry_gradient_norms, scaled_orthogonal
from train.state import init_variables


def test_scaled_orthogonal_has_the_requested_singular_values():
    s = np.linalg.svd(np.asarray(scaled_orthogonal(jax.random.key(0), 16, 1.5)), compute_uv=False)
    np.testing.assert_allclose(s, 1.5, rtol=1e-5)


@pytest.mark.parametrize("sigma", [0.5, 1.5])
def test_gradient_norm_scales_as_sigma_per_step(sigma):
    norms = np.asarray(vanilla_norms(sigma, 50), np.float64)
    np.testing.assert_allclose(norms[-1], 1.0, rtol=1e-5)           # dL/dh_T = u, a unit vector
    np.testing.assert_allclose(norms[:-1] / norms[1:], sigma, rtol=1e-3)
    if sigma > 1:
        assert norms[0] > 1e8                                      # 1.5^49 ~ 4e8: exploding
    else:
        assert norms[0] < 1e-14                                    # 0.5^49 ~ 2e-15: vanishing


def test_lstm_cell_state_keeps_gradients_alive():
    """All kernels zero and forget bias 5: the output gate is sigmoid(0) = 1/2 and only the cell
    state carries memory, so dL/dc_t = 1/2 sigmoid(5)^(T-1-t) u while dL/dh_{T-1} = u: a third of
    the signal survives 50 steps, where a vanilla RNN with sigma 0.5 keeps 1e-15 of it."""
    cell = LSTMCell(8, forget_bias=5.0)
    xs = jnp.zeros((2, 50, 3))
    params = init_variables(cell, jax.random.key(0), cell.initialize_carry(2), xs[:, 0])["params"]
    params = jax.tree.map(jnp.zeros_like, params)
    params["xh"]["bias"] = params["xh"]["bias"].at[8:16].set(5.0)
    norms = np.asarray(carry_gradient_norms(cell, params, xs))
    sig5 = 1 / (1 + np.exp(-5.0))
    np.testing.assert_allclose(norms[0] / norms[-1], 0.5 * sig5 ** 49, rtol=1e-4)
    assert norms[0] / norms[-1] > 0.3
    assert vanilla_norms(0.5, 50)[0] < 1e-10


def test_clipping_bounds_the_update_whatever_sigma_is():
    lr, clip = 0.1, 1.0
    exploding = update_norms(1.5, 50, 0.0, lr)
    assert exploding > 1e3 * lr * clip
    for sigma in (0.5, 1.0, 1.5):
        assert update_norms(sigma, 50, clip, lr) <= lr * clip * (1 + 1e-5)
