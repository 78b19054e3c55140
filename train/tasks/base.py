"""The interface between a kind of training and the shared loop (`train.loop.run`)."""

import abc
import functools
from typing import Iterator

import flax.linen as nn
import jax
import ml_collections
import optax

from train.data import split_name
from train.state import TrainState
from train.steps import make_eval_step, mean_over_batches


def cached(method):
    """`functools.cache` for a task method whose results belong to the task.

    Results are kept in the task's own `_cached` dict, so they go when the task goes (a class-level
    cache would keep every task object, and the arrays it loaded, alive for the life of the process).
    """

    @functools.wraps(method)
    def lookup(self, *args):
        results = self.__dict__.setdefault("_cached", {})
        key = (method.__name__, *args)
        if key not in results:
            results[key] = method(self, *args)
        return results[key]

    return lookup


#: activation names a recipe config may use for a model's `act` field.
ACTIVATIONS = {"relu": nn.relu, "gelu": nn.gelu, "silu": nn.silu, "tanh": nn.tanh, "elu": nn.elu}


class Task(abc.ABC):
    """One kind of training: its data, model state, loss and evaluation.

    The loop runs `stages()` (if any) and hands them to `start_from`, calls `create_state`, jits
    `loss_fn` into a train step, streams `train_batches(start_step)` and calls
    `evaluate(state, split)`, which by default runs
    `eval_metrics` over `eval_batches(split)`. Batches are dicts of arrays with static
    shapes; eval batches carry a float `mask` of shape `(batch,)`.
    """

    #: metric reported first in the summary line, e.g. "accuracy" for `test_accuracy`.
    primary_metric: str = "loss"

    #: the `--config.precision` policies (`train.precision`) this task's models and losses honour;
    #: `train.loop.run` refuses the others in one line
    precisions: tuple = ("fp32",)

    #: the run's directory, set by `train.loop.run` before training: what must survive a resume
    #: (the GAN's sample snapshots) is written there, never kept on the task object
    workdir: str | None = None

    def __init__(self, config: ml_collections.ConfigDict, meta: dict | None = None):
        """Keep the recipe config and, when restoring, the checkpoint's facts.

        Args:
            config: the recipe config.
            meta: a checkpoint's (`meta()` as saved) when the task is rebuilt to restore a run;
                what it records (example shapes, vocabularies) is then never read from the data.
        """
        self.config = config
        self._shapes = {k: tuple(v) for k, v in (meta or {}).get("shapes", {}).items()}

    def feature_shape(self, key: str) -> tuple:
        """The shape of one training example's feature `key` (no batch axis).

        Returns:
            The checkpoint's record when restored, else the shape measured on `training_arrays()`
            (and recorded by `meta`), as a tuple of ints.
        """
        if key not in self._shapes:
            self._shapes[key] = tuple(int(d) for d in self.training_arrays()[key].shape[1:])
        return self._shapes[key]

    def training_arrays(self) -> dict:
        """The training split's arrays, where `feature_shape` measures a feature.

        Default: `split("train")`, for the tasks that keep their splits there; others override it.
        """
        return self.split("train")

    def stages(self) -> dict:
        """Runs this task starts from, `{name: (recipe, config) or workdir}`.

        `train.loop.run` trains each `(recipe, config)` first (or resumes it, or reuses it when
        finished) as its own logged run in `<workdir>/<name>`, loads each `workdir` (a finished
        run), then hands them all to `start_from`. Default: none.
        """
        return {}

    def start_from(self, runs: dict) -> None:  # noqa: B027 (optional hook: tasks without stages ignore it)
        """Takes `{name: (task, state)}` of the finished `stages()`, before `create_state`."""

    @abc.abstractmethod
    def create_state(self, rng, tx: optax.GradientTransformation) -> TrainState:
        """Initialize the model and optimizer state.

        Args:
            rng: a `jax.random` key for parameter initialization.
            tx: the optimizer.
        """

    @abc.abstractmethod
    def loss_fn(self, params, state: TrainState, batch, rng):
        """The training loss on one batch, differentiated with respect to `params`.

        Args:
            params: the parameters being differentiated.
            state: the current train state (for `apply_fn` and non-trained collections).
            batch: a training batch, a dict of arrays.
            rng: a `jax.random` key for this step (dropout, sampling).

        Returns:
            `(loss, (metrics, updates))`: scalar loss, dict of scalar metrics, dict of state
            fields to replace (e.g. `{"batch_stats": ...}`).
        """

    def eval_metrics(self, state: TrainState, batch) -> dict:
        """Per-example metrics `{name: (batch,)}` on an eval batch (used by `evaluate`)."""
        raise NotImplementedError(f"{type(self).__name__} must define eval_metrics or override evaluate")

    @abc.abstractmethod
    def train_batches(self, start_step: int) -> Iterator[dict]:
        """Endless training batches, starting where step `start_step` would be."""

    def eval_batches(self, split: str) -> Iterator[dict]:
        """One padded, masked pass over `split` (used by `evaluate`)."""
        raise NotImplementedError(f"{type(self).__name__} must define eval_batches or override evaluate")

    @functools.cached_property
    def _eval_step(self):
        return jax.jit(make_eval_step(self.eval_metrics))

    def evaluate(self, state: TrainState, split: str) -> dict[str, float]:
        """Mean metrics over one pass of `split`, keyed `{split}_{name}`.

        The key's `split` is without any slice: `"test[:200]"` gives `test_accuracy`.
        """
        means = mean_over_batches(self._eval_step, state, self.eval_batches(split))
        return {f"{split_name(split)}_{k}": v for k, v in means.items()}

    def report(self, state: TrainState, workdir: str) -> dict:
        """Results beyond the test metrics, computed once after training.

        They are stored as `summary["report"]` (likelihood comparisons, sample quality, probes;
        figures go to `workdir/figures/`). A `headline` entry is printed with the final summary line.
        """
        return {}

    def shipped(self, state: TrainState) -> tuple[nn.Module, dict]:
        """The module and variables a model card ships (`python -m train publish`).

        Default: the task's `model` and all of `state.variables()`; a GAN ships its generator alone.
        """
        return getattr(self, "model", None), state.variables()

    #: a metric of `report["sample_quality"]` that heads the model card instead of `primary_metric`
    card_headline: str | None = None

    def card_inputs(self) -> str | None:
        """A line of Python that makes `inputs` for the model card's Use snippet, or None for zeros.

        None (the default) means zeros of the example shape `meta()["shapes"]["inputs"]` fit the model.
        """
        return None

    def meta(self) -> dict:
        """JSON-able facts saved with every checkpoint, from which the task is rebuilt without its data.

        The base records the feature shapes measured so far; subclasses add theirs (a vocabulary).
        """
        return {"shapes": {k: list(v) for k, v in self._shapes.items()}}
