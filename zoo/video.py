"""Frame-level video classification (many-to-many): a CNN per frame, optionally a recurrent layer, a label per frame.

`FrameLabeller(video: (B, T, H, W, C)) -> logits (B, T, classes)`. The frame encoder runs on all
`B * T` frames at once (the time axis folded into the batch, one convolution call, no Python loop
over frames). With `cell=None` each frame is labelled from its own pixels (the CNN alone);
with `cell="gru"` / `"lstm"` a (bidirectional by default) `zoo.rnn.RecurrentStack` reads the
sequence of frame features first, so a frame that is occluded or noised can be labelled from its
neighbours (Donahue et al. 2015, "Long-term recurrent convolutional networks").
"""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from zoo.rnn import RecurrentStack


class FrameEncoder(nn.Module):
    """Encodes frames `(N, H, W, C) -> (N, hidden)`: conv stages, global max pooling, a dense layer.

    3x3 conv stages (`conv{s}`, ReLU, 2x max pool), global max pooling (a small object anywhere in
    the frame: averaging would dilute it) and a dense layer.

    Attributes:
      features: the width of each conv stage.
      hidden: the output width.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: Sequence[int] = (32, 64)
    hidden: int = 128
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        """Encodes `x: (N, H, W, C)` frames into `(N, hidden)` features."""
        x = x.astype(self.dtype)
        for s, width in enumerate(self.features):
            x = self.act(nn.Conv(width, (3, 3), dtype=self.dtype, param_dtype=self.param_dtype, name=f"conv{s}")(x))
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = x.max(axis=(1, 2))
        return self.act(nn.Dense(self.hidden, dtype=self.dtype, param_dtype=self.param_dtype, name="dense")(x))


class FrameLabeller(nn.Module):
    """A label per frame; see the module docstring.

    Attributes:
      num_classes: the number of classes.
      features: the frame encoder's conv widths.
      hidden: the frame features' and recurrent layer's width.
      cell: None (CNN alone), "gru", "lstm" or "rnn".
      bidirectional: make the recurrent layer bidirectional.
      act: the frame encoder's activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    features: Sequence[int] = (32, 64)
    hidden: int = 128
    cell: str | None = "gru"
    bidirectional: bool = True
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, video):
        """Labels every frame.

        Args:
          video: `(B, T, H, W, C)` frames.

        Returns:
          `(B, T, num_classes)` logits.

        Raises:
          ValueError: if `video` is not 5-D.
        """
        if video.ndim != 5:
            raise ValueError(f"FrameLabeller expects video (batch, time, H, W, channels); got shape {video.shape}")
        b, t = video.shape[:2]
        frames = video.reshape(b * t, *video.shape[2:])
        x = FrameEncoder(tuple(self.features), self.hidden, self.act, self.dtype, self.param_dtype,
                         name="encoder")(frames).reshape(b, t, self.hidden)
        if self.cell is not None:
            _, x = RecurrentStack(self.cell, self.hidden, bidirectional=self.bidirectional, dtype=self.dtype,
                                  param_dtype=self.param_dtype, name="recurrent")(x)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(x)
