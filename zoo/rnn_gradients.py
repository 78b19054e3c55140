"""How gradients flow back through a recurrent cell (Bengio et al. 1994; Pascanu et al. 2013).

`carry_gradient_norms` measures `||dL/ds_t||` for every step `t`, where `s_t` is the cell's
state after step `t` (the whole carry: `h` for vanilla and GRU cells, `(c, h)` for the
LSTM) and `L = u . h_T` reads the last hidden state along a fixed unit vector `u`. Back
through a vanilla cell `dL/dh_{t-1} = W_hh^T diag(act'(z_t)) dL/dh_t`, so near the origin
the norm scales like `sigma_max(W_hh)^(T - t)`: exploding above 1, vanishing below.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


def carry_gradient_norms(cell: nn.Module, params, xs, carry=None):
    """`(T,)` mean over the batch of `||dL/ds_t||`, `t = 0 .. T-1`, for `xs: (batch, T, in)`.

    `L = sum_b u . h_T[b]` with `u = 1 / sqrt(features)`; `carry` defaults to zeros. The last
    entry is `||dL/ds_{T-1}||` (the final state), the first how much of it reaches step 0.
    """
    batch, steps = xs.shape[:2]
    carry = cell.initialize_carry(batch) if carry is None else carry
    readout = jnp.full((cell.features,), 1.0 / jnp.sqrt(cell.features))
    perturb = jax.tree.map(lambda c: jnp.zeros((steps,) + c.shape, c.dtype), carry)

    def loss(perturb):
        def step(carry, inputs):
            x, delta = inputs
            carry, _ = cell.apply({"params": params}, carry, x)
            return jax.tree.map(jnp.add, carry, delta), None

        final, _ = jax.lax.scan(step, carry, (jnp.swapaxes(xs, 0, 1), perturb))
        h = final[1] if isinstance(final, tuple) else final
        return jnp.sum(h @ readout)

    grads = jax.grad(loss)(perturb)
    squared = sum(jnp.sum(g ** 2, axis=-1) for g in jax.tree.leaves(grads))  # (T, batch)
    return jnp.sqrt(squared).mean(axis=1)


def scaled_orthogonal(key, features: int, sigma: float):
    """A `(features, features)` matrix with every singular value equal to `sigma`."""
    return sigma * nn.initializers.orthogonal()(key, (features, features))


def with_recurrent_kernel(params, kernel):
    """Vanilla-cell `params` with `W_hh` replaced by `kernel`."""
    return {**params, "hh": {**params["hh"], "kernel": kernel}}
