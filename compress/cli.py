"""`python -m compress PIPELINE [--workdir DIR] [--fresh] [--config.KEY=VALUE ...]` and `python -m compress --list`.

Each pipeline is a module with `run(config, workdir, progress) -> summary`, the `OUTPUTS` it
writes in the workdir, and a config in `compress/configs/<pipeline>.py`; the summary's
`headline` is printed at the end. Rerunning a command resumes it (see `compress.fit.fit`).
"""

import importlib
import os
import shutil
import sys

from train import compile_cache
from train.arguments import ArgumentParser
from train.errors import UserError
from train.overrides import apply_overrides, split_config_args

PIPELINES = {  # name: description
    "deep_compression": "prune -> retrain -> share -> fine-tune -> Huffman a trained classifier; sizes per stage",
    "dsd": "dense-sparse-dense training against a dense baseline of the same steps, several seeds",
}


def parse_args(argv: list[str]):
    """Parse the command line, splitting off the `--config.KEY=VALUE` overrides.

    Args:
        argv: the arguments after the program name.

    Returns:
        `(args, overrides)`: the parsed `argparse.Namespace` and a dict of config overrides, with
        `pretrained` added when `--pretrained` is given.
    """
    parser = ArgumentParser(prog="python -m compress", description="Compress or sparsely train a model.",
                            epilog="Any config field can be overridden: --config.sparsity=0.9")
    parser.add_argument("pipeline", nargs="?", help=f"one of {', '.join(PIPELINES)}")
    parser.add_argument("--workdir", help="run directory (default runs/PIPELINE)")
    parser.add_argument("--list", action="store_true", help="list the pipelines and exit")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--fresh", action="store_true",
                        help="start afresh: remove what the pipeline saved in the workdir first (a trained run "
                             "that deep_compression compresses stays)")
    parser.add_argument("--pretrained", metavar="NAME", default=None,
                        help="deep_compression: compress a shipped model (zoo.pretrained) instead of the workdir's run")
    compile_cache.add_flag(parser)
    overrides, rest = split_config_args(argv)
    args = parser.parse_args(rest)
    if args.pretrained is not None:
        overrides = {**overrides, "pretrained": args.pretrained}
    return args, overrides


def main(argv: list[str] | None = None) -> int:
    """Run the command line `python -m compress`.

    Args:
        argv: the arguments after the program name; `sys.argv[1:]` when `None`.

    Returns:
        The process exit status, 0 on success, the `UserError`'s exit code on a user error.
    """
    argv = compile_cache.from_argv(sys.argv[1:] if argv is None else argv)
    try:
        args, overrides = parse_args(argv)
        if args.list:
            for name, description in PIPELINES.items():
                print(f"{name:18s} {description}")
            return 0
        if args.pipeline not in PIPELINES:
            raise UserError(f"name a pipeline: python -m compress PIPELINE (one of {', '.join(PIPELINES)})"
                            if args.pipeline is None else
                            f"unknown pipeline '{args.pipeline}'; choose one of {', '.join(PIPELINES)}")
        config = importlib.import_module(f"compress.configs.{args.pipeline}").get_config()
        if args.pretrained is not None and "pretrained" not in config:
            raise UserError(f"--pretrained: the {args.pipeline} pipeline trains its own models")
        config = apply_overrides(config, overrides)
        workdir = args.workdir or os.path.join("runs", args.pipeline)
        pipeline = importlib.import_module(f"compress.{args.pipeline}")
        if args.fresh:
            for path in (os.path.join(workdir, name) for name in pipeline.OUTPUTS):
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
        summary = pipeline.run(config, workdir, progress=not args.no_progress)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(f"{args.pipeline}: {summary['headline']}")
    return 0
