"""Dense-sparse-dense training as an optax wrapper, and the `python -m compress dsd` study.

After Han et al. 2017, "DSD: Dense-Sparse-Dense Training for Deep Neural Networks".

`wrap(tx, sparsity, sparse_begin, sparse_end, redense_scale)` trains densely until
`sparse_begin`, then prunes each layer's smallest-magnitude `sparsity` fraction and trains under
that mask (the masks live in the optimizer state), and from `sparse_end` on removes the mask:
the pruned weights restart from zero and every update is scaled by `redense_scale` (the
paper's lower learning rate for the final dense phase).

The study trains the same model from the same seeds twice for the same number of steps: DSD,
and a dense baseline with the same learning-rate drop at `sparse_end`, so that only the sparse
phase differs; it reports test accuracy per seed with mean and spread, and says which won.
"""

import functools
import os
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from compress.fit import accuracy, check_config, cross_entropy, fit
from compress.prune import magnitude_masks
from train.state import init_variables

#: what the study writes in its workdir; `--fresh` removes it
OUTPUTS = ("checkpoints", "config.json", "summary.json", "dsd.md")


class DSDState(NamedTuple):
    """The optimizer state of `wrap`.

    Attributes:
        masks: 0/1 per prunable array (ones outside the sparse phase); None elsewhere.
        count: int32 scalar, the calls to `update` so far.
        inner: the wrapped transformation's state.
    """

    masks: optax.Params    # 0/1 per prunable array (ones outside the sparse phase); None elsewhere
    count: jax.Array
    inner: optax.OptState


def wrap(tx: optax.GradientTransformation, sparsity: float, sparse_begin: int, sparse_end: int,
         redense_scale: float = 0.1, scope: str = "layer", min_ndim: int = 2) -> optax.GradientTransformation:
    """Wrap `tx` in DSD's three phases (see the module docstring); steps count calls to `update`.

    Args:
        tx: the optimizer to wrap.
        sparsity: the fraction of each layer (or of all, with `scope="global"`) pruned at `sparse_begin`.
        sparse_begin: the step that prunes and starts the sparse phase.
        sparse_end: the step that removes the mask.
        redense_scale: the factor of every update from `sparse_end` on.
        scope: `"layer"` or `"global"` (see `compress.prune.magnitude_masks`).
        min_ndim: arrays with at least this many dims are prunable.

    Returns:
        A `GradientTransformation` with `DSDState`; its `update` raises `ValueError` when called
        without `params`.

    Raises:
        ValueError: unless `0 <= sparse_begin <= sparse_end`.
    """
    if not 0 <= sparse_begin <= sparse_end:
        raise ValueError(f"need 0 <= sparse_begin <= sparse_end; got {sparse_begin}, {sparse_end}")

    def init(params):
        masks = jax.tree.map(lambda x: jnp.ones_like(x) if jnp.ndim(x) >= min_ndim else None, params)
        return DSDState(masks, jnp.zeros([], jnp.int32), tx.init(params))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("compress.dsd.wrap needs params: call tx.update(grads, state, params)")
        updates, inner = tx.update(updates, state.inner, params)
        t = state.count
        updates = jax.tree.map(lambda u: jnp.where(t >= sparse_end, redense_scale, 1.0).astype(u.dtype) * u, updates)
        new = optax.apply_updates(params, updates)
        masks = jax.lax.cond(t == sparse_begin, lambda: magnitude_masks(new, sparsity, scope, min_ndim=min_ndim),
                             lambda: state.masks)
        masks = jax.tree.map(lambda m: None if m is None else jnp.where(t >= sparse_end, 1.0, m).astype(m.dtype),
                             masks, is_leaf=lambda x: x is None)
        pruned = jax.tree.map(lambda p, m: p if m is None else p * m, new, masks, is_leaf=lambda x: x is None)
        return jax.tree.map(lambda a, b: a - b, pruned, params), DSDState(masks, t + 1, inner)

    return optax.GradientTransformation(init, update)


def lr_drop(tx: optax.GradientTransformation, at: int, scale: float) -> optax.GradientTransformation:
    """Scale the updates of `tx` by `scale` from step `at` on (the baseline's matching drop)."""
    return optax.chain(tx, optax.scale_by_schedule(lambda t: jnp.where(t >= at, scale, 1.0)))


def _checkpoint(workdir: str, seed: int, phase: str) -> str:
    return os.path.join(workdir, "checkpoints", f"seed{seed}_{phase}.msgpack")


