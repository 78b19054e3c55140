"""Checkpoints in `<workdir>/checkpoints` through orbax.

Saves are synchronous and atomic (orbax writes to a temporary directory and renames it on
commit), so an interrupted save never shadows the previous good checkpoint. Ctrl-C during a
save or close is held until orbax has committed (its wait for the commit would swallow it). Each
checkpoint holds the train state and a JSON `meta` record (step, recipe, config, and
whatever a task needs to reload the run, such as a vocabulary).

After the commit, the size of every file in the step is listed in `<step>/FILES.json`, so a
checkpoint damaged later (a truncated or deleted file) is recognised before orbax reads it
(`damage`); restoring checks the stored array shapes against the template first
(`shape_mismatches`), so neither case reaches orbax's reader, whose failures end in tracebacks
from its background threads.
"""

import contextlib
import json
import os
import shutil
import signal
import threading

import jax
import orbax.checkpoint as ocp

from train.errors import UserError


class Checkpointer:
    """Keeps the `max_to_keep` most recent checkpoints of one run.

    Args:
        directory: The checkpoint folder, usually `<workdir>/checkpoints`; created if missing.
        max_to_keep: How many of the most recent checkpoints to keep.

    Attributes:
        directory: The absolute path of the checkpoint folder.
    """

    def __init__(self, directory: str, max_to_keep: int = 2):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False)
        self._manager = ocp.CheckpointManager(self.directory, options=options, item_handlers={
            "state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler()})

    def latest_step(self) -> int | None:
        """Return the newest checkpoint's step, or None if there is none."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """Return the steps of all checkpoints, in increasing order."""
        return sorted(self._manager.all_steps())

    def damage(self, step: int) -> str | None:
        """Say what is wrong with the files of checkpoint `step` (None if they are as saved).

        A step without a file list (written before lists existed) is trusted as orbax left it.
        """
        root = os.path.join(self.directory, str(step))
        listing = os.path.join(root, FILE_LIST)
        if not os.path.exists(listing):
            return None
        try:
            with open(listing) as f:
                sizes = json.load(f)
        except (OSError, ValueError):
            return f"its file list {FILE_LIST} is unreadable"
        for name, size in sizes.items():
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                return f"{name} is missing"
            if os.path.getsize(path) != size:
                return f"{name} has {os.path.getsize(path)} bytes, {size} were saved"
        return None

    def latest_intact_step(self, log=print) -> int | None:
        """Return the newest step whose files are as saved (None if there are no checkpoints).

        Newer damaged steps are moved to `<workdir>/damaged_checkpoints/` (kept for inspection)
        and reported through `log`.

        Args:
            log: Called with one warning line per damaged step moved aside.

        Raises:
            UserError: If every step is damaged.
        """
        steps, problems = self.all_steps(), []
        for step in reversed(steps):
            why = self.damage(step)
            if why is None:
                break
            problems.append(f"checkpoint {step} ({why})")
        else:
            if steps:
                raise UserError(f"every checkpoint in {self.directory} is damaged: {'; '.join(problems)}; "
                                f"rerun with --fresh to start afresh, or remove that directory")
            return None
        aside = os.path.join(os.path.dirname(self.directory), "damaged_checkpoints")
        for problem, bad in zip(problems, reversed(steps)):
            os.makedirs(aside, exist_ok=True)
            target, copy = os.path.join(aside, str(bad)), 1
            while os.path.exists(target):  # the same step damaged again: keep both
                target, copy = os.path.join(aside, f"{bad}.{copy}"), copy + 1
            shutil.move(os.path.join(self.directory, str(bad)), target)
            log(f"warning: {problem} in {self.directory} is damaged; moved to {aside}, resuming from step {step}")
        if problems:
            self._manager.reload()
        return step

    def shape_mismatches(self, template, step: int) -> list[str]:
        """List the arrays of `template` whose stored shape differs in checkpoint `step`.

        Arrays present on one side only count too.

        Returns:
            One `'path: saved (a, b), now (c, d)'` string per mismatch, sorted by path.
        """
        saved = _shapes(self._manager.item_metadata(step)["state"])
        now = _shapes(template)
        return [f"{k}: saved {saved.get(k)}, now {now.get(k)}" for k in sorted(saved.keys() | now.keys())
                if saved.get(k) != now.get(k)]

    def save(self, step: int, state, meta: dict) -> None:
        """Write checkpoint `step`; a Ctrl-C that arrives meanwhile is raised once it is committed."""
        with _sigint_held():
            self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                             meta=ocp.args.JsonSave(meta)), force=True)
            self._manager.wait_until_finished()
            if jax.process_index() == 0:
                _write_file_list(os.path.join(self.directory, str(step)))

    def restore(self, template, step: int | None = None):
        """Restore `(state, meta)` of checkpoint `step` (default: latest), shaped like `template`.

        Raises:
            UserError: If there is no checkpoint, or it does not match `template`.
        """
        step = self.latest_step() if step is None else step
        if step is None:
            raise UserError(f"no checkpoint in {self.directory}; train first with python -m train")
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(template), meta=ocp.args.JsonRestore()))
        except (ValueError, KeyError, TypeError) as e:
            raise UserError(f"checkpoint {step} in {self.directory} does not match this config "
                            f"({str(e).splitlines()[0][:160]}); use a new --workdir or the run's own config") from None
        return restored.state, restored.meta

    def read_meta(self, step: int | None = None) -> dict:
        """Return the JSON `meta` of checkpoint `step` (default: latest), without restoring arrays.

        Raises:
            UserError: If there is no checkpoint.
        """
        step = self.latest_step() if step is None else step
        if step is None:
            raise UserError(f"no checkpoint in {self.directory}; train first with python -m train")
        return self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

    def close(self) -> None:
        """Close the checkpoint manager; a Ctrl-C meanwhile is raised once it has finished."""
        with _sigint_held():
            self._manager.close()


FILE_LIST = "FILES.json"


def _write_file_list(root: str) -> None:
    sizes = {os.path.relpath(os.path.join(d, name), root): os.path.getsize(os.path.join(d, name))
             for d, _, names in os.walk(root) for name in names if name != FILE_LIST}
    with open(os.path.join(root, f"{FILE_LIST}.tmp"), "w") as f:
        json.dump(sizes, f)
    os.replace(os.path.join(root, f"{FILE_LIST}.tmp"), os.path.join(root, FILE_LIST))


def _shapes(tree) -> dict[str, tuple]:
    """Return `{'params/dense/kernel': shape}` for the arrays of a train state or of orbax's metadata of one.

    Attribute, key and index path entries all become plain names; Python scalars such as a fresh
    state's `step` are shape `()`.
    """
    def name(entry):
        for attr in ("name", "key", "idx"):
            if hasattr(entry, attr):
                return str(getattr(entry, attr))
        return str(entry)

    leaves = jax.tree_util.tree_leaves_with_path(tree)
    return {"/".join(name(e) for e in path): tuple(getattr(leaf, "shape", ())) for path, leaf in leaves}


@contextlib.contextmanager
def _sigint_held():
    """Defer SIGINT to the end of the block (main thread only), then raise `KeyboardInterrupt`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if received:
        raise KeyboardInterrupt
