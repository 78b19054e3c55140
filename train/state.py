"""Training state, and model initialization compiled once."""

import functools
from typing import Any

import jax
from flax.training import train_state


def init_variables(model, rngs, *inputs, **kwargs) -> dict:
    """Run `model.init(rngs, *inputs, **kwargs)` under `jax.jit`, compiled once.

    Gives the same variables as the eager call, from one XLA program instead of hundreds of small
    ops compiled one by one, and one that the persistent compilation cache can keep.

    The program runs once, so it is compiled with LLVM's optimization level 1 instead of 2
    (`_RUN_ONCE`): faster to compile and the same bits as the default compile (level 0 is faster
    still, but changes the last bit of some weights: it does not contract multiply-adds).

    Args:
        model: A Flax `nn.Module`.
        rngs: A PRNG key, or a dict of keys by RNG collection name, as for `model.init`.
        *inputs: Example inputs (arrays or traced values) passed to `model.init`.
        **kwargs: Static keyword arguments of `model.init`.

    Returns:
        The variables dict, e.g. `{"params": ..., "batch_stats": ...}`. When `rngs` or `inputs`
        are traced (under `jax.eval_shape`), nothing is compiled.
    """
    init = jax.jit(functools.partial(model.init, **kwargs))
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((rngs, inputs))):
        return init(rngs, *inputs)  # traced (`jax.eval_shape` in `load_run`): nothing is compiled
    return init.lower(rngs, *inputs).compile(compiler_options=_RUN_ONCE)(rngs, *inputs)


#: XLA options for programs that run once (initializers): compile fast rather than run fast
_RUN_ONCE = {"xla_backend_optimization_level": 1}


class TrainState(train_state.TrainState):
    """`flax.training.train_state.TrainState` plus the mutable model collections.

    Teachers and frozen parts are never stored here; they are separate step arguments.

    Attributes:
        batch_stats: BatchNorm running statistics (None for models without BatchNorm).
        loss_scale: Dynamic loss-scaling state for float16 training (None otherwise).
    """

    batch_stats: Any = None
    loss_scale: Any = None

    def variables(self, params=None) -> dict:
        """Return the `variables` dict for `apply_fn`: params and, if present, batch stats.

        Args:
            params: Parameters to use instead of `self.params` (e.g. a perturbed copy).

        Returns:
            `{"params": ...}`, plus `"batch_stats"` when the model has BatchNorm.
        """
        variables = {"params": self.params if params is None else params}
        if self.batch_stats is not None:
            variables["batch_stats"] = self.batch_stats
        return variables
