"""Reload a run from its workdir: the recipe config and task from the checkpoint's meta, and
the train state restored into it."""

import os

import jax
import ml_collections

from train.checkpoint import Checkpointer
from train.errors import UserError


def load_run(workdir: str, expect_task: str | None = None):
    """`(task, state, meta)` of the latest checkpoint in `workdir`.

    `expect_task` (e.g. "classification") turns a run of another kind into a one-line
    `UserError`. Tasks that need more than the config to rebuild (a language model's
    vocabulary) get it from `meta`.
    """
    from train.optim import make_optimizer
    from train.tasks import TASKS

    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        raise UserError(f"no checkpoints in {workdir}; train a run there first (python -m train RECIPE --workdir {workdir})")
    ckpt = Checkpointer(directory)
    try:
        meta = ckpt.read_meta()
        config = ml_collections.ConfigDict(meta["config"])
        if expect_task is not None and config.task != expect_task:
            raise UserError(f"{workdir} holds a '{config.task}' run ({meta['recipe']}); this needs a "
                            f"'{expect_task}' run")
        task = TASKS[config.task](config, **({"vocab": meta["vocab"]} if "vocab" in meta else {}))
        tx, _ = make_optimizer(config.optimizer, config.num_steps)
        state, _ = ckpt.restore(task.create_state(jax.random.key(config.seed), tx))
    finally:
        ckpt.close()
    return task, state, meta
