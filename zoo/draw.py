"""DRAW (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image Generation").

A recurrent VAE that builds an image on a canvas over `steps` steps, reading and writing through
differentiable Gaussian attention.

At step t, with `c` the canvas, `x_hat = x - sigmoid(c)` the error image and `h_dec` the previous
decoder state:

    r = read(x, x_hat, h_dec)                     # N x N glimpses of x and x_hat (attention)
    h_enc = LSTM_enc(h_enc, [r, h_dec])
    z ~ Q(z | h_enc) = N(mu, sigma)               # mu, log sigma linear in h_enc
    h_dec = LSTM_dec(h_dec, z)
    c = c + write(h_dec)                           # an N x N patch placed by attention

`read`/`write` use separable filterbanks `F_y (N, H)`, `F_x (N, W)` of Gaussians whose centre grid
(`g_y, g_x`), stride `delta`, variance `sigma^2` and intensity `gamma` are linear in `h_dec`
(section 3.2): `read = gamma [F_y x F_x^T, F_y x_hat F_x^T]`, `write = F_y^T w F_x / gamma`. With
`attention=False` the read is the whole `[x, x_hat]` and the write a dense layer (section 3.1).
The loss is the negative variational bound in nats: `-log p(x | sigmoid(c_T)) + sum_t KL(Q_t || N(0, I))`.
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.rnn import LSTMCell


def filterbank(centre, delta, variance, n: int, size: int):
    """Returns `(B, n, size)` rows of normalized Gaussians, filter `i` centred at `centre + (i - n/2 + 1/2) delta`.

    Args:
      centre: `(B,)` centre of the grid, in pixel units.
      delta: `(B,)` stride between filters, in pixel units.
      variance: `(B,)` variance of every filter.
      n: the number of filters.
      size: the image's extent along this axis.
    """
    mu = centre[:, None] + (jnp.arange(n) - n / 2 + 0.5)[None, :] * delta[:, None]      # (B, n)
    f = jnp.exp(-((jnp.arange(size)[None, None, :] - mu[..., None]) ** 2) / (2 * variance[:, None, None]))
    return f / jnp.maximum(f.sum(-1, keepdims=True), 1e-8)


class _Attention(nn.Module):
    """Maps `h` to `(F_y (B, n, H), F_x (B, n, W), gamma (B,))` through one linear layer (section 3.2).

    The filterbanks are computed in float32 and returned in `dtype`, gamma in float32.
    """

    n: int
    height: int
    width: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, h):
        gy, gx, log_var, log_delta, log_gamma = jnp.split(
            nn.Dense(5, dtype=self.dtype, param_dtype=self.param_dtype)(h).astype(jnp.float32), 5, axis=-1)
        centre_y = (self.height - 1) / 2 * (gy[:, 0] + 1)
        centre_x = (self.width - 1) / 2 * (gx[:, 0] + 1)
        delta = (max(self.height, self.width) - 1) / max(self.n - 1, 1) * jnp.exp(log_delta[:, 0])
        variance = jnp.exp(log_var[:, 0])
        return (filterbank(centre_y, delta, variance, self.n, self.height).astype(self.dtype),
                filterbank(centre_x, delta, variance, self.n, self.width).astype(self.dtype), jnp.exp(log_gamma[:, 0]))


class _DrawStep(nn.Module):
    """One read-encode-sample-decode-write step.

    `generate` (a scalar bool) ignores the encoder's posterior and uses `eps` as `z` (sampling from
    the prior).
    """

    height: int
    width: int
    read_n: int
    write_n: int
    encoder_features: int
    decoder_features: int
    latent: int
    attention: bool
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, state, eps, x, generate):
        canvas, enc, dec = state  # the canvas accumulates in float32, the LSTM states in `dtype`
        h_dec = dec[1]
        x_hat = x - jax.nn.sigmoid(canvas)
        kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        if self.attention:
            fy, fx, gamma = _Attention(self.read_n, self.height, self.width, **kw, name="read")(h_dec)
            glimpse = lambda image: jnp.einsum("bnh,bhw,bmw->bnm", fy, image.astype(self.dtype), fx) \
                * gamma[:, None, None].astype(self.dtype)
            r = jnp.concatenate([glimpse(x), glimpse(x_hat)], -1).reshape(x.shape[0], -1)
        else:
            r = jnp.concatenate([x, x_hat], -1).reshape(x.shape[0], -1).astype(self.dtype)
        enc, h_enc = LSTMCell(self.encoder_features, **kw, name="encoder")(enc, jnp.concatenate([r, h_dec], -1))
        mu = nn.Dense(self.latent, **kw, name="mu")(h_enc).astype(jnp.float32)
        log_sigma = nn.Dense(self.latent, **kw, name="log_sigma")(h_enc).astype(jnp.float32)
        z = jnp.where(generate, eps, mu + jnp.exp(log_sigma) * eps)
        kl = 0.5 * jnp.sum(mu ** 2 + jnp.exp(2 * log_sigma) - 1 - 2 * log_sigma, -1)
        dec, h_dec = LSTMCell(self.decoder_features, **kw, name="decoder")(dec, z.astype(self.dtype))
        if self.attention:
            fy, fx, gamma = _Attention(self.write_n, self.height, self.width, **kw, name="write")(h_dec)
            w = nn.Dense(self.write_n ** 2, **kw, name="write_patch")(h_dec)
            update = jnp.einsum("bnh,bnm,bmw->bhw", fy, w.reshape(-1, self.write_n, self.write_n), fx)
            update = update.astype(jnp.float32) / gamma[:, None, None]
        else:
            update = nn.Dense(self.height * self.width, **kw, name="write_patch")(h_dec).reshape(
                -1, self.height, self.width)
        canvas = canvas + update.astype(jnp.float32)
        same = lambda new, old: jax.tree.map(lambda n, o: n.astype(o.dtype), new, old)
        return (canvas, same(enc, state[1]), same(dec, state[2])), (canvas, kl)


class DRAW(nn.Module):
    """DRAW: a recurrent VAE drawing on a canvas with Gaussian attention; see the module docstring.

    Attributes:
      shape: `(H, W, 1)` images (one channel, values in [0, 1]).
      steps: the number of drawing steps.
      read_n: the read glimpse's size `N` (`N x N` filters).
      write_n: the written patch's size `N`.
      encoder_features: the encoder LSTM's hidden size.
      decoder_features: the decoder LSTM's hidden size.
      latent: the size of `z` at each step.
      attention: read and write through attention (else the whole image and a dense write).
      dtype: the compute dtype (`train.precision`); the canvas and KL stay float32.
      param_dtype: the parameters' dtype.
    """

    shape: tuple
    steps: int = 8
    read_n: int = 4
    write_n: int = 5
    encoder_features: int = 128
    decoder_features: int = 128
    latent: int = 8
    attention: bool = True
    dtype: Any = jnp.float32        # compute dtype (`train.precision`); the canvas and KL stay float32
    param_dtype: Any = jnp.float32

    def setup(self):
        """Builds the scanned step; raises `ValueError` unless `shape` is `(H, W, 1)`."""
        if len(self.shape) != 3 or self.shape[-1] != 1:
            raise ValueError(f"DRAW draws one-channel images (H, W, 1); got shape {self.shape}")
        self.step = nn.scan(_DrawStep, variable_broadcast="params", split_rngs={"params": False},
                            in_axes=(1, nn.broadcast, nn.broadcast), out_axes=1, length=self.steps)(
            self.shape[0], self.shape[1], self.read_n, self.write_n, self.encoder_features, self.decoder_features,
            self.latent, self.attention, self.dtype, self.param_dtype)

    def _run(self, x, eps, generate: bool):
        b = x.shape[0]
        zeros = lambda n: (jnp.zeros((b, n), self.dtype), jnp.zeros((b, n), self.dtype))
        state = (jnp.zeros((b, *self.shape[:2])), zeros(self.encoder_features), zeros(self.decoder_features))
        _, (canvases, kl) = self.step(state, eps, x, jnp.asarray(generate))
        return canvases, kl

    def __call__(self, images, rng):
        """Encodes and redraws `images`.

        Args:
          images: `(B, H, W, 1)` images in [0, 1].
          rng: a PRNG key for the posterior samples.

        Returns:
          `(logits (B, H, W, 1), kl (B,), canvases (B, steps, H, W))`: `kl` sums the steps' KL
          terms, `canvases` are the logits after each step.

        Raises:
          ValueError: if the images' shape is not `shape`.
        """
        if images.shape[1:] != tuple(self.shape):
            raise ValueError(f"DRAW built for images {tuple(self.shape)}; got {images.shape[1:]}")
        eps = jax.random.normal(rng, (images.shape[0], self.steps, self.latent))
        canvases, kl = self._run(images[..., 0], eps, generate=False)
        return canvases[:, -1, ..., None], kl.sum(1), canvases

    def generate(self, rng, count: int):
        """Draws `count` images from the prior, `z_t ~ N(0, I)`.

        Returns:
          `(count, steps, H, W)` canvas probabilities after each step.
        """
        eps = jax.random.normal(rng, (count, self.steps, self.latent))
        canvases, _ = self._run(jnp.zeros((count, *self.shape[:2])), eps, generate=True)
        return jax.nn.sigmoid(canvases)
