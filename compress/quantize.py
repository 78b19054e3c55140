"""Symmetric integer quantization of weights and activations, without editing the model.

Weights are quantized per output channel (the last axis of a kernel) by a parameter transform;
activations entering every `nn.Dense` / `nn.Conv` are quantized per tensor through Flax's
method interception (`nn.intercept_methods`), which is the injection point: the model code is
unchanged. `b`-bit symmetric quantization maps `x` to `round(x / s)` clipped to
`[-(2^(b-1) - 1), 2^(b-1) - 1]` with `s = max|x| / (2^(b-1) - 1)`.

- Post-training quantization (`calibrate`, then `quantized_apply`): activation scales from the
  largest input magnitude each layer sees on calibration data, weights per channel.
- Quantization-aware training (`fake_quant_apply` inside the loss): the same rounding in the
  forward pass with the straight-through estimator (Bengio et al. 2013; Jacob et al. 2018) for
  the gradient, per-batch activation scales.

Values are rounded to the integer grid and rescaled (fake quantization), which is exact for
accuracy. `int8_matmul` and `integer_apply` really multiply in int8: int8 operands and int32
accumulation through `lax.dot_general(..., preferred_element_type=int32)`, which XLA lowers to
the GPU's integer tensor cores (a plain int8 `dot` would accumulate in int8 and take a slow
path); the float result is the int32 sum times the two scales. `integer_apply` runs every
`nn.Dense` that way; convolutions keep the fake-quantized path.
"""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from train.checks import argument

_QUANTIZED_LAYERS = (nn.Dense, nn.Conv)


def quantize(x, bits: int, scale):
    """Quantize to integers `round(x / scale)` clipped to the symmetric `bits`-bit range.

    Returns:
        Integer-valued floats of the shape and dtype of `x`.
    """
    q_max = 2 ** (bits - 1) - 1
    return jnp.clip(jnp.round(x / scale), -q_max, q_max)


def symmetric_scale(x, bits: int, axis=None):
    """Compute the symmetric scale `max|x| / (2^(bits-1) - 1)` over all of `x`, or per slice along `axis`.

    Args:
        x: the array to quantize.
        bits: the integer width.
        axis: the axis with one scale per slice (the reduced dims are kept); `None` for one
            scale over all of `x`.

    Returns:
        A scalar, or an array broadcastable to `x` with `x.shape[axis]` along `axis`.
    """
    reduce = None if axis is None else tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    return jnp.maximum(jnp.max(jnp.abs(x), axis=reduce, keepdims=axis is not None), 1e-12) / (2 ** (bits - 1) - 1)


def fake_quant(x, bits: int, scale):
    """Fake-quantize: `quantize(x) * scale` in the forward pass, the identity's gradient (straight-through)."""
    return x + jax.lax.stop_gradient(quantize(x, bits, scale) * scale - x)


def quantize_weights(params, bits: int = 8, min_ndim: int = 2):
    """Fake-quantize every kernel (>= `min_ndim` dims) per output channel; other leaves are unchanged."""
    return jax.tree.map(lambda w: fake_quant(w, bits, symmetric_scale(w, bits, axis=-1))
                        if jnp.ndim(w) >= min_ndim else w, params)


def _layer_inputs(transform):
    """An interceptor applying `transform(path, x)` to the input of every Dense/Conv call."""
    def interceptor(next_fun, args, kwargs, context):
        if isinstance(context.module, _QUANTIZED_LAYERS) and context.method_name == "__call__" and args:
            args = (transform("/".join(context.module.path), args[0]),) + tuple(args[1:])
        return next_fun(*args, **kwargs)
    return interceptor


def calibrate(apply_fn, variables, batches) -> dict:
    """Record the largest input magnitude of every Dense/Conv layer over calibration batches.

    Args:
        apply_fn: `apply_fn(variables, x)`.
        variables: the model's variables.
        batches: an iterable of input arrays.

    Returns:
        A dict of floats,
        `{layer path: max |input|}`.
    """
    seen = {}

    def record(path, x):
        seen[path] = jnp.maximum(seen.get(path, 0.0), jnp.max(jnp.abs(x)))
        return x

    for x in batches:
        with nn.intercept_methods(_layer_inputs(record)):
            apply_fn(variables, x)
    return {k: float(v) for k, v in seen.items()}


