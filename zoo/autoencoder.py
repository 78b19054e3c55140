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
    """`(batch, H, W, C)` -> `(batch, outputs)` through two stride-2 convs and a dense layer."""

    outputs: int
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        x = x.astype(self.dtype)
        for i, width in enumerate((self.features, 2 * self.features)):
            x = self.act(nn.Conv(width, (3, 3), strides=2, dtype=self.dtype, param_dtype=self.param_dtype,
                                 name=f"conv{i}")(x))
        x = x.reshape(x.shape[0], -1)
        return nn.Dense(self.outputs, dtype=self.dtype, param_dtype=self.param_dtype, name="out")(x)


class ConvDecoder(nn.Module):
    """`(batch, code)` -> logits `(batch, *shape)`: dense to `(H/4, W/4, 2 features)`, two stride-2
    transposed convs, a 3x3 conv to `shape[-1]` channels.
    """

    shape: tuple[int, int, int]
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, z):
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
    """Deterministic autoencoder: `__call__(x) -> (logits, code)`; `encode`, `decode`."""

    shape: tuple[int, int, int]
    code: int = 16
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self):
        kw = dict(features=self.features, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype)
        self.encoder = ConvEncoder(self.code, **kw)
        self.decoder = ConvDecoder(tuple(self.shape), **kw)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def __call__(self, x):
        code = self.encode(x)
        return self.decode(code), code


class VAE(nn.Module):
    """Gaussian posterior `q(z|x) = N(mu, diag(exp(logvar)))`, standard normal prior, decoder
    logits. `__call__(x, rng) -> (logits, mu, logvar)` samples `z = mu + sigma * eps`
    (reparameterization); `encode(x) -> (mu, logvar)`, `decode(z) -> logits`.
    """

    shape: tuple[int, int, int]
    latent: int = 8
    features: int = 32
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self):
        kw = dict(features=self.features, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype)
        self.encoder = ConvEncoder(2 * self.latent, **kw)
        self.decoder = ConvDecoder(tuple(self.shape), **kw)

    def encode(self, x):
        stats = self.encoder(x).astype(jnp.float32)
        return stats[:, :self.latent], stats[:, self.latent:]

    def decode(self, z):
        return self.decoder(z)

    def __call__(self, x, rng):
        mu, logvar = self.encode(x)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(rng, mu.shape)
        return self.decode(z), mu, logvar
