"""LeNet-5-style convolutional classifier (LeCun et al. 1998), in the Caffe variant.

This is the variant that Deep Compression (Han et al. 2016, Table 1: 431K weights) starts from:
two valid 5x5 convolutions (20 and 50 channels) each followed by a 2x2 max pool, a 500-unit
dense layer and a linear head.
With `padding="SAME"`, `act_last=True`, `features=(32, 64)` and `hidden=1024` it is the MNIST
network of Madry et al. 2018 (the `MadryLab/mnist_challenge` model).
"""

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class LeNet5(nn.Module):
    """LeNet-5: two convolutions with max pools, a dense layer and a linear head.

    Layers are named `conv0`, `conv1`, `dense`, `head`. `features` and `hidden` set the widths, so
    smaller variants keep the same shape.

    Attributes:
      num_classes: the number of logits.
      features: the channels of the two convolutions.
      kernel_size: the convolutions' kernel side.
      hidden: the dense width.
      padding: the convolutions' padding (`"VALID"` as in Caffe, or `"SAME"`).
      act_last: add the activation after the last pool, which Caffe's LeNet leaves out.
      act: the activation.
      dropout: the dropout rate after the dense layer, applied when `train`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    features: Sequence[int] = (20, 50)
    kernel_size: int = 5
    hidden: int = 500
    padding: str = "VALID"
    act_last: bool = False
    act: Callable = nn.relu
    dropout: float = 0.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Classifies images.

        Args:
          x: `(batch, H, W, C)` images (28x28x1 for MNIST).
          train: apply dropout.

        Returns:
          `(batch, num_classes)` logits.

        Raises:
          ValueError: if `x` is not 4-D.
        """
        if x.ndim != 4:
            raise ValueError(f"LeNet5 expects images (batch, H, W, channels); got shape {x.shape}")
        x = x.astype(self.dtype)
        for i, width in enumerate(self.features):
            x = nn.Conv(width, (self.kernel_size, self.kernel_size), padding=self.padding, dtype=self.dtype,
                        param_dtype=self.param_dtype, name=f"conv{i}")(x)
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
            if i < len(self.features) - 1 or self.act_last:
                x = self.act(x)  # Caffe's LeNet has no non-linearity after the last pool
        x = x.reshape((x.shape[0], -1))
        x = self.act(nn.Dense(self.hidden, dtype=self.dtype, param_dtype=self.param_dtype, name="dense")(x))
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(x)
