"""Low-rank factorization of dense and convolution layers by truncated SVD.

A kernel `W: (..., in, out)` is reshaped to the matrix `M: (m, out)`, `m = prod(shape[:-1])`
(for a convolution, the receptive field times the input channels, as in Denton et al. 2014
and Jaderberg et al. 2014), and replaced by the factors of its best rank-`r` approximation
(Eckart-Young): `a = U_r sqrt(S_r)` reshaped to `(..., in, r)` and `b = sqrt(S_r) V_r^T: (r, out)`.
The layer then computes a rank-`r` layer of the same kind (a convolution with `r` filters, or a
dense layer) followed by a dense `r -> out` map: `r (m + out)` weights instead of `m out`.

The model is not edited: `factorize` swaps a layer's `kernel` for `kernel_a` and `kernel_b` in
the parameter tree, and `lowrank_apply` runs the model with every `nn.Dense` / `nn.Conv` that
holds factors computing through them (Flax method interception). Fine-tuning the factors is
differentiating a loss of `lowrank_apply` with respect to the factored parameters.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def rank_for_energy(singular_values, energy: float) -> int:
    """Find the smallest rank whose singular values keep an `energy` fraction of `sum(s^2)`.

    Raises:
        ValueError: unless `0 < energy <= 1`.
    """
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1]; got {energy}")
    power = np.cumsum(np.asarray(singular_values, np.float64) ** 2)
    return int(np.searchsorted(power / power[-1], energy - 1e-12) + 1)


def rank_for_size(shape, fraction: float) -> int:
    """Find the largest rank (at least 1) whose factors hold at most `fraction` of the kernel's weights."""
    m, n = math.prod(shape[:-1]), shape[-1]
    return max(1, int(fraction * m * n // (m + n)))


def svd_factors(kernel, rank: int):
    """Factor `kernel` by truncated SVD into its best rank-`rank` approximation.

    Args:
        kernel: a `(..., in, out)` kernel.
        rank: the rank of the factors.

    Returns:
        `(a, b)`: `a: (..., in, rank)` and `b: (rank, out)`, with `a @ b` the best rank-`rank`
        approximation of `kernel` reshaped to `(prod(shape[:-1]), out)`.
    """
    shape = kernel.shape
    u, s, vt = jnp.linalg.svd(kernel.reshape(-1, shape[-1]), full_matrices=False)
    root = jnp.sqrt(s[:rank])
    return (u[:, :rank] * root[None, :]).reshape(*shape[:-1], rank), root[:, None] * vt[:rank]


def factorize(params, rank: int | None = None, energy: float | None = None, size: float | None = None,
              min_ndim: int = 2, layers: tuple[str, ...] | None = None):
    """Factor layers of `params`: each chosen layer's `kernel` is replaced by `kernel_a`, `kernel_b`.

    The rank comes from exactly one of `rank` (fixed), `energy` (retained fraction of squared
    singular values) or `size` (fraction of the layer's weights, capped at `min(m, out)`). With
    `energy` or `size` a layer is factored only when that saves weights.

    Args:
        params: the parameter tree.
        rank: a fixed rank.
        energy: the retained fraction of squared singular values.
        size: the fraction of the layer's weights.
        min_ndim: kernels with at least this many dims are considered.
        layers: names (paths joined by "/") to consider; default all.

    Returns:
        `(factored params, ranks)`: `ranks` maps each factored layer's path to its rank.

    Raises:
        ValueError: unless exactly one of `rank`, `energy` and `size` is given.
    """
    if sum(x is not None for x in (rank, energy, size)) != 1:
        raise ValueError("give exactly one of rank, energy or size")
    ranks = {}

    def visit(tree, path):
        if "kernel" in tree and jnp.ndim(tree["kernel"]) >= min_ndim and (layers is None or path in layers):
            kernel = tree["kernel"]
            m, n = math.prod(kernel.shape[:-1]), kernel.shape[-1]
            if rank is not None:
                r = rank
            elif size is not None:
                r = rank_for_size(kernel.shape, size)
            else:
                r = rank_for_energy(np.linalg.svd(np.asarray(kernel).reshape(m, n), compute_uv=False), energy)
            if rank is not None or r * (m + n) < m * n:
                a, b = svd_factors(kernel, min(r, m, n))
                ranks[path] = int(a.shape[-1])
                rest = {k: v for k, v in tree.items() if k != "kernel"}
                return {**rest, "kernel_a": a, "kernel_b": b}
        return {k: visit(v, f"{path}/{k}" if path else k) if isinstance(v, dict) else v for k, v in tree.items()}

    return visit(dict(params), ""), ranks


def _factored_call(next_fun, args, kwargs, context):
    """Interceptor: a Dense/Conv whose params hold `kernel_a`, `kernel_b` computes through them."""
    module = context.module
    if not (isinstance(module, (nn.Dense, nn.Conv)) and context.method_name == "__call__"
            and module.has_variable("params", "kernel_a")):
        return next_fun(*args, **kwargs)
    a, b = module.get_variable("params", "kernel_a"), module.get_variable("params", "kernel_b")
    x = args[0]
    if isinstance(module, nn.Conv):
        x = module.clone(parent=None, features=a.shape[-1], use_bias=False).apply({"params": {"kernel": a}}, x)
    else:
        x = jnp.dot(x.astype(module.dtype or x.dtype), a.astype(module.dtype or a.dtype))
    y = jnp.dot(x, b.astype(x.dtype))
    if module.use_bias:
        bias = module.get_variable("params", "bias").astype(y.dtype)
        y = y + bias.reshape((1,) * (y.ndim - 1) + bias.shape)
    return y


def lowrank_apply(apply_fn, variables, *args, **kwargs):
    """`apply_fn(variables, *args, **kwargs)` with factored layers computing through their factors."""
    with nn.intercept_methods(_factored_call):
        return apply_fn(variables, *args, **kwargs)


def count_weights(params) -> int:
    """Count the scalars in a parameter tree (factored or not)."""
    return sum(int(np.size(x)) for x in jax.tree.leaves(params))