def quantized_apply(apply_fn, variables, x, ranges: dict, bits: int = 8):
    """Run `apply_fn` with post-training quantization of weights and layer inputs.

    Weights are quantized per channel and each layer's input with the calibrated scale
    `ranges[path] / (2^(bits-1) - 1)`.

    Args:
        apply_fn: `apply_fn(variables, x)`.
        variables: the model's variables, holding `{"params": ...}`.
        x: the model's input.
        ranges: `{layer path: max |input|}` from `calibrate`.
        bits: the integer width.

    Returns:
        What `apply_fn` returns.
    """
    q_max = 2 ** (bits - 1) - 1

    def quant(path, x):
        scale = max(ranges[path], 1e-12) / q_max
        return quantize(x, bits, scale) * scale

    variables = dict(variables, params=quantize_weights(variables["params"], bits))
    with nn.intercept_methods(_layer_inputs(quant)):
        return apply_fn(variables, x)


def fake_quant_apply(apply_fn, variables, x, bits: int, **kwargs):
    """Run `apply_fn` with weights and every layer input fake-quantized to `bits`, for QAT.

    Input scales are per batch; the result is differentiable by the straight-through estimator,
    so use it in a quantization-aware training loss.

    Args:
        apply_fn: `apply_fn(variables, x, **kwargs)`.
        variables: the model's variables, holding `{"params": ...}`.
        x: the model's input.
        bits: the integer width.
        **kwargs: passed to `apply_fn`.

    Returns:
        What `apply_fn` returns.
    """
    variables = dict(variables, params=quantize_weights(variables["params"], bits))
    with nn.intercept_methods(_layer_inputs(lambda path, x: fake_quant(x, bits, symmetric_scale(x, bits)))):
        return apply_fn(variables, x, **kwargs)


def int8_matmul(x, w, x_scale, w_scale):
    """Compute `x @ w` in integers: int8 operands, int32 accumulation.

    Args:
        x: `(..., k)` activations, quantized with `x_scale`.
        w: `(k, n)` weights, quantized with `w_scale`.
        x_scale: the scalar scale of `x`.
        w_scale: `(1, n)` per-column scales of `w`.

    Returns:
        `(..., n)` float32: the int32 sum times the two scales.

    Raises:
        ValueError: on shapes other than these, naming the argument.
    """
    with argument("w", "a (k, n) weight matrix", w):
        chex.assert_rank(w, 2)
    with argument("x", f"activations (..., {w.shape[0]}) matching w's {w.shape[0]} rows", x):
        chex.assert_rank(x, {1, 2, 3, 4})
        chex.assert_axis_dimension(x, -1, w.shape[0])
    with argument("x_scale", "a scalar scale", x_scale):
        chex.assert_rank(x_scale, 0)
    with argument("w_scale", f"per-column scales (1, {w.shape[1]})", w_scale):
        chex.assert_size(w_scale, w.shape[1])
    xq = quantize(x, 8, x_scale).astype(jnp.int8)
    wq = quantize(w, 8, w_scale).astype(jnp.int8)
    acc = jax.lax.dot_general(xq, wq, (((x.ndim - 1,), (0,)), ((), ())), preferred_element_type=jnp.int32)
    return acc.astype(jnp.float32) * (x_scale * w_scale.reshape((1,) * (x.ndim - 1) + w_scale.shape[-1:]))


def integer_apply(apply_fn, variables, x, ranges: dict):
    """Run `apply_fn` post-training quantized to int8, every `nn.Dense` as an `int8_matmul`.

    Dense layers take the calibrated input scale `ranges[path] / 127` and per-channel weight
    scales; every `nn.Conv` is fake-quantized as in `quantized_apply`. Equal to
    `quantized_apply(..., bits=8)` up to float summation order.

    Args:
        apply_fn: `apply_fn(variables, x)`.
        variables: the model's variables, holding `{"params": ...}`.
        x: the model's input.
        ranges: `{layer path: max |input|}` from `calibrate`.

    Returns:
        What `apply_fn` returns.
    """
    def interceptor(next_fun, args, kwargs, context):
        module = context.module
        if not (isinstance(module, _QUANTIZED_LAYERS) and context.method_name == "__call__" and args):
            return next_fun(*args, **kwargs)
        path = "/".join(module.path)
        scale = max(ranges[path], 1e-12) / 127
        if isinstance(module, nn.Conv):
            return next_fun(quantize(args[0], 8, scale) * scale, *args[1:], **kwargs)
        kernel = module.get_variable("params", "kernel")  # already on the int8 grid: re-quantizing is exact
        y = int8_matmul(args[0], kernel, scale, symmetric_scale(kernel, 8, axis=-1))
        if module.use_bias:
            bias = module.get_variable("params", "bias")
            y = y + bias.reshape((1,) * (y.ndim - 1) + bias.shape)
        return y

    variables = dict(variables, params=quantize_weights(variables["params"], 8))
    with nn.intercept_methods(interceptor):
        return apply_fn(variables, x)
