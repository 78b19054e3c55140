"""Training state, and model initialization compiled once."""

import functools
from typing import Any

import jax
from flax.training import train_state


def init_variables(model, rngs, *inputs, **kwargs) -> dict:
    """`model.init(rngs, *inputs, **kwargs)` under `jax.jit`: the same variables as the eager call,
    from one XLA program instead of hundreds of small ops compiled one by one (2-4 s per model on
    a CPU), and one that the persistent compilation cache can keep. `kwargs` are static."""
    return jax.jit(functools.partial(model.init, **kwargs))(rngs, *inputs)


class TrainState(train_state.TrainState):
    """`flax.training.train_state.TrainState` plus the mutable model collections.

    `batch_stats`: BatchNorm running statistics (None for models without BatchNorm).
    `loss_scale`: dynamic loss-scaling state for float16 training (None otherwise).
    Teachers and frozen parts are never stored here; they are separate step arguments.
    """

    batch_stats: Any = None
    loss_scale: Any = None

    def variables(self, params=None) -> dict:
        """The `variables` dict for `apply_fn`: params (these or `params`) and batch stats."""
        variables = {"params": self.params if params is None else params}
        if self.batch_stats is not None:
            variables["batch_stats"] = self.batch_stats
        return variables
