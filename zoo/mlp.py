"""Multi-layer perceptron classifier."""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp


class MLP(nn.Module):
    """Fully connected network: flatten, `len(features)` hidden layers, linear head.

    Input `(batch, ...)`, any trailing shape; output logits `(batch, num_classes)`.
    Hidden layers are named `dense{i}`, the head `head`.

    Attributes:
      num_classes: the number of logits.
      features: the hidden widths.
      act: the activation.
      dropout: the dropout rate after each hidden layer, applied when `train`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    features: Sequence[int] = (256, 256)
    act: Callable = nn.relu
    dropout: float = 0.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Returns `(batch, num_classes)` logits for `x: (batch, ...)`; `train` applies dropout."""
        x = x.reshape((x.shape[0], -1)).astype(self.dtype)
        for i, width in enumerate(self.features):
            x = nn.Dense(width, dtype=self.dtype, param_dtype=self.param_dtype, name=f"dense{i}")(x)
            x = self.act(x)
            x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(x)
