"""`python -m train [RECIPE] [--workdir DIR] [--config.KEY=VALUE ...]`, `--list` and `--version`.

The subcommands: `python -m train sample ...` (`train.sample_cli`), `python -m train gradient_flow ...`
(`train.gradient_flow`), `python -m train reproduce ...` (`train.reproduce.cli`),
`python -m train export ...` (`train.export`) and `python -m train publish ...` (`train.publish`).
"""

import importlib
import os
import sys

from train import compile_cache, configs
from train.arguments import ArgumentParser
from train.errors import UserError
from train.overrides import apply_overrides, split_config_args

SUBCOMMANDS = {"sample": "train.sample_cli", "gradient_flow": "train.gradient_flow", "reproduce": "train.reproduce.cli",
               "export": "train.export", "publish": "train.publish"}


def version() -> str:
    """The installed jaxzoo's version (set once, in pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("jaxzoo")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def parse_args(argv: list[str]):
    """Parse `python -m train`'s arguments.

    Args:
        argv: the command line after `python -m train`, `--config.KEY=VALUE` overrides included.

    Returns:
        `(args, overrides)`: the argparse namespace and `{KEY: VALUE}` strings.

    Raises:
        UserError: for an argument the command does not take.
    """
    parser = ArgumentParser(prog="python -m train", description="Train a jaxzoo recipe.",
                            epilog="Any recipe field can be overridden: --config.optimizer.learning_rate=1e-3. "
                                   "Sample from a trained language model or captioner: python -m train sample --workdir DIR")
    parser.add_argument("recipe", nargs="?", default=configs.DEFAULT, help=f"recipe name (default {configs.DEFAULT})")
    parser.add_argument("--workdir", help="run directory (default runs/RECIPE); rerunning resumes it")
    parser.add_argument("--list", action="store_true", help="list recipes and exit")
    parser.add_argument("--version", action="version", version=f"jaxzoo {version()}")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    compile_cache.add_flag(parser)
    parser.add_argument("--fresh", action="store_true",
                        help="start afresh: remove the workdir's checkpoints, metrics and summary first")
    overrides, rest = split_config_args(argv)
    args, unknown = parser.parse_known_args(rest)
    if unknown:
        raise UserError(f"unrecognized argument '{unknown[0]}'; overrides look like --config.KEY=VALUE")
    return args, overrides


def main(argv: list[str] | None = None) -> int:
    """Run `python -m train` with `argv` (default: `sys.argv[1:]`) and return its exit status.

    A user's mistake prints one line and returns 2; Ctrl-C returns 130 after the checkpoint is saved.
    """
    argv = compile_cache.from_argv(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] and argv[0] in SUBCOMMANDS:
            importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
            return 0
        args, overrides = parse_args(argv)
        if args.list:
            for name in configs.names():
                marker = " (default)" if name == configs.DEFAULT else ""
                print(f"{name:24s} {configs.describe(name)}{marker}")
            return 0
        config = apply_overrides(configs.get_config(args.recipe), overrides)
        workdir = args.workdir or os.path.join("runs", args.recipe)
        if args.fresh:
            clear_run(workdir)
        if "study" in config:  # a recipe that trains and compares several models
            summary = importlib.import_module(config.study).run_study(args.recipe, config, workdir,
                                                                      progress=not args.no_progress)
            print(f"{args.recipe}: {summary['headline']}")
            return 0
        from train.loop import run  # jax and the data stack load only when training

        summary = run(args.recipe, config, workdir, progress=not args.no_progress)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(format_summary(summary, workdir))
    return 0


RUN_OUTPUTS = ("checkpoints", "damaged_checkpoints", "models", "metrics.jsonl", "summary.json",
               "samples_over_training")


def clear_run(workdir: str) -> None:
    """Remove what a run wrote in `workdir` (`RUN_OUTPUTS` and its event files), nothing else.

    Args:
        workdir: a run directory.
    """
    import shutil

    from train.files import event_files

    for path in (*(os.path.join(workdir, name) for name in RUN_OUTPUTS), *event_files(workdir)):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def format_summary(summary: dict, workdir: str) -> str:
    """One human-readable line: test metrics, steps, time, where the run lives."""
    first = summary["primary_metric"]
    ordered = sorted(summary["test"].items(), key=lambda kv: (kv[0] != first, kv[0]))
    test = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in ordered)
    resumed = f", resumed from step {summary['resumed_from_step']}" if summary["resumed_from_step"] else ""
    headline = f" | {summary['report']['headline']}" if "headline" in summary.get("report", {}) else ""
    return (f"{summary['recipe']}: {test}{headline} | {summary['steps']} steps{resumed}, "
            f"{summary['wall_time_s']:.1f} s (compile {summary['compile_time_s']:.1f} s) | {workdir}")
