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
    `UserError`. No dataset is read: the task is rebuilt from the config and the checkpoint's
    `meta` (example shapes, vocabularies), and the state restored into a shape-only template.
    """
    from train.optim import make_optimizer
    from train.tasks import TASKS

    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        raise UserError(f"no checkpoints in {workdir}; train a run there first (python -m train RECIPE --workdir {workdir})")
    ckpt = Checkpointer(directory)
    try:
        meta = ckpt.read_meta()
        config = ml_collections.ConfigDict(_with_defaults(meta["config"], meta["recipe"]))
        if expect_task is not None and config.task != expect_task:
            raise UserError(f"{workdir} holds a '{config.task}' run ({meta['recipe']}); this needs a "
                            f"'{expect_task}' run")
        task = TASKS[config.task](config, meta)
        tx, _ = make_optimizer(config.optimizer, config.num_steps)
        # the template's shapes only: tracing the initializers is enough, nothing is computed
        template = jax.eval_shape(lambda: task.create_state(jax.random.key(config.seed), tx))
        state, _ = ckpt.restore(template)
    finally:
        ckpt.close()
    return task, state, meta


def _with_defaults(saved: dict, recipe: str) -> dict:
    """The saved config, with fields that the recipe gained since the run was trained filled
    in from its current defaults (saved values always win)."""
    from train import configs

    if recipe not in configs.names():
        return saved

    def merge(defaults, saved):
        return {**defaults, **{k: merge(defaults[k], v) if isinstance(v, dict) and isinstance(defaults.get(k), dict)
                               else v for k, v in saved.items()}}

    return merge(configs.get_config(recipe).to_dict(), saved)
