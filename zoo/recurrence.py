"""The scan of a recurrent cell whose input projection is hoisted out of the loop, with a hand-written backward pass.

A cell step is `carry_t = update(carry_{t-1}, zx_t, zh_t)` with `zx_t = x_t W_xh + b_x` and
`zh_t = h_{t-1} W_hh (+ b_h)`. `x W_xh` is computed for every step at once before the loop (one
large matmul, see `Recurrent`), so the only matmul inside the loop is `h W_hh`. Reverse-mode
autodiff of a plain `lax.scan` would, at every step, also add `h_{t-1}^T dzh_t` into a carried
`W_hh` gradient; here the backward loop keeps only what is truly sequential (the elementwise
VJP of `update` and `dh_{t-1} += dzh_t W_hh^T`), and the weight gradients are one matmul and
two sums over all steps afterwards, as cuDNN's RNN kernels do.
"""

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

Array = Any


def hidden_state(carry):
    """The output part of a carry: `h` for every cell (the LSTM carry is `(c, h)`)."""
    return carry[1] if isinstance(carry, tuple) else carry


def _with_hidden(carry, h):
    return (carry[0], h) if isinstance(carry, tuple) else h


def projections(weights, carry, xw):
    """Computes one step's projections `zx = xw + b_x` and `zh = h W_hh (+ b_h)`.

    Args:
      weights: `(b_x, W_hh, b_h)`; the biases may be None.
      carry: the cell's carry, holding `h`.
      xw: `(batch, k * features)`, the input product `x W_xh`.

    Returns:
      `(zx, zh)`, each `(batch, k * features)`.
    """
    input_bias, kernel, recurrent_bias = weights
    zx = xw if input_bias is None else xw + input_bias[None]
    zh = jnp.dot(hidden_state(carry).astype(kernel.dtype), kernel)
    return zx, (zh if recurrent_bias is None else zh + recurrent_bias[None])


def masked_step(step, carry, keep, *inputs):
    """Applies `step(carry, *inputs) -> (carry, y)` to a batch, except where `keep` is False.

    Where `keep: (batch,)` is False (past a sequence's end) the carry is frozen and the output zero.

    Returns:
      `(carry, y)`.
    """
    new, y = step(carry, *inputs)
    new = jax.tree.map(lambda n, o: jnp.where(keep[:, None], n, o), new, carry)
    return new, jnp.where(keep[:, None], y, jnp.zeros_like(y))


def _forward(update, unroll, weights, carry, xw, keep, save: bool):
    """The scan; with `save` each step also returns the carry it read and its `zh`.

    Those are the backward pass's residuals.
    """
    def step(carry, inputs):
        xw_t, keep_t = inputs
        zx, zh = projections(weights, carry, xw_t)
        new, y = masked_step(update, carry, keep_t, zx, zh)
        return new, ((y, carry, zh) if save else y)

    return jax.lax.scan(step, carry, (xw, keep), unroll=unroll)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def scan_cell(update: Callable, summed: bool, unroll: int, weights, carry, xw: Array, keep: Array):
    """Runs `update` over time, with a custom VJP.

    Reverse-mode only (a custom VJP): forward-mode autodiff needs the per-step scan
    (`Recurrent(hoist=False)`).

    Args:
      update: `update(carry, zx, zh) -> (carry, y)`, one step of the cell.
      summed: promises that `update` reads only `zx + zh` (then one gradient buffer serves both).
      unroll: steps run per loop iteration.
      weights: `(b_x, W_hh, b_h)`: `W_hh: (features, k * features)`, biases `(k * features,)` or
        None, all in the compute dtype.
      carry: `h` or `(c, h)`, each `(batch, features)`.
      xw: `(time, batch, k * features)`, the hoisted `x W_xh`.
      keep: `(time, batch)` bool, False on padding.

    Returns:
      `(final_carry, ys)`, `ys: (time, batch, features)`.
    """
    return _forward(update, unroll, weights, carry, xw, keep, save=False)


def _scan_cell_fwd(update, summed, unroll, weights, carry, xw, keep):
    final, (ys, previous, zh) = _forward(update, unroll, weights, carry, xw, keep, save=True)
    return (final, ys), (weights, previous, xw, zh, keep)


def _scan_cell_bwd(update, summed, unroll, residuals, cotangents):
    weights, previous, xw, zh, keep = residuals
    input_bias, kernel, recurrent_bias = weights
    d_final, d_ys = cotangents

    def step(d_carry, inputs):
        carry, xw_t, zh_t, keep_t, dy_t = inputs
        zx_t = xw_t if input_bias is None else xw_t + input_bias[None]
        _, vjp = jax.vjp(lambda c, a, b: masked_step(update, c, keep_t, a, b), carry, zx_t, zh_t)
        d_prev, d_zx, d_zh = vjp((d_carry, dy_t))
        h = hidden_state(d_prev)
        d_prev = _with_hidden(d_prev, h + jnp.dot(d_zh, kernel.T).astype(h.dtype))
        return d_prev, (d_zh if summed else (d_zx, d_zh))

    d_carry, d_z = jax.lax.scan(step, d_final, (previous, xw, zh, keep, d_ys), reverse=True, unroll=unroll)
    d_zx, d_zh = (d_z, d_z) if summed else d_z
    rows = lambda a: a.reshape(-1, a.shape[-1])
    # One (features, time * batch) x (time * batch, k * features) matmul for all steps.
    d_kernel = jax.lax.dot_general(rows(hidden_state(previous).astype(kernel.dtype)), rows(d_zh),
                                   (((0,), (0,)), ((), ())), preferred_element_type=jnp.float32).astype(kernel.dtype)
    total = lambda d, b: None if b is None else d.sum((0, 1), dtype=jnp.float32).astype(b.dtype)
    d_weights = (total(d_zx, input_bias), d_kernel, total(d_zh, recurrent_bias))
    return d_weights, d_carry, d_zx, None


scan_cell.defvjp(_scan_cell_fwd, _scan_cell_bwd)
