"""Mixed-precision policies (Micikevicius et al. 2018, "Mixed Precision Training").

One config field, `precision`, picks the policy for a whole recipe:

| name   | parameters and optimizer state | compute (activations, matmuls) | loss and outputs |
| ------ | ------------------------------ | ------------------------------ | ---------------- |
| `fp32` | float32                        | float32                        | float32          |
| `bf16` | float32                        | bfloat16                       | float32          |
| `fp16` | float32                        | float16                        | float32          |

Models receive the compute dtype through their `dtype` field and keep `param_dtype`
float32 (the master weights); flax casts parameters to the compute dtype inside each layer,
and BatchNorm keeps its statistics in float32. Tasks cast logits to float32 before the loss.
float16 has too little range for small gradients, so `fp16` trains with dynamic loss scaling:
`flax.training.dynamic_scale.DynamicScale` (maintained with flax) multiplies the loss by a
scale, unscales the gradients, skips the update and halves the scale when any gradient is
non-finite, and doubles it after `growth_interval` finite steps.
"""

import jax.numpy as jnp
from flax.training.dynamic_scale import DynamicScale

from train.errors import UserError

COMPUTE_DTYPES = {"fp32": jnp.float32, "bf16": jnp.bfloat16, "fp16": jnp.float16}


def compute_dtype(precision: str):
    """The compute dtype of a policy name; `UserError` for an unknown one."""
    if precision not in COMPUTE_DTYPES:
        raise UserError(f"unknown precision '{precision}'; choose one of {', '.join(COMPUTE_DTYPES)}")
    return COMPUTE_DTYPES[precision]


def loss_scale(precision: str, growth_interval: int = 2000, initial_scale: float = 2.0 ** 15):
    """The initial dynamic loss-scale state: a `DynamicScale` for `fp16`, None otherwise."""
    compute_dtype(precision)
    if precision != "fp16":
        return None
    return DynamicScale(growth_interval=growth_interval, scale=jnp.float32(initial_scale))
