"""Small networks for reinforcement learning on vector observations."""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def unbatched_orthogonal(scale: float):
    """`nn.initializers.orthogonal(scale)` that `vmap` runs as a loop of single QR factorizations.

    Batched LAPACK QR (what `vmap` over seeds makes of the plain initializer) fans out over
    XLA:CPU's intra-op thread pool from inside it and can deadlock (jaxlib 0.10); one matrix at a
    time does not.
    """
    base = nn.initializers.orthogonal(scale)

    def init(key, shape, dtype=jnp.float32):
        return jax.custom_batching.sequential_vmap(lambda k: base(k, shape, dtype))(key)

    return init


def _dense(features, scale, name, dtype, param_dtype):
    return nn.Dense(features, kernel_init=unbatched_orthogonal(scale), bias_init=nn.initializers.zeros,
                    dtype=dtype, param_dtype=param_dtype, name=name)


class ActorCritic(nn.Module):
    """Separate policy and value MLPs (`hidden` widths, `act`), orthogonally initialized.

    The gains are sqrt(2) for hidden layers, 0.01 for the policy head and 1 for the value head
    (the PPO implementation details of Engstrom et al. 2020 / Huang et al. 2022).

    Attributes:
      num_actions: the number of discrete actions.
      hidden: the hidden widths of each MLP.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_actions: int
    hidden: Sequence[int] = (64, 64)
    act: Callable = nn.tanh
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, obs):
        """Computes the policy and the value.

        Args:
          obs: `(batch, obs_dim)` observations.

        Returns:
          `(logits, value)`: float32 `logits: (batch, num_actions)` and `value: (batch,)`.
        """
        def trunk(x, prefix):
            for i, width in enumerate(self.hidden):
                x = self.act(_dense(width, np.sqrt(2), f"{prefix}{i}", self.dtype, self.param_dtype)(x))
            return x

        obs = obs.astype(self.dtype)
        logits = _dense(self.num_actions, 0.01, "policy_head", self.dtype, self.param_dtype)(trunk(obs, "actor"))
        value = _dense(1, 1.0, "value_head", self.dtype, self.param_dtype)(trunk(obs, "critic"))
        return logits.astype(jnp.float32), value[:, 0].astype(jnp.float32)
