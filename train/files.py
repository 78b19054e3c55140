"""Small file helpers with no heavy imports (usable where the data stack is absent)."""

import json
import os


def write_json_atomic(path: str, obj) -> None:
    """Write JSON to `path` through a temporary file and a rename: never half-written."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
