"""The interface between a kind of training and the shared loop (`train.loop.run`)."""

import abc
from typing import Iterator

import ml_collections
import optax

from train.state import TrainState


class Task(abc.ABC):
    """One kind of training: its data, model state, loss and evaluation.

    The loop calls `create_state`, jits `loss_fn` into a train step and `eval_metrics`
    into an eval step, and streams `train_batches(start_step)`. Batches are dicts of
    arrays with static shapes; eval batches carry a float `mask` of shape `(batch,)`.
    """

    #: metric reported first in the summary line, e.g. "accuracy" for `test_accuracy`.
    primary_metric: str = "loss"

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config

    @abc.abstractmethod
    def create_state(self, rng, tx: optax.GradientTransformation) -> TrainState:
        """Initialize the model and optimizer state."""

    @abc.abstractmethod
    def loss_fn(self, params, state: TrainState, batch, rng):
        """`(loss, (metrics, updates))`: scalar loss, dict of scalar metrics, dict of state
        fields to replace (e.g. `{"batch_stats": ...}`)."""

    @abc.abstractmethod
    def eval_metrics(self, state: TrainState, batch) -> dict:
        """Per-example metrics `{name: (batch,)}` on an eval batch."""

    @abc.abstractmethod
    def train_batches(self, start_step: int) -> Iterator[dict]:
        """Endless training batches, starting where step `start_step` would be."""

    @abc.abstractmethod
    def eval_batches(self, split: str) -> Iterator[dict]:
        """One padded, masked pass over `split`."""

    def meta(self) -> dict:
        """JSON-able facts saved with every checkpoint (e.g. a vocabulary)."""
        return {}
