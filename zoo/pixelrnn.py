"""PixelRNN with Row LSTM layers (van den Oord et al. 2016a, section 3.1) for images `(B, H, W, C)` in [0, 1].

It returns logits `(B, H, W, C, levels)` like `zoo.pixelcnn`.

A type-A masked `first_kernel` convolution, then Row LSTM layers: the input-to-state part is
a type-B masked `1 x 3` convolution computed for all rows at once; the state-to-state part is a
`1 x 3` convolution of the previous row's hidden state, and `nn.scan` runs the rows in order.
Each output pixel sees the pixels to its left and a triangle of rows above (not the whole
context: that is the Diagonal BiLSTM's improvement); it never sees itself or later pixels.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from zoo.pixelcnn import MaskedConv, _logits


class RowLSTM(nn.Module):
    """Row LSTM layer: rows processed top to bottom, with a residual 1x1 projection added to the input.

    Attributes:
      hidden: the LSTM's hidden size.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    hidden: int
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        """Runs the Row LSTM over `x: (B, H, W, F)`.

        Returns:
          `(B, H, W, F)`: `x` plus a 1x1 projection of the `(B, H, W, hidden)` hidden states back to
          `F` channels.
        """
        b, _, w, f = x.shape
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        input_to_state = MaskedConv(4 * self.hidden, (1, 3), "B", name="input_to_state", **kw)(x)
        # The width-3 convolution over the previous row, as one matmul of [left, centre, right]
        # neighbours (much faster than a 1-d conv inside a scan on CPU).
        state_to_state = nn.Dense(4 * self.hidden, use_bias=False, name="state_to_state", **kw)

        def neighbours(h):
            padded = jnp.pad(h, ((0, 0), (1, 1), (0, 0)))
            return jnp.concatenate([padded[:, :-2], h, padded[:, 2:]], axis=-1)

        def row(carry, gates_in):
            h, c = carry
            i, g, fgt, o = jnp.split(gates_in + state_to_state(neighbours(h)), 4, axis=-1)
            c = nn.sigmoid(fgt + 1.0) * c + nn.sigmoid(i) * jnp.tanh(g)
            h = nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h

        zeros = jnp.zeros((b, w, self.hidden), self.dtype)
        scan = nn.scan(lambda module, carry, xs: row(carry, xs), variable_broadcast="params",
                       split_rngs={"params": False}, in_axes=1, out_axes=1)
        _, hs = scan(self, (zeros, zeros), input_to_state.astype(self.dtype))
        return x + nn.Conv(f, (1, 1), name="proj", **kw)(hs)


class PixelRNN(nn.Module):
    """PixelRNN: a type-A masked conv, `layers` Row LSTM layers, two 1x1 convs to logits.

    Attributes:
      levels: the number of intensities per pixel and channel.
      features: the width of the first conv and of the output layers.
      hidden: the Row LSTMs' hidden size.
      layers: the number of Row LSTM layers.
      first_kernel: the first (type-A) conv's kernel size.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    levels: int = 2
    features: int = 32
    hidden: int = 32
    layers: int = 2
    first_kernel: int = 7
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Returns `(B, H, W, C, levels)` float32 logits for `x: (B, H, W, C)` images in [0, 1]; `train` is unused."""
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        h = MaskedConv(self.features, (self.first_kernel,) * 2, "A", name="conv_a", **kw)(x)
        for i in range(self.layers):
            h = RowLSTM(self.hidden, name=f"row_lstm{i}", **kw)(h)
        return _logits(h, x.shape[-1], self.levels, self.features, **kw)
