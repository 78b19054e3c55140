"""CIFAR-style residual networks (He et al. 2016, "Deep Residual Learning", section 4.2)."""

from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp


class ResNetBlock(nn.Module):
    """Basic block: two 3x3 convs with BatchNorm; 1x1 projection shortcut when the shape changes.

    Input `(batch, H, W, C)`; output `(batch, H / strides, W / strides, features)`.

    Attributes:
      features: the output channels.
      strides: the first conv's (and the shortcut's) stride.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    strides: int = 1
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Applies the block to `x: (batch, H, W, C)`; `train` uses batch statistics (updating `batch_stats`).

        Returns:
          `(batch, H / strides, W / strides, features)`.
        """
        conv = lambda f, k, s, name: nn.Conv(f, (k, k), (s, s), padding="SAME", use_bias=False,
                                             dtype=self.dtype, param_dtype=self.param_dtype, name=name)
        norm = lambda name, **kw: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype,
                                               param_dtype=self.param_dtype, name=name, **kw)
        y = self.act(norm("bn1")(conv(self.features, 3, self.strides, "conv1")(x)))
        # Zero-init the last BatchNorm scale so each block starts as the identity (Goyal et al. 2017).
        y = norm("bn2", scale_init=nn.initializers.zeros)(conv(self.features, 3, 1, "conv2")(y))
        if x.shape[-1] != self.features or self.strides != 1:
            x = norm("proj_bn")(conv(self.features, 1, self.strides, "proj")(x))
        return self.act(x + y)


class ResNet(nn.Module):
    """ResNet for 32x32 images, of depth `6 * blocks_per_stage + 2`.

    A 3x3 stem, three stages of `blocks_per_stage` blocks of `width`, `2 * width`, `4 * width`
    channels (stride 2 between stages), global average pooling and a linear head. Stages are named
    `stage{s}_block{b}` so interpretation methods can reach them.

    Attributes:
      num_classes: the number of logits.
      blocks_per_stage: the number of blocks in each stage.
      width: the first stage's channels.
      remat: recompute each block's activations in the backward pass (`jax.checkpoint`).
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    blocks_per_stage: int = 3
    width: int = 16
    remat: bool = False   # recompute each block's activations in the backward pass (jax.checkpoint)
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Classifies images.

        Args:
          x: `(batch, H, W, C)` images in [0, 1].
          train: use batch statistics (updating `batch_stats`).

        Returns:
          `(batch, num_classes)` logits.

        Raises:
          ValueError: if `x` is not 4-D.
        """
        if x.ndim != 4:
            raise ValueError(f"ResNet expects images (batch, H, W, C); got shape {x.shape}")
        x = nn.Conv(self.width, (3, 3), padding="SAME", use_bias=False, dtype=self.dtype,
                    param_dtype=self.param_dtype, name="stem")(x.astype(self.dtype))
        x = self.act(nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype,
                                  param_dtype=self.param_dtype, name="stem_bn")(x))
        # nn.remat wraps each block in jax.checkpoint (`train` is static); parameter names are unchanged.
        block = nn.remat(ResNetBlock, static_argnums=(2,)) if self.remat else ResNetBlock
        for s in range(3):
            for b in range(self.blocks_per_stage):
                strides = 2 if s > 0 and b == 0 else 1
                x = block(self.width * 2**s, strides, self.act, self.dtype, self.param_dtype,
                          name=f"stage{s}_block{b}")(x, train)
        x = x.mean(axis=(1, 2))
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(x)


def resnet_cifar(depth: int = 20, **kwargs) -> ResNet:
    """Builds ResNet-`depth` as in the paper's CIFAR-10 table: depth must be 6n + 2 (20, 32, 44, 56, 110).

    Args:
      depth: the number of layers, 6n + 2 with n >= 1.
      **kwargs: other `ResNet` fields.

    Raises:
      ValueError: if `depth` is not 6n + 2 with n >= 1.
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110); got {depth}")
    return ResNet(blocks_per_stage=(depth - 2) // 6, **kwargs)
