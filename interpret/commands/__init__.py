"""Shared plumbing of the `python -m interpret` commands.

Argument parsers, loading a trained run's images, recording numbers in `summary.json`.
"""

import json
import os

from train import compile_cache
from train.arguments import ArgumentParser
from train.errors import UserError


def parser(name: str, description: str, workdir_help: str = "an image classification run (e.g. runs/classify_digits)",
           pretrained: bool = True):
    """Make an argument parser with the options every method shares.

    Args:
        name: the method's name.
        description: the method's description.
        workdir_help: the help text of `--workdir`.
        pretrained: the method reads a model, which may be a shipped one (`--pretrained NAME`,
            then `--workdir` only receives the outputs).

    Returns:
        The `ArgumentParser`.
    """
    p = ArgumentParser(prog=f"python -m interpret {name}", description=description)
    p.add_argument("--workdir", required=True,
                   help=f"{workdir_help}; with --pretrained, where the outputs go" if pretrained else workdir_help)
    if pretrained:
        p.add_argument("--pretrained", metavar="NAME", default=None,
                       help="a shipped model instead of a run (python -c 'import zoo; print(zoo.pretrained.list())')")
    compile_cache.add_flag(p)
    return p


def record(workdir: str, name: str, result: dict) -> str:
    """Add `result` to `workdir/summary.json` under `"interpret"/name`; return the path."""
    from train.files import write_json_atomic

    path = os.path.join(workdir, "summary.json")
    summary = json.load(open(path)) if os.path.exists(path) else {}
    summary.setdefault("interpret", {})[name] = result
    write_json_atomic(path, summary)
    return path


def image_run(p, argv):
    """Load what a method needs to run on the first `--count` images of a split.

    Args:
        p: the method's parser, from `method_parser`.
        argv: the command's arguments.

    Returns:
        `(args, task, variables, x, labels)`: `x` the `(count, H, W, C)` images, `labels` `(count,)`.

    Raises:
        UserError: on `--count` below 1, or a run that is not an image classifier.
    """
    import jax.numpy as jnp

    from train.restore import load_model

    args = p.parse_args(argv)
    if args.count < 1:
        raise UserError(f"--count must be >= 1; got {args.count}")
    task, state, _ = load_model(args.workdir, args.pretrained, expect_task="classification")
    split = task.split(args.split)
    if split["inputs"].ndim != 4:
        raise UserError(f"{p.prog} needs an image classifier; this run's inputs have shape "
                        f"{split['inputs'].shape[1:]}")
    return (args, task, state.variables(), jnp.asarray(split["inputs"][:args.count]),
            jnp.asarray(split["label"][:args.count]))


def method_parser(name: str, description: str, count: int):
    """Make `parser(name, description)` with `--split` and `--count` (default `count` images)."""
    p = parser(name, description)
    p.add_argument("--split", default="test", help="dataset split whose first images are used")
    p.add_argument("--count", type=int, default=count, help="how many images")
    return p




def last_layer(variables, prefix: str) -> str:
    """Find the last (by name) top-level layer of `variables["params"]` starting with `prefix`.

    Raises:
        UserError: if there is none, listing the layers.
    """
    names = sorted(k for k in variables["params"] if k.startswith(prefix))
    if not names:
        raise UserError(f"this model has no layer named {prefix}*; pass --layer with one of: "
                        f"{', '.join(sorted(variables['params']))}")
    return names[-1]


def checked_layer(variables, layer: str) -> str:
    """Return `layer` if it is a top-level layer of the model.

    Raises:
        UserError: otherwise, a one-line error listing the layers.
    """
    if layer not in variables["params"]:
        raise UserError(f"--layer {layer!r} is not a layer of this model; choose one of: "
                        f"{', '.join(sorted(variables['params']))}")
    return layer
