"""Reload a run from its workdir, or a shipped model.

The recipe config and task come from the checkpoint's meta, and the train state is restored
into them.
"""

import json
import os

import jax
import ml_collections

from train.checkpoint import Checkpointer
from train.errors import UserError


def load_run(workdir: str, expect_task: str | None = None):
    """Load `(task, state, meta)` of the latest checkpoint in `workdir`.

    No dataset is read: the task is rebuilt from the config and the checkpoint's `meta` (example
    shapes, vocabularies), and the state restored into a shape-only template.

    Args:
        workdir: A run's folder, with a `checkpoints/` subfolder.
        expect_task: The task kind the caller needs (e.g. "classification"), or None for any.

    Returns:
        `(task, state, meta)`: the rebuilt task, the restored `TrainState` and the checkpoint's
        JSON meta dict.

    Raises:
        UserError: If there are no checkpoints, the run is of another task kind than
            `expect_task`, or the checkpoint does not match the config.
    """
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
        task, _, template = _task_and_template(config, meta)
        state, _ = ckpt.restore(template)
    finally:
        ckpt.close()
    return task, state, meta


def _task_and_template(config, meta: dict):
    """Return `(task, optimizer, template)` rebuilt from `config` and a checkpoint's `meta`.

    The template is the train state as shapes only (the initializers traced, nothing computed).
    """
    from train.optim import make_optimizer
    from train.tasks import TASKS

    task = TASKS[config.task](config, meta)
    tx, _ = make_optimizer(config.optimizer, config.num_steps)
    return task, tx, jax.eval_shape(lambda: task.create_state(jax.random.key(config.seed), tx))


def config_text(config: dict) -> str:
    """Return a config dict as canonical JSON: equal texts are equal configs.

    This is how saved configs are compared with a recipe's, and hashed.
    """
    return json.dumps(config, sort_keys=True, default=str)


def _with_defaults(saved: dict, recipe: str) -> dict:
    """Return the saved config, with fields the recipe gained since the run was trained filled in.

    The new fields come from the recipe's current defaults; saved values always win.
    """
    from train import configs

    if recipe not in configs.names():
        return saved

    def merge(defaults, saved):
        return {**defaults, **{k: merge(defaults[k], v) if isinstance(v, dict) and isinstance(defaults.get(k), dict)
                               else v for k, v in saved.items()}}

    return merge(configs.get_config(recipe).to_dict(), saved)


def load_pretrained(name: str, expect_task: str | None = None):
    """Load `(task, state, meta)` of a shipped model (`zoo.pretrained`), like `load_run`'s.

    The task is rebuilt from the recipe config in its `config.json`, the state holds its weights
    (the optimizer state freshly initialized: a shipped model carries none).

    Args:
        name: The shipped model's name in `zoo.pretrained`.
        expect_task: The task kind the caller needs (e.g. "classification"), or None for any.

    Raises:
        UserError: For a `ValueError` of the registry (unknown name, damaged file), a model of
            another task kind than `expect_task`, or weights that do not fit the recipe's model.
    """
    import jax.numpy as jnp

    from zoo import pretrained

    try:
        _, variables, card = pretrained.load(name)
    except ValueError as e:
        raise UserError(str(e)) from None
    # a study's model was trained with a config of the study's making, not the recipe's: taken as saved
    saved = card["recipe_config"]
    config = ml_collections.ConfigDict(saved if "study_model" in card else _with_defaults(saved, card["recipe"]))
    if expect_task is not None and config.task != expect_task:
        raise UserError(f"{name} is a '{config.task}' model ({card['recipe']}); this needs a '{expect_task}' model")
    meta = {"step": card["training_steps"], "recipe": card["recipe"], "config": card["recipe_config"],
            **card["task_meta"]}
    task, tx, template = _task_and_template(config, meta)
    if task.shipped(template)[0] is not getattr(task, "model", None):  # e.g. a GAN's generator alone
        raise UserError(f"{name} is {card['recipe']}'s {card['module']['class']} alone, not a run to restore; "
                        f"load it with zoo.pretrained.load('{name}')")
    params = jax.tree.map(jnp.asarray, variables["params"])
    state = template.replace(params=params, opt_state=tx.init(params), step=jnp.asarray(card["training_steps"]),
                             batch_stats=jax.tree.map(jnp.asarray, variables["batch_stats"])
                             if "batch_stats" in variables else None)
    expected, got = jax.tree.leaves_with_path(template.params), jax.tree.leaves_with_path(params)
    if [(p, a.shape) for p, a in expected] != [(p, a.shape) for p, a in got]:
        raise UserError(f"{name}'s weights do not fit {card['recipe']}'s model as the code builds it now; "
                        f"regenerate them: {card['regenerate']}")
    return task, state, meta


def load_model(workdir: str | None, pretrained: str | None, expect_task: str | None = None):
    """`load_pretrained(pretrained)` when a shipped model is named, else `load_run(workdir)`."""
    if pretrained:
        return load_pretrained(pretrained, expect_task)
    return load_run(workdir, expect_task)
