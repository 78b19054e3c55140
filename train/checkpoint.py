"""Checkpoints in `<workdir>/checkpoints` through orbax.

Saves are synchronous and atomic (orbax writes to a temporary directory and renames it on
commit), so an interrupted save never shadows the previous good checkpoint. Ctrl-C during a
save or close is held until orbax has committed (its wait for the commit would swallow it). Each
checkpoint holds the train state and a JSON `meta` record (step, recipe, config, and
whatever a task needs to reload the run, such as a vocabulary).
"""

import contextlib
import os
import signal
import threading

import orbax.checkpoint as ocp

from train.errors import UserError


class Checkpointer:
    """Keeps the `max_to_keep` most recent checkpoints of one run."""

    def __init__(self, directory: str, max_to_keep: int = 2):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False)
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state, meta: dict) -> None:
        """Write checkpoint `step`; a Ctrl-C that arrives meanwhile is raised once it is committed."""
        with _sigint_held():
            self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                             meta=ocp.args.JsonSave(meta)), force=True)
            self._manager.wait_until_finished()

    def restore(self, template, step: int | None = None):
        """`(state, meta)` of checkpoint `step` (default: latest), shaped like `template`."""
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
        """The JSON `meta` of checkpoint `step` (default: latest), without restoring arrays."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise UserError(f"no checkpoint in {self.directory}; train first with python -m train")
        return self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

    def close(self) -> None:
        with _sigint_held():
            self._manager.close()


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
