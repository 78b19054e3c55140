"""Deep Compression (Han et al. 2016) of a trained classifier, with accuracy and real sizes per stage.

The stages: prune -> retrain under the masks -> share weights by k-means -> fine-tune the
codebooks -> Huffman-code, with test accuracy after every stage and the bytes of real encodings
(`compress.report`).

`encode_and_decode` decodes every encoding and asserts that it gives back exactly the fine-tuned
weights; the accuracy of the last row is measured on the weights decoded from the Huffman bytes,
the model the compressed bytes hold.
"""

import os
import time

import jax
import jax.numpy as jnp
import optax

from compress import prune, share
from compress.fit import accuracy, check_config, correct, cross_entropy, fit
from compress.report import STAGES, encode_and_decode, markdown_table

#: what the pipeline writes in the workdir (beside the run it compresses); `--fresh` removes it
OUTPUTS = ("deep_compression",)
OUTPUT = OUTPUTS[0]


def compress_params(apply_fn, variables, splits: dict, config, progress: bool = True,
                    checkpoints: str | None = None):
    """Run the four stages on `variables["params"]`.

    Args:
        apply_fn: `apply_fn(variables, x) -> logits`.
        variables: the trained model's variables, holding `{"params": ...}`.
        splits: `{"train": ..., "test": ...}` of `{"inputs", "label"}`.
        config: the pipeline's config (`compress/configs/deep_compression.py`).
        progress: whether to show progress bars.
        checkpoints: a directory where the two training stages keep their progress
            (`compress.fit.fit`), so that a rerun resumes them.

    Returns:
        `(report, accuracies, final_params)`: the size report (`encode_and_decode`), test accuracy
        per stage (`dense`, `pruned` before retraining, `retrained`, `shared`, `fine_tuned`,
        `huffman`), and the weights decoded from the final encoding.
    """
    logits = lambda params, x: apply_fn(dict(variables, params=params), x)
    test = lambda params: accuracy(logits, params, splits["test"])
    params = variables["params"]
    acc = {"dense": test(params)}
    masks = prune.magnitude_masks(params, config.sparsity, config.scope)
    acc["pruned"] = test(jax.tree.map(lambda p, m: p if m is None else p * m, params, masks,
                                      is_leaf=lambda x: x is None))

    # Gradual pruning during retraining (Zhu & Gupta's schedule over the first `ramp_steps`).
    schedule = prune.polynomial_sparsity(config.sparsity, 0, config.ramp_steps)
    tx = prune.wrap(optax.adam(config.retrain_learning_rate), schedule, config.scope, end=config.ramp_steps,
                    every=config.prune_every)
    params, _ = fit(cross_entropy(logits), params, tx, splits["train"], config.retrain_steps, config.batch_size,
                    config.seed, "retrain (pruned)", progress, checkpoint=_file(checkpoints, "retrain"))
    acc["retrained"] = test(params)

    shared = share.share(params, bits=config.bits)
    acc["shared"] = test(share.reconstruct(shared))
    values, _ = fit(cross_entropy(lambda v, x: logits(share.reconstruct(share.with_trainable(shared, v)), x)),
                    share.trainable(shared), optax.adam(config.finetune_learning_rate), splits["train"],
                    config.finetune_steps, config.batch_size, config.seed + 1, "fine-tune codebooks", progress,
                    checkpoint=_file(checkpoints, "finetune"))
    shared = share.with_trainable(shared, values)
    final = share.reconstruct(shared)
    acc["fine_tuned"] = test(final)
    report, decoded = encode_and_decode(final, shared, index_bits=config.index_bits, bits=config.bits)
    acc["huffman"] = test(jax.tree.map(jnp.asarray, decoded))
    return report, acc, decoded


def _file(directory: str | None, stage: str) -> str | None:
    return None if directory is None else os.path.join(directory, f"{stage}.msgpack")


def plot_stages(report: dict, acc: dict, path: str) -> str:
    """Plot total bytes per stage (log scale) and test accuracy after every stage; return `path`."""
    import matplotlib.pyplot as plt

    from train.figures import save_figure

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.bar(STAGES, [report["total"][s] for s in STAGES], color="tab:blue")
    left.set_yscale("log")
    left.set_ylabel("bytes")
    for i, s in enumerate(STAGES):
        left.text(i, report["total"][s], f"{report['ratio'][s]:.1f}x", ha="center", va="bottom")
    left.set_title("size of the weights")
    right.plot(list(acc), [100 * a for a in acc.values()], "o-")
    right.set_ylabel("test accuracy (%)")
    right.set_title("accuracy after each stage")
    right.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return save_figure(fig, path)