def run(config, workdir: str, progress: bool = True) -> dict:
    """Run the study: for every seed, DSD and the dense baseline; write `summary.json` and `dsd.md`.

    Every training phase keeps its progress in `checkpoints/`: a rerun resumes, or stops in one
    line when the config changed (`--fresh` starts afresh).

    Args:
        config: the study's config (`compress/configs/dsd.py`).
        workdir: the run directory.
        progress: whether to show progress bars.

    Returns:
        The summary written to `summary.json`, with a `headline` string.

    Raises:
        UserError: on a sparsity outside `(0, 1)`, a phase of fewer than 1 step, or a config other
            than the one `workdir` holds.
    """
    from train import configs, data
    from train.errors import UserError
    from train.files import write_json_atomic
    from train.tasks.classification import build_model

    if not 0 < config.sparsity < 1:
        raise UserError(f"--config.sparsity must be in (0, 1); got {config.sparsity}")
    if min(config.dense_steps, config.sparse_steps, config.redense_steps) < 1:
        raise UserError("--config.dense_steps, sparse_steps and redense_steps must all be >= 1")
    check_config(workdir, config)
    start = time.perf_counter()
    recipe = configs.get_config(config.recipe)
    model = build_model(recipe.model)
    splits = {}
    for name in ("train", recipe.test_split):
        arrays = data.load(recipe.dataset, name, recipe.data_dir or None)
        splits[name] = {"inputs": arrays[recipe.input_key], "label": arrays["label"]}
    test = splits[recipe.test_split]
    begin, end = config.dense_steps, config.dense_steps + config.sparse_steps
    total = end + config.redense_steps
    logits = lambda params, x: model.apply({"params": params}, x)
    loss = cross_entropy(logits)
    results = {"baseline": [], "dsd": [], "dsd_sparse": []}
    for seed in config.seeds:
        init = init_variables(model, jax.random.key(seed), splits["train"]["inputs"][:1])["params"]
        base = lr_drop(optax.adam(config.learning_rate), end, config.redense_scale)
        ckpt = functools.partial(_checkpoint, workdir, seed)
        params, _ = fit(loss, init, base, splits["train"], total, config.batch_size, seed,
                        f"baseline seed {seed}", progress, checkpoint=ckpt("baseline"))
        results["baseline"].append(accuracy(logits, params, test))
        tx = wrap(optax.adam(config.learning_rate), config.sparsity, begin, end, config.redense_scale)
        params, opt = fit(loss, init, tx, splits["train"], end, config.batch_size, seed,
                          f"DSD seed {seed} (dense, sparse)", progress, checkpoint=ckpt("dense_sparse"))
        results["dsd_sparse"].append(accuracy(logits, params, test))
        params, _ = fit(loss, params, tx, splits["train"], total - end, config.batch_size, seed + 10_000,
                        f"DSD seed {seed} (re-dense)", progress, opt_state=opt, checkpoint=ckpt("redense"))
        results["dsd"].append(accuracy(logits, params, test))
    mean = {k: float(np.mean(v)) for k, v in results.items()}
    std = {k: float(np.std(v)) for k, v in results.items()}
    gain = mean["dsd"] - mean["baseline"]
    verdict = ("DSD helped" if gain > max(std["dsd"], std["baseline"]) else
               "DSD hurt" if -gain > max(std["dsd"], std["baseline"]) else
               "no difference beyond the seed-to-seed spread")
    rows = "".join(f"| {k} | {', '.join(f'{a:.4f}' for a in v)} | {mean[k]:.4f} | {std[k]:.4f} |\n"
                   for k, v in results.items())
    with open(os.path.join(workdir, "dsd.md"), "w") as f:
        f.write(f"# DSD on {config.recipe}\n\n{config.dense_steps} dense + {config.sparse_steps} sparse "
                f"({config.sparsity:.0%} pruned) + {config.redense_steps} re-dense steps (lr x{config.redense_scale}); "
                f"the baseline trains densely for the same {total} steps with the same drop. Test accuracy on "
                f"{len(test['label'])} images:\n\n| run | per seed | mean | std |\n| --- | --- | --- | --- |\n{rows}\n"
                f"DSD - baseline: {gain:+.4f} ({verdict}).\n")
    summary = {"pipeline": "dsd", "recipe": config.recipe, "test_accuracy": results, "mean": mean, "std": std,
               "gain": gain, "verdict": verdict, "steps": total, "wall_time_s": round(time.perf_counter() - start, 3),
               "config": config.to_dict(),
               "headline": (f"test accuracy over {len(config.seeds)} seeds: DSD {mean['dsd']:.4f} +- {std['dsd']:.4f}, "
                            f"dense baseline {mean['baseline']:.4f} +- {std['baseline']:.4f}: {verdict} "
                            f"| {workdir}/dsd.md")}
    write_json_atomic(os.path.join(workdir, "summary.json"), summary)
    return summary
