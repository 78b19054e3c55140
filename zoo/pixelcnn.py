"""PixelCNN and the gated PixelCNN, autoregressive models of images `(B, H, W, C)` in [0, 1].

PixelCNN: van den Oord et al. 2016a, "Pixel Recurrent Neural Networks"; the gated PixelCNN with
vertical and horizontal stacks: van den Oord et al. 2016b, "Conditional Image Generation with
PixelCNN Decoders".

Both return logits `(B, H, W, C, levels)`: a softmax over `levels` intensities per pixel,
conditioned on the pixels before it in raster order (all channels of a pixel are predicted
together from earlier pixels). Masked convolutions: type A excludes the centre pixel (first
layer), type B includes it. A stack of masked 3x3 convolutions has a blind spot (pixels to
the upper right that it never sees); the gated PixelCNN removes it by a vertical stack that sees
whole rows above and a horizontal stack that sees the current row to the left.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import lax


def causal_mask(kernel_size: tuple[int, int], mask_type: str) -> np.ndarray:
    """Returns a `(kh, kw, 1, 1)` float32 0/1 mask of the pixels a masked convolution sees.

    The mask covers the rows above the centre, and the centre row left of the centre (type A) or up
    to and including it (type B).

    Raises:
      ValueError: if `mask_type` is not "A" or "B".
    """
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B'; got {mask_type!r}")
    kh, kw = kernel_size
    mask = np.zeros((kh, kw, 1, 1), np.float32)
    mask[:kh // 2] = 1
    mask[kh // 2, :kw // 2 + (mask_type == "B")] = 1
    return mask


class MaskedConv(nn.Module):
    """`nn.Conv` ("SAME" padding, stride 1) whose kernel is multiplied by `causal_mask`.

    Attributes:
      features: the output channels.
      kernel_size: `(kh, kw)`.
      mask_type: "A" (excludes the centre pixel) or "B" (includes it).
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    kernel_size: tuple[int, int]
    mask_type: str = "B"
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        """Convolves `x: (B, H, W, C_in)` into `(B, H, W, features)`."""
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (*self.kernel_size, x.shape[-1], self.features), self.param_dtype)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), self.param_dtype)
        kernel = kernel * causal_mask(tuple(self.kernel_size), self.mask_type)
        y = jax_conv(x.astype(self.dtype), kernel.astype(self.dtype), "SAME")
        return y + bias.astype(self.dtype).reshape(1, 1, 1, -1)


def jax_conv(x, kernel, padding):
    """NHWC x HWIO convolution, stride 1."""
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _logits(x, channels: int, levels: int, hidden: int, dtype, param_dtype):
    """ReLU, 1x1 conv, ReLU, 1x1 conv to `(B, H, W, channels, levels)`."""
    x = nn.Conv(hidden, (1, 1), dtype=dtype, param_dtype=param_dtype, name="out0")(nn.relu(x))
    x = nn.Conv(channels * levels, (1, 1), dtype=dtype, param_dtype=param_dtype, name="out1")(nn.relu(x))
    return x.reshape(*x.shape[:3], channels, levels).astype(jnp.float32)


class PixelCNN(nn.Module):
    """A type-A `first_kernel` masked conv, `layers` residual type-B 3x3 masked convs, two 1x1 convs.

    Attributes:
      levels: the number of intensities per pixel and channel.
      features: the hidden width.
      layers: the number of residual type-B layers.
      first_kernel: the first (type-A) conv's kernel size.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    levels: int = 2
    features: int = 64
    layers: int = 5
    first_kernel: int = 7
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Returns `(B, H, W, C, levels)` float32 logits for `x: (B, H, W, C)` images in [0, 1]; `train` is unused."""
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        h = MaskedConv(self.features, (self.first_kernel,) * 2, "A", name="conv_a", **kw)(x)
        for i in range(self.layers):
            h = h + MaskedConv(self.features, (3, 3), "B", name=f"conv_b{i}", **kw)(nn.relu(h))
        return _logits(h, x.shape[-1], self.levels, self.features, **kw)


