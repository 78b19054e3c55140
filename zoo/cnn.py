"""Small convolutional classifier for 1-d signals and 2-d images."""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp


class CNN(nn.Module):
    """Conv stages, global average pooling, a dense layer and a linear head.

    Works on signals `(batch, length, channels)` and images `(batch, H, W, channels)`:
    the number of spatial dimensions is `len(kernel_size)`. Stage `s` applies
    `convs_per_stage` convolutions of `features[s]` channels (named `conv{s}_{j}`), each
    followed by optional BatchNorm (`norm=True`, then `train` selects batch statistics)
    and `act`; every stage but the last ends in a 2x max pool. Output logits
    `(batch, num_classes)`.

    Attributes:
      num_classes: the number of logits.
      features: the channels of each stage.
      kernel_size: the kernel shape; its length sets the number of spatial dimensions.
      convs_per_stage: the number of convolutions in each stage.
      hidden: the dense layer's width.
      norm: add BatchNorm after each convolution.
      dropout: the dropout rate after the dense layer, applied when `train`.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    features: Sequence[int] = (32, 64)
    kernel_size: Sequence[int] = (3, 3)
    convs_per_stage: int = 2
    hidden: int = 128
    norm: bool = False
    dropout: float = 0.0
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Classifies signals or images.

        Args:
          x: `(batch, length, channels)` signals or `(batch, H, W, channels)` images, of rank
            `len(kernel_size) + 2`.
          train: use batch statistics (updating `batch_stats`) and apply dropout.

        Returns:
          `(batch, num_classes)` logits.

        Raises:
          ValueError: if the rank of `x` does not match `kernel_size`.
        """
        spatial = len(self.kernel_size)
        if x.ndim != spatial + 2:
            raise ValueError(
                f"CNN with kernel_size {tuple(self.kernel_size)} expects inputs of rank {spatial + 2} "
                f"(batch, {'length' if spatial == 1 else 'H, W'}, channels); got shape {x.shape}"
            )
        x = x.astype(self.dtype)
        for s, width in enumerate(self.features):
            for j in range(self.convs_per_stage):
                x = nn.Conv(width, tuple(self.kernel_size), use_bias=not self.norm, dtype=self.dtype,
                            param_dtype=self.param_dtype, name=f"conv{s}_{j}")(x)
                if self.norm:
                    x = nn.BatchNorm(use_running_average=not train, dtype=self.dtype,
                                     param_dtype=self.param_dtype, name=f"bn{s}_{j}")(x)
                x = self.act(x)
            if s < len(self.features) - 1:
                x = nn.max_pool(x, (2,) * spatial, strides=(2,) * spatial)
        x = x.mean(axis=tuple(range(1, spatial + 1)))
        x = self.act(nn.Dense(self.hidden, dtype=self.dtype, param_dtype=self.param_dtype, name="dense")(x))
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(x)
