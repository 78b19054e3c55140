"""Small file helpers with no heavy imports (usable where the data stack is absent)."""

import json
import os

from train.errors import UserError


def make_workdir(workdir: str) -> None:
    """Create `workdir` (and parents) and check that files can be written there.

    Raises:
        UserError: Naming the directory, if it cannot be created or written.
    """
    try:
        os.makedirs(workdir, exist_ok=True)
        probe = os.path.join(workdir, f".write-test-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise UserError(f"cannot write to --workdir {workdir} ({e.strerror or e}); choose a writable directory") from None


def write_json_atomic(path: str, obj) -> None:
    """Write JSON to `path` through a temporary file and a rename: never half-written."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def event_files(directory: str) -> list[str]:
    """Paths of the TensorBoard event files (`events.out.tfevents.*`) directly in `directory`."""
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.startswith("events.out.tfevents.")]