def validate(config) -> None:
    """Check the config, with a one-line `UserError` for each setting the stages cannot use.

    Raises:
        UserError: on a sparsity outside `[0, 1)`, an unknown scope, bit widths outside 1..16, or
            `ramp_steps` above `retrain_steps`.
    """
    from train.errors import UserError

    if not 0 <= config.sparsity < 1:
        raise UserError(f"--config.sparsity must be in [0, 1); got {config.sparsity}")
    if config.scope not in ("layer", "global"):
        raise UserError(f"--config.scope must be layer or global; got {config.scope!r}")
    if not (1 <= config.bits <= 16 and 1 <= config.index_bits <= 16):
        raise UserError(f"--config.bits and --config.index_bits must be in 1..16; got {config.bits}, "
                        f"{config.index_bits}")
    if config.ramp_steps > config.retrain_steps:
        raise UserError("--config.ramp_steps must not exceed --config.retrain_steps")


def run(config, workdir: str, progress: bool = True) -> dict:
    """Run `python -m compress deep_compression` on a shipped model or the run in `workdir`.

    Compresses the shipped model `config.pretrained`, or else the run in `workdir` (training
    `config.recipe` there first when it holds none), and writes `deep_compression/` inside
    `workdir`: `summary.json`, `deep_compression.md` and `figures/stages.png`. Its training
    stages keep their progress in `deep_compression/checkpoints/`: a rerun resumes them, or
    stops in one line when the config changed (`--fresh` starts afresh).

    Args:
        config: the pipeline's config.
        workdir: the run directory.
        progress: whether to show progress bars.

    Returns:
        The summary written to `summary.json`, with a `headline` string.

    Raises:
        UserError: on an invalid config, or a config other than the one `workdir` was compressed with.
    """
    from train.files import write_json_atomic
    from train.restore import load_model

    validate(config)
    out = os.path.join(workdir, OUTPUT)
    check_config(out, config)
    start = time.perf_counter()
    if not config.pretrained and not os.path.isdir(os.path.join(workdir, "checkpoints")):
        from train import configs
        from train.loop import run as train_run

        print(f"no trained run in {workdir}: training {config.recipe} there first")
        train_run(config.recipe, configs.get_config(config.recipe), workdir, progress=progress)
    task, state, meta = load_model(workdir, config.pretrained, expect_task="classification")
    splits = {"train": task.split("train"), "test": task.split(task.config.test_split)}
    report, acc, decoded = compress_params(task.logits, state.variables(), splits, config, progress,
                                           os.path.join(out, "checkpoints"))
    logits = lambda params, x: task.logits(dict(state.variables(), params=params), x)
    # per test image, 1 where it is classified correctly: McNemar's test of the two needs the pairs
    outcomes = {stage: "".join("01"[int(c)] for c in correct(logits, params, splits["test"]))
                for stage, params in (("dense", state.params), ("huffman", jax.tree.map(jnp.asarray, decoded)))}
    n_test = len(splits["test"]["label"])
    accuracy_rows = "".join(f"| {stage} | {a:.4f} | {a - acc['dense']:+.4f} |\n" for stage, a in acc.items())
    with open(os.path.join(out, "deep_compression.md"), "w") as f:
        f.write(f"# Deep Compression of {meta['recipe']} ({config.pretrained or workdir})\n\n"
                f"Sparsity {config.sparsity} ({config.scope}), {config.bits}-bit shared weights, "
                f"{config.index_bits}-bit relative indices. Sizes are bytes of real encodings.\n\n"
                f"{markdown_table(report)}\n| stage | test accuracy ({n_test} images) | vs dense |\n"
                f"| --- | --- | --- |\n{accuracy_rows}")
    plot_stages(report, acc, os.path.join(out, "figures", "stages.png"))
    summary = {"pipeline": "deep_compression", "run": config.pretrained or workdir, "recipe": meta["recipe"], "accuracy": acc,
               "bytes": report["total"], "ratio": report["ratio"], "layers": report["layers"], "test_correct": outcomes,
               "wall_time_s": round(time.perf_counter() - start, 3), "config": config.to_dict(),
               "headline": (f"{report['total']['dense']:,} B dense -> {report['total']['huffman']:,} B "
                            f"({report['ratio']['huffman']:.1f}x smaller); test accuracy {acc['dense']:.4f} -> "
                            f"{acc['huffman']:.4f} | {out}/deep_compression.md")}
    write_json_atomic(os.path.join(out, "summary.json"), summary)
    return summary
