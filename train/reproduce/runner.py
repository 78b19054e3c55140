"""Runs that claims need, trained once per reproduction directory and reused afterwards.

`Runner.train(name, recipe, overrides)` runs a `python -m train` recipe (or study) in
`ROOT/name`; `Runner.compress(name, pipeline, overrides)` runs a `python -m compress` pipeline;
`Runner.command(name, main)` a configless subcommand such as `python -m train gradient_flow`.
Runs live under `ROOT/code-<hash>/`, where the hash is `code_hash()` of the package sources: a
run is reused only by the code that made it. Within it, a run whose `summary.json` records the
same config is reused as it is; one with another config is an error (a stale number must never
be reported as a fresh one).
"""

import hashlib
import importlib
import json
import os

from train.errors import UserError
from train.sourcehash import without_docstrings


def _normalized(config_dict: dict) -> dict:
    return json.loads(json.dumps(config_dict, sort_keys=True))


def _with_overrides(config, overrides: dict | None):
    """`config` with `overrides` applied; values may be Python objects (`(300, 100)`) or strings."""
    from train.overrides import apply_overrides

    return apply_overrides(config, {k: v if isinstance(v, str) else repr(v) for k, v in (overrides or {}).items()})


PACKAGES = ("zoo", "train", "interpret", "compress", "rl")


def code_hash() -> str:
    """Return the sha256 hex digest over every `.py` file of the five packages.

    The digest covers paths and syntax trees without docstrings or comments, in sorted order.
    """
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    digest = hashlib.sha256()
    for package in PACKAGES:
        for folder, dirs, files in sorted(os.walk(os.path.join(top, package))):
            dirs.sort()
            for name in sorted(f for f in files if f.endswith(".py")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, top).encode() + b"\0")
                with open(path, "rb") as f:
                    digest.update(without_docstrings(f.read()))
    return digest.hexdigest()


class Runner:
    """Trains or reuses the runs of a reproduction directory.

    The runs of this code version live in `workdir/code-<first 12 hex digits of code_hash()>`.

    Args:
        workdir: The reproduction directory.
        progress: Whether to show progress bars.
        code: The `code_hash()` of the sources (computed when None).

    Attributes:
        code: The code hash.
        root: The folder of this code version's runs.
        progress: Whether to show progress bars.
        trained: The names of the runs trained, in the order they were asked for.
        reused: The names of the finished runs reused, in the order they were asked for.
    """

    def __init__(self, workdir: str, progress: bool = True, code: str | None = None):
        self.code = code or code_hash()
        self.root, self.progress = os.path.join(workdir, f"code-{self.code[:12]}"), progress
        self.reused: list[str] = []
        self.trained: list[str] = []

    def path(self, name: str) -> str:
        """Return the workdir of run `name`, `ROOT/name`."""
        return os.path.join(self.root, name)

    def _finished(self, summary_path: str, config, name: str) -> dict | None:
        if not os.path.exists(summary_path):
            return None
        with open(summary_path) as f:
            summary = json.load(f)
        if _normalized(summary.get("config", {})) != _normalized(config.to_dict()):
            raise UserError(f"{os.path.dirname(summary_path)} holds a finished run of '{name}' with another config; "
                            f"remove it or pass another --workdir")
        self.reused.append(name)
        return summary

    def train(self, name: str, recipe: str, overrides: dict | None = None) -> dict:
        """Return the summary of recipe `recipe` with `overrides` in `ROOT/name`.

        `overrides` are dotted config fields, e.g. `{"model.features": (300, 100), ...}`.

        A finished run there is reused.

        Raises:
            UserError: If `ROOT/name` holds a finished run with another config.
        """
        from train import configs

        config = _with_overrides(configs.get_config(recipe), overrides)
        workdir = self.path(name)
        if (summary := self._finished(os.path.join(workdir, "summary.json"), config, name)) is not None:
            return summary
        self.trained.append(name)
        if "study" in config:
            return importlib.import_module(config.study).run_study(name, config, workdir, progress=self.progress)
        from train.loop import run

        return run(name, config, workdir, progress=self.progress)

    def compress(self, name: str, pipeline: str, overrides: dict | None = None) -> dict:
        """Return the summary of `python -m compress PIPELINE` with `overrides`; its workdir is `ROOT/name`."""
        config = _with_overrides(importlib.import_module(f"compress.configs.{pipeline}").get_config(), overrides)
        workdir = self.path(name)
        # deep_compression writes its summary beside the run it compresses, dsd into its workdir
        summary_path = os.path.join(workdir, pipeline, "summary.json") if pipeline == "deep_compression" \
            else os.path.join(workdir, "summary.json")
        label = f"{name}/{pipeline}"  # beside the train run of the same name that it compresses
        if (summary := self._finished(summary_path, config, label)) is not None:
            return summary
        self.trained.append(label)
        return importlib.import_module(f"compress.{pipeline}").run(config, workdir, progress=self.progress)

    def command(self, name: str, main) -> dict:
        """Return the `summary.json` of a configless subcommand `main(["--workdir", ROOT/name])`.

        The subcommand (e.g. `python -m train gradient_flow`) runs with its default arguments
        unless `ROOT/name` already holds its summary.
        """
        path = os.path.join(self.path(name), "summary.json")
        (self.reused if os.path.exists(path) else self.trained).append(name)
        if not os.path.exists(path):
            main(["--workdir", self.path(name)])
        with open(path) as f:
            return json.load(f)

    def load(self, name: str):
        """Load `(task, state)` of the finished train run `ROOT/name`."""
        from train.restore import load_run

        task, state, _ = load_run(self.path(name))
        return task, state
