"""DCGAN generator and discriminator for small images (Radford et al. 2016), optionally class-conditional.

The generator gets the label as a one-hot vector joined to the noise (Mirza &
Osindero 2014); the discriminator adds the inner product of a learned class embedding with its
features to the logit (the projection discriminator, Miyato & Koyama 2018). A one-hot label
joined to the features before the linear output would only add a per-class bias that cannot
depend on the image, and the generator would learn to ignore its label.

Shapes: `Generator(z: (B, latent), labels: (B,) | None) -> images (B, H, W, C)` in [0, 1]
(sigmoid); `Discriminator(x: (B, H, W, C), labels) -> logits (B,)`. H and W divisible by 4.
The generator uses BatchNorm (`batch_stats` collection, `train` selects batch statistics);
the discriminator has none, so the WGAN-GP penalty's per-example gradients stay per example.
"""

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp


class Generator(nn.Module):
    """DCGAN generator: noise (and optionally a one-hot label) to images in [0, 1].

    A dense layer to `(H/4, W/4, 2 features)`, then two stride-2 transposed convs, with BatchNorm.

    Attributes:
      shape: `(H, W, C)` of the images, H and W divisible by 4.
      features: the base width.
      num_classes: > 0 makes the generator class-conditional.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    shape: tuple[int, int, int]
    features: int = 64
    num_classes: int = 0          # > 0: class-conditional
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, z, labels=None, train: bool = True):
        """Generates images.

        Args:
          z: `(B, latent)` noise.
          labels: `(B,)` int labels when `num_classes > 0`, else None.
          train: use batch statistics (updating `batch_stats`).

        Returns:
          `(B, H, W, C)` float32 images in [0, 1].
        """
        h, w, c = self.shape
        if self.num_classes:
            z = jnp.concatenate([z, jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)], axis=-1)
        norm = lambda name: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype,
                                         param_dtype=self.param_dtype, name=name)
        x = nn.Dense(h // 4 * w // 4 * 2 * self.features, use_bias=False, dtype=self.dtype,
                     param_dtype=self.param_dtype, name="dense")(z.astype(self.dtype))
        x = self.act(norm("bn0")(x)).reshape(z.shape[0], h // 4, w // 4, 2 * self.features)
        x = nn.ConvTranspose(self.features, (4, 4), strides=(2, 2), use_bias=False, dtype=self.dtype,
                             param_dtype=self.param_dtype, name="deconv0")(x)
        x = self.act(norm("bn1")(x))
        x = nn.ConvTranspose(c, (4, 4), strides=(2, 2), dtype=self.dtype, param_dtype=self.param_dtype,
                             name="deconv1")(x)
        return nn.sigmoid(x.astype(jnp.float32))


class Discriminator(nn.Module):
    """DCGAN discriminator, with a projection term for the label when class-conditional.

    Attributes:
      features: the base width.
      num_classes: > 0 makes the discriminator class-conditional (projection discriminator).
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int = 64
    num_classes: int = 0
    act: Callable = nn.leaky_relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, labels=None):
        """Scores images as real or generated.

        Args:
          x: `(B, H, W, C)` images.
          labels: `(B,)` int labels when `num_classes > 0`, else None.

        Returns:
          `(B,)` float32 logits.
        """
        x = x.astype(self.dtype)
        for i, width in enumerate((self.features, 2 * self.features)):
            x = self.act(nn.Conv(width, (4, 4), strides=2, dtype=self.dtype, param_dtype=self.param_dtype,
                                 name=f"conv{i}")(x))
        x = x.reshape(x.shape[0], -1)
        logit = nn.Dense(1, dtype=self.dtype, param_dtype=self.param_dtype, name="out")(x)[:, 0]
        if self.num_classes:
            embedding = nn.Embed(self.num_classes, x.shape[-1], dtype=self.dtype, param_dtype=self.param_dtype,
                                 name="class_projection")(labels)
            logit = logit + jnp.sum(embedding * x, axis=-1)
        return logit.astype(jnp.float32)
