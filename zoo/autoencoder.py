"""Convolutional autoencoder and the variational autoencoder (Kingma & Welling 2014).

Both work on small images `(batch, H, W, C)` with H and W divisible by 4: two stride-2
convolutions down to `(H/4, W/4, 2 * features)`, a dense code, and the mirror image up with
transposed convolutions. The decoder returns per-pixel logits (Bernoulli likelihood of binary
images, or sigmoid means).
"""

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp


class ConvEncoder(nn.Module):
    """Maps `(batch, H, W, C)` to `(batch, outputs)` through two stride-2 convs and a dense layer.

    Attributes:
      outputs: the output width.
      features: the first conv's width (the second has `2 * features`).
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    outputs: int
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        """Encodes `x: (batch, H, W, C)` images into `(batch, outputs)`."""
        x = x.astype(self.dtype)
        for i, width in enumerate((self.features, 2 * self.features)):
            x = self.act(nn.Conv(width, (3, 3), strides=2, dtype=self.dtype, param_dtype=self.param_dtype,
                                 name=f"conv{i}")(x))
        x = x.reshape(x.shape[0], -1)
        return nn.Dense(self.outputs, dtype=self.dtype, param_dtype=self.param_dtype, name="out")(x)


class ConvDecoder(nn.Module):
    """Maps `(batch, code)` to logits `(batch, *shape)`, mirroring `ConvEncoder`.

    Dense to `(H/4, W/4, 2 features)`, two stride-2 transposed convs, a 3x3 conv to `shape[-1]`
    channels.

    Attributes:
      shape: `(H, W, C)` of the output, H and W divisible by 4.
      features: the last transposed conv's width (the first has `2 * features`).
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    shape: tuple[int, int, int]
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, z):
        """Decodes codes into per-pixel logits.

        Args:
          z: `(batch, code)` codes.

        Returns:
          `(batch, H, W, C)` logits.

        Raises:
          ValueError: if H or W is not divisible by 4.
        """
        h, w, c = self.shape
        if h % 4 or w % 4:
            raise ValueError(f"image height and width must be divisible by 4; got {self.shape}")
        x = self.act(nn.Dense(h // 4 * w // 4 * 2 * self.features, dtype=self.dtype, param_dtype=self.param_dtype,
                              name="dense")(z.astype(self.dtype)))
        x = x.reshape(z.shape[0], h // 4, w // 4, 2 * self.features)
        for i, width in enumerate((2 * self.features, self.features)):
            x = self.act(nn.ConvTranspose(width, (3, 3), strides=(2, 2), dtype=self.dtype,
                                          param_dtype=self.param_dtype, name=f"deconv{i}")(x))
        return nn.Conv(c, (3, 3), dtype=self.dtype, param_dtype=self.param_dtype, name="out")(x)


class Autoencoder(nn.Module):
    """Deterministic autoencoder: `__call__(x) -> (logits, code)`; `encode`, `decode`.

    Attributes:
      shape: `(H, W, C)` of the images, H and W divisible by 4.
      code: the code size.
      features: the encoder's and decoder's base width.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    shape: tuple[int, int, int]
    code: int = 16
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self):
        """Builds the encoder and the decoder."""
        kw = dict(features=self.features, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype)
        self.encoder = ConvEncoder(self.code, **kw)
        self.decoder = ConvDecoder(tuple(self.shape), **kw)

    def encode(self, x):
        """Encodes `x: (batch, H, W, C)` images into `(batch, code)` codes."""
        return self.encoder(x)

    def decode(self, z):
        """Decodes `z: (batch, code)` codes into `(batch, H, W, C)` logits."""
        return self.decoder(z)

    def __call__(self, x):
        """Reconstructs `x: (batch, H, W, C)`.

        Returns:
          `(logits, code)`: `(batch, H, W, C)` logits and the `(batch, code)` code.
        """
        code = self.encode(x)
        return self.decode(code), code


class VAE(nn.Module):
    """Variational autoencoder (Kingma & Welling 2014) with a Gaussian posterior and decoder logits.

    Posterior `q(z|x) = N(mu, diag(exp(logvar)))`, standard normal prior.
    `__call__(x, rng) -> (logits, mu, logvar)` samples `z = mu + sigma * eps`
    (reparameterization); `encode(x) -> (mu, logvar)`, `decode(z) -> logits`.

    Attributes:
      shape: `(H, W, C)` of the images, H and W divisible by 4.
      latent: the latent size.
      features: the encoder's and decoder's base width.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    shape: tuple[int, int, int]
    latent: int = 8
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self):
        """Builds the encoder and the decoder."""
        kw = dict(features=self.features, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype)
        self.encoder = ConvEncoder(2 * self.latent, **kw)
        self.decoder = ConvDecoder(tuple(self.shape), **kw)

    def encode(self, x):
        """Returns the posterior `(mu, logvar)`, each `(batch, latent)` float32, of `x: (batch, H, W, C)`."""
        stats = self.encoder(x).astype(jnp.float32)
        return stats[:, :self.latent], stats[:, self.latent:]

    def decode(self, z):
        """Decodes `z: (batch, latent)` into `(batch, H, W, C)` logits."""
        return self.decoder(z)

    def __call__(self, x, rng):
        """Encodes `x`, samples `z` with the reparameterization trick and decodes it.

        Args:
          x: `(batch, H, W, C)` images.
          rng: a PRNG key for the sample.

        Returns:
          `(logits, mu, logvar)`: `(batch, H, W, C)` logits and the `(batch, latent)` posterior.
        """
        mu, logvar = self.encode(x)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(rng, mu.shape)
        return self.decode(z), mu, logvar