def _shift_down(x):
    """Row `i` of the output is row `i - 1` of `x` (zeros in row 0)."""
    return jnp.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


def _gate(x):
    a, b = jnp.split(x, 2, axis=-1)
    return jnp.tanh(a) * nn.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer of the vertical and horizontal stacks: `(v, h) -> (v', h')`.

    The vertical conv covers the `k // 2 + 1` rows up to the current one, full width `k`; the
    horizontal conv covers the current row from
    `k // 2` to the left up to the current pixel (`first`: up to the pixel before it). The
    horizontal stack receives the vertical one shifted down a row, so it never sees its own row
    through it.

    Attributes:
      features: the width of both stacks' outputs.
      kernel: the kernel size `k`.
      first: the first layer (type A; no residual connection on the horizontal stack).
      dropout: the dropout rate on the gated horizontal activations while training.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    kernel: int = 3
    first: bool = False
    dropout: float = 0.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, v, h, train: bool = False):
        """Advances both stacks.

        Args:
          v: `(B, H, W, C_v)` vertical stack.
          h: `(B, H, W, C_h)` horizontal stack.
          train: apply dropout.

        Returns:
          `(v', h')`, each `(B, H, W, features)`.
        """
        k, f = self.kernel, self.features
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        v_kernel = self.param("v_kernel", nn.initializers.lecun_normal(), (k // 2 + 1, k, v.shape[-1], 2 * f),
                              self.param_dtype)
        v_pre = jax_conv(v.astype(self.dtype), v_kernel.astype(self.dtype), ((k // 2, 0), (k // 2, k // 2)))
        h_kernel = self.param("h_kernel", nn.initializers.lecun_normal(), (1, k // 2 + 1, h.shape[-1], 2 * f),
                              self.param_dtype)
        if self.first:  # see up to the pixel before the current one: widen the left pad by one, drop the last column
            h_pre = jax_conv(h.astype(self.dtype), h_kernel.astype(self.dtype), ((0, 0), (k // 2 + 1, 0)))[:, :, :-1]
        else:
            h_pre = jax_conv(h.astype(self.dtype), h_kernel.astype(self.dtype), ((0, 0), (k // 2, 0)))
        h_pre = h_pre + nn.Conv(2 * f, (1, 1), name="v_to_h", **kw)(_shift_down(v_pre))
        v_bias = self.param("v_bias", nn.initializers.zeros, (2 * f,), self.param_dtype)
        v_out = _gate(v_pre + v_bias.reshape(1, 1, 1, -1))
        gated = nn.Dropout(self.dropout, deterministic=not train)(_gate(h_pre))
        h_out = nn.Conv(f, (1, 1), name="h_out", **kw)(gated)
        return v_out, h_out if self.first else h + h_out


class GatedPixelCNN(nn.Module):
    """Gated PixelCNN: `layers` gated layers, then two 1x1 convs on the horizontal stack.

    The first layer has a `first_kernel` kernel, type A. With enough layers every output pixel
    depends on exactly the pixels before it in raster order.

    Attributes:
      levels: the number of intensities per pixel and channel.
      features: the hidden width.
      layers: the number of gated layers.
      first_kernel: the first layer's kernel size.
      dropout: the dropout rate on the gated horizontal activations while training.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    levels: int = 2
    features: int = 64
    layers: int = 6
    first_kernel: int = 7
    dropout: float = 0.0          # on the gated horizontal activations while training
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Returns `(B, H, W, C, levels)` float32 logits for `x: (B, H, W, C)` images in [0, 1].

        Args:
          x: `(B, H, W, C)` images in [0, 1].
          train: apply dropout.
        """
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        v, h = x, x
        for i in range(self.layers):
            v, h = GatedLayer(self.features, self.first_kernel if i == 0 else 3, first=i == 0, dropout=self.dropout,
                              name=f"gated{i}", **kw)(v, h, train)
        return _logits(h, x.shape[-1], self.levels, self.features, **kw)
