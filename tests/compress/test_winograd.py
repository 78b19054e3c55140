"""Winograd F(2x2,3x3) and F(4x4,3x3) against lax.conv, and the multiplication counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress.winograd import multiplications_per_output, winograd_conv2d, winograd_matrices


def reference(x, w, padding):
    return jax.lax.conv_general_dilated(x, w, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        precision=jax.lax.Precision.HIGHEST)


CASES = [  # (N, H, W, C, K): odd and even sizes, sizes not multiples of the tile, 1 channel, many
    (2, 8, 8, 3, 4), (1, 7, 9, 1, 1), (3, 5, 6, 16, 8), (2, 32, 32, 16, 16), (1, 11, 4, 64, 32), (1, 3, 3, 2, 5)]


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape", CASES)
def test_winograd_equals_lax_conv(m, padding, shape):
    n, h, wd, c, k = shape
    seed = 100 * CASES.index(shape) + 10 * m + (padding == "SAME")  # explicit: hash() is salted per process
    rng = np.random.default_rng(seed)  # numpy: an eager 4-D jax.random draw compiles for 0.3-1.7 s per shape
    x = jnp.asarray(rng.standard_normal((n, h, wd, c), np.float32))
    w = jnp.asarray(rng.standard_normal((3, 3, c, k), np.float32) / np.sqrt(9 * c))
    ref = reference(x, w, padding)
    out = winograd_conv2d(x, w, m=m, padding=padding)
    assert out.shape == ref.shape
    rel = float(jnp.linalg.norm(out - ref) / jnp.linalg.norm(ref))
    assert rel <= 1e-4, rel


def test_the_transforms_compute_a_one_dimensional_correlation_exactly():
    """A^T [(G g) * (B^T d)] = [sum_k d[i + k] g[k]] for i < m, in exact arithmetic (float64)."""
    rng = np.random.default_rng(0)
    for m in (2, 4):
        BT, G, AT = winograd_matrices(m)
        d, g = rng.normal(size=m + 2), rng.normal(size=3)
        np.testing.assert_allclose(AT @ ((G @ g) * (BT @ d)), np.correlate(d, g, mode="valid"), rtol=1e-12)


def _channel_mixing_products(m: int, size=8, channels=7, outputs=5) -> float:
    """Multiplications per output per channel pair, counted in the traced computation: the
    `dot_general`s that contract over the input channels (the transforms contract over tile
    axes of other sizes) do `prod(output shape) * channels` multiplications."""
    jaxpr = jax.make_jaxpr(lambda x, w: winograd_conv2d(x, w, m=m))(
        jnp.zeros((1, size, size, channels)), jnp.zeros((3, 3, channels, outputs)))
    products = 0

    def walk(jaxpr):
        nonlocal products
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "dot_general":
                (lhs_contract, _), _ = eqn.params["dimension_numbers"]
                if [eqn.invars[0].aval.shape[d] for d in lhs_contract] == [channels]:
                    products += np.prod(eqn.outvars[0].aval.shape) * channels
            for param in eqn.params.values():
                if hasattr(param, "jaxpr"):
                    walk(param.jaxpr)

    walk(jaxpr.jaxpr)
    return products / (size * size * channels * outputs)


@pytest.mark.parametrize("m, fewer", [(2, 2.25), (4, 4.0)])
def test_multiplications_per_output_are_counted_in_the_computation(m, fewer):
    counted = _channel_mixing_products(m)
    assert counted == multiplications_per_output(m) and 9 / counted == fewer


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="expected x"):
        winograd_conv2d(jnp.zeros((1, 8, 8, 3)), jnp.zeros((5, 5, 3, 4)))
    with pytest.raises(ValueError, match="tile size"):
        winograd_conv2d(jnp.zeros((1, 8, 8, 3)), jnp.zeros((3, 3, 3, 4)), m=3)
