"""`zoo.recurrence.scan_cell` (hoisted input projection, hand-written backward pass) against the
definition: the cell's own one-step `__call__` in a Python loop over time, differentiated by JAX."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train.state import init_variables
from zoo.recurrence import scan_cell
from zoo.rnn import GRUCell, LSTMCell, RecurrentStack, VanillaRNNCell

B, T, I, H = 3, 7, 5, 6
LENGTHS = np.array([7, 4, 1])  # padding on two of the three sequences
CELLS = {"rnn": VanillaRNNCell(H), "lstm": LSTMCell(H), "gru": GRUCell(H)}


def _setup(kind):
    cell = CELLS[kind]
    xs = jax.random.normal(jax.random.key(1), (B, T, I))
    carry = jax.tree.map(lambda c: 0.5 * jax.random.normal(jax.random.key(2), c.shape), cell.initialize_carry(B))
    params = init_variables(cell, jax.random.key(0), carry, xs[:, 0])
    # nonzero recurrent biases and a bias-free kernel scale, so every weight's gradient is exercised
    params = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.key(3), p.shape), params)
    return cell, params, carry, xs


def _reference(cell, params, carry, xs):
    """Loop of one-step calls; past a sequence's end the carry is kept and the output is zero."""
    ys = []
    for t in range(T):
        new, y = cell.apply(params, carry, xs[:, t])
        keep = jnp.asarray(t < LENGTHS)[:, None]
        carry = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, carry)
        ys.append(jnp.where(keep, y, 0.0))
    return carry, jnp.stack(ys, 1)


def _scanned(cell, params, carry, xs, unroll):
    xw, weights = cell.apply(params, jnp.swapaxes(xs, 0, 1), method="inputs")
    keep = jnp.arange(T)[:, None] < jnp.asarray(LENGTHS)[None, :]
    carry, ys = scan_cell(cell.update, cell.SUMMED, unroll, weights, carry, xw, keep)
    return carry, jnp.swapaxes(ys, 0, 1)


def _loss(run):
    def loss(params, carry, xs):
        final, ys = run(params, carry, xs)
        return jnp.sum(jnp.sin(3 * ys)) + sum(jnp.sum(jnp.cos(c)) for c in jax.tree.leaves(final))
    return loss


@pytest.mark.parametrize("unroll", [1, 3])
@pytest.mark.parametrize("kind", CELLS)
def test_scan_cell_matches_the_step_by_step_definition_and_its_gradients(kind, unroll):
    cell, params, carry, xs = _setup(kind)
    ref = _reference(cell, params, carry, xs)
    out = _scanned(cell, params, carry, xs, unroll)
    chex.assert_trees_all_close(out, ref, rtol=1e-5, atol=1e-6)
    want = jax.grad(_loss(lambda *a: _reference(cell, *a)), argnums=(0, 1, 2))(params, carry, xs)
    got = jax.grad(_loss(lambda *a: _scanned(cell, *a, unroll)), argnums=(0, 1, 2))(params, carry, xs)
    assert all(np.abs(w).max() > 0 for w in jax.tree.leaves(want))
    chex.assert_trees_all_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", CELLS)
def test_scan_cell_in_bfloat16_follows_float32(kind):
    """bf16 compute (float32 parameters): the gradients stay within 5% (relative L2) of float32's."""
    cell, params, carry, xs = _setup(kind)
    half = type(cell)(H, dtype=jnp.bfloat16)
    carry16 = jax.tree.map(lambda c: c.astype(jnp.bfloat16), carry)
    want = jax.grad(_loss(lambda *a: _reference(cell, *a)))(params, carry, xs)
    got = jax.grad(lambda p: _loss(lambda *a: _scanned(half, *a, 2))(p, carry16, xs).astype(jnp.float32))(params)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        assert g.dtype == jnp.float32
        assert np.linalg.norm(g - w) <= 0.05 * np.linalg.norm(w)


def test_hoist_false_runs_step_by_step_for_forward_mode_autodiff():
    """bf16 takes `scan_cell` on every backend; `hoist=False` gives the same layer on the per-step
    path, which `jax.jvp` can differentiate (a custom VJP has no forward-mode rule)."""
    xs = jax.random.normal(jax.random.key(1), (B, T, I))
    stack = RecurrentStack("lstm", H, num_layers=2, dtype=jnp.bfloat16)
    params = init_variables(stack, jax.random.key(0), xs)
    step_by_step = RecurrentStack("lstm", H, num_layers=2, dtype=jnp.bfloat16, hoist=False)
    ys = lambda module, x: module.apply(params, x)[1].astype(jnp.float32)
    np.testing.assert_allclose(ys(stack, xs), ys(step_by_step, xs), atol=2e-2)
    _, tangent = jax.jvp(lambda x: ys(step_by_step, x), (xs,), (jnp.ones_like(xs),))
    _, vjp = jax.vjp(lambda x: ys(step_by_step, x), xs)
    # <J 1, 1> computed forwards equals <1, J^T 1> computed backwards
    np.testing.assert_allclose(jnp.sum(tangent), jnp.sum(vjp(jnp.ones((B, T, H)))[0]), rtol=2e-2)
    with pytest.raises(TypeError, match="forward-mode"):
        jax.jvp(lambda x: ys(stack, x), (xs,), (jnp.ones_like(xs),))
