"""Recurrent attention model (Mnih et al. 2014, "Recurrent Models of Visual Attention").

It classifies an image from a few glimpses, choosing where to look next.

- `glimpse_sensor(images, locations)`: around each location `l` in `[-1, 1]^2` (row, column; -1 the
  top/left edge, +1 the bottom/right), `scales` square patches of `patch * 2^k` pixels, each
  average-pooled to `patch x patch`: `(B, H, W, C), (B, 2) -> (B, scales, patch, patch, C)`.
- `RecurrentAttentionModel`: glimpse network `g = relu(W [relu(W_g patches), relu(W_l l)])`, an LSTM
  core, a location network whose mean `mu = tanh(W h)` (read from a stop-gradient of `h`, so only
  REINFORCE trains it) is perturbed by Gaussian noise of fixed `std`, a baseline `b = W h` (also on
  a stop-gradient), and a classifier on the last state. The first glimpse is at the centre.
  `policy="random"` replaces the location network with uniform random locations (the control).

Training (`train.tasks.glimpses`) adds cross-entropy, REINFORCE with the baseline, and the
baseline's squared error, in one jit-compiled step.
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.rnn import LSTMCell


def glimpse_sensor(images, locations, patch: int = 8, scales: int = 3):
    """Extracts multi-resolution patches of `images` around `locations`.

    The image is zero-padded where patches leave it.

    Args:
      images: `(B, H, W, C)` square images.
      locations: `(B, 2)` centres (row, column) in [-1, 1].
      patch: the side of every returned patch.
      scales: the number of patches, of sides `patch * 2^k`.

    Returns:
      `(B, scales, patch, patch, C)` patches.
    """
    size = images.shape[1]
    largest = patch * 2 ** (scales - 1)
    padded = jnp.pad(images, ((0, 0), (largest // 2, largest // 2), (largest // 2, largest // 2), (0, 0)))

    def one(image, location):
        centre = (location + 1) / 2 * size + largest // 2                            # in padded pixels
        patches = []
        for k in range(scales):
            side = patch * 2 ** k
            start = jnp.round(centre - side / 2).astype(jnp.int32)
            crop = jax.lax.dynamic_slice(image, (start[0], start[1], 0), (side, side, image.shape[-1]))
            patches.append(crop.reshape(patch, 2 ** k, patch, 2 ** k, -1).mean(axis=(1, 3)))
        return jnp.stack(patches)

    return jax.vmap(one)(padded, locations)


class _GlimpseStep(nn.Module):
    """Look at `location`, update the core, propose the next location and a baseline."""

    patch: int
    scales: int
    glimpse_hidden: int
    features: int
    std: float
    learned: bool
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, state, noise, images):
        dense = lambda n, name: nn.Dense(n, dtype=self.dtype, param_dtype=self.param_dtype, name=name)
        carry, location = state
        patches = glimpse_sensor(images, location, self.patch, self.scales).reshape(images.shape[0], -1)
        what = nn.relu(dense(self.glimpse_hidden, "glimpse_what")(patches))
        where = nn.relu(dense(self.glimpse_hidden, "glimpse_where")(location))
        g = nn.relu(dense(self.features, "glimpse_what_out")(what) + dense(self.features, "glimpse_where_out")(where))
        carry, h = LSTMCell(self.features, dtype=self.dtype, param_dtype=self.param_dtype, name="core")(carry, g)
        baseline = dense(1, "baseline")(jax.lax.stop_gradient(h))[:, 0]
        if self.learned:
            mean = jnp.tanh(dense(2, "location")(jax.lax.stop_gradient(h)))
            sample = mean + self.std * noise
            log_prob = jnp.sum(-0.5 * ((jax.lax.stop_gradient(sample) - mean) / self.std) ** 2
                               - jnp.log(self.std) - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
        else:                                           # noise is already a uniform location in [-1, 1]
            sample, log_prob = noise, jnp.zeros(noise.shape[:1])
        following = jnp.clip(sample, -1.0, 1.0)
        return (carry, following), {"location": location, "next_log_prob": log_prob, "baseline": baseline}


class RecurrentAttentionModel(nn.Module):
    """Recurrent attention model: classifies an image from `glimpses` glimpses; see the module docstring.

    Attributes:
      num_classes: the number of classes.
      glimpses: the number of glimpses `G`.
      patch: the glimpse sensor's patch side.
      scales: the glimpse sensor's number of scales.
      glimpse_hidden: the glimpse network's hidden size.
      features: the LSTM core's hidden size.
      std: the fixed standard deviation of the location policy.
      policy: "learned" or "random" (uniform random locations, the control).
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 10
    glimpses: int = 6
    patch: int = 8
    scales: int = 3
    glimpse_hidden: int = 128
    features: int = 256
    std: float = 0.2
    policy: str = "learned"
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images, noise):
        """Takes the glimpses and classifies.

        Args:
          images: `(B, H, W, C)` square images.
          noise: `(B, glimpses, 2)`, standard normal for `policy="learned"` (zeros: follow the
            mean), uniform in [-1, 1] for `"random"`.

        Returns:
          A dict with `logits (B, classes)` and, per glimpse, `locations (B, G, 2)` (where it
          looked), `log_probs (B, G - 1)` (of the locations chosen after glimpses 1..G-1) and
          `baselines (B, G - 1)` (the expected reward predicted at those steps).

        Raises:
          ValueError: if `policy` is unknown or the images are not square `(B, H, W, C)`.
        """
        if self.policy not in ("learned", "random"):
            raise ValueError(f"policy must be 'learned' or 'random'; got {self.policy!r}")
        if images.ndim != 4 or images.shape[1] != images.shape[2]:
            raise ValueError(f"images must be square (batch, H, W, channels); got shape {images.shape}")
        b = images.shape[0]
        scan = nn.scan(_GlimpseStep, variable_broadcast="params", split_rngs={"params": False},
                       in_axes=(1, nn.broadcast), out_axes=1, length=self.glimpses)
        step = scan(self.patch, self.scales, self.glimpse_hidden, self.features, self.std, self.policy == "learned",
                    self.dtype, self.param_dtype, name="step")
        carry = (jnp.zeros((b, self.features), self.dtype), jnp.zeros((b, self.features), self.dtype))
        (carry, _), out = step((carry, jnp.zeros((b, 2), images.dtype)), noise, images.astype(self.dtype))
        logits = nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="classifier")(carry[1])
        return {"logits": logits, "locations": out["location"], "log_probs": out["next_log_prob"][:, :-1],
                "baselines": out["baseline"][:, :-1]}
