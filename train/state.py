"""Training state."""

from typing import Any

from flax.training import train_state


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
