"""Trained weights shipped with the zoo: `list()` names them, `load(name)` rebuilds one.

Each model is a folder under `zoo/weights/` in the layout of a Hugging Face hub repository, so a
folder can be uploaded as it is (nothing is ever downloaded here):

- `model.safetensors`: every variable, its path joined with `.` (`params.conv0.kernel`,
  `batch_stats.bn.mean`);
- `config.json`: the zoo module's class and fields (enough to rebuild it without the recipe or
  the data), the recipe and config it was trained with, what the recipe's task needs to reload it
  (`task_meta`: example shapes, vocabularies), the headline metric and the sha256 of the weights;
- `README.md`: the model card, written by `python -m train publish`.

This module imports nothing of `train`: `(module, variables)` is all a user's code needs
(`module.apply(variables, x, **card["apply_kwargs"])`). A folder of one's own in the same layout
loads with `load(path)`.

    >>> module, variables, card = load("lenet5_mnist5k")
    >>> logits = module.apply(variables, images, **card["apply_kwargs"])   # (N, 28, 28, 1) -> (N, 10)
"""

import builtins
import dataclasses
import hashlib
import importlib
import json
import os

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

#: the folder holding one sub-folder per shipped model
DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "README.md"
#: modules may only be rebuilt from classes of these packages (a config.json never imports other code)
TRUSTED_PACKAGES = ("zoo",)


def list() -> dict[str, str]:  # noqa: A001 (the registry's name for it, as in timm and torch.hub)
    """Lists the shipped models.

    Returns:
      `{name: one-line description}` of the models under `DIRECTORY`, sorted by name.
    """
    names = sorted(n for n in os.listdir(DIRECTORY) if os.path.isfile(os.path.join(DIRECTORY, n, CONFIG))) \
        if os.path.isdir(DIRECTORY) else []
    return {name: _read_config(os.path.join(DIRECTORY, name))["description"] for name in names}


def load(name_or_path: str):
    """Rebuilds a shipped model, or one from a folder in the same layout.

    The weights' sha256 is checked against `config.json` first.

    Args:
      name_or_path: the name of a shipped model (see `list()`) or the path of a folder.

    Returns:
      `(module, variables, card)`: the rebuilt `nn.Module`, its nested dict of numpy arrays, and
      `card`, the parsed `config.json` (recipe, config, metrics, sha256, commit) with the model
      card's text under `"readme"`.

    Raises:
      ValueError: if the weights file is missing, truncated or altered (naming it), or if the name
        is unknown (listing the shipped ones).
    """
    folder = _folder(name_or_path)
    card = _read_config(folder)
    weights = os.path.join(folder, WEIGHTS)
    if not os.path.isfile(weights):
        raise ValueError(f"{weights} is missing")
    digest = sha256(weights)
    if digest != card["sha256"]:
        raise ValueError(f"{weights} does not match its sha256 in {os.path.join(folder, CONFIG)} "
                         f"({digest[:12]}... against {card['sha256'][:12]}...): the file is damaged or was changed")
    from safetensors.numpy import load_file

    variables = unflatten(load_file(weights))
    readme = os.path.join(folder, CARD)
    card["readme"] = open(readme).read() if os.path.isfile(readme) else ""
    return build_module(card["module"]), variables, card


def save(folder: str, module: nn.Module, variables: dict, card: dict, readme: str) -> str:
    """Writes `module`'s folder: the weights, `config.json` and the model card.

    Each file is written beside its final name and renamed into place, so an interrupted save
    leaves no half-written file.

    Args:
      folder: the folder to write (created if missing).
      module: the module, described in `config.json` by `describe_module`.
      variables: its nested dict of arrays.
      card: what `config.json` holds besides the module's description and the weights' sha256.
      readme: the model card's text; `{sha256}` in it is replaced by the weights' sha256.

    Returns:
      The sha256 hex digest of the weights file.
    """
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    weights = os.path.join(folder, WEIGHTS)
    save_file(flatten(variables), weights + ".tmp")
    os.replace(weights + ".tmp", weights)
    card = {**card, "module": describe_module(module), "sha256": sha256(weights)}
    for name, text in ((CONFIG, json.dumps(card, indent=2, sort_keys=True) + "\n"), (CARD, readme)):
        with open(os.path.join(folder, name) + ".tmp", "w") as f:
            f.write(text.replace("{sha256}", card["sha256"]))
        os.replace(os.path.join(folder, name) + ".tmp", os.path.join(folder, name))
    return card["sha256"]


def sha256(path: str) -> str:
    """Returns the sha256 hex digest of the file at `path`."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def flatten(variables: dict) -> dict[str, np.ndarray]:
    """Flattens a nested dict of arrays into `{"params.conv0.kernel": array, ...}`, paths joined by `.`.

    Raises:
      ValueError: if a variable name contains `.`.
    """
    flat = {}

    def walk(tree, prefix):
        for key, value in tree.items():
            if "." in key:
                raise ValueError(f"variable name {key!r} contains '.', which separates the paths in {WEIGHTS}")
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[prefix + key] = np.asarray(value)

    walk(dict(variables), "")
    return flat


def unflatten(flat: dict[str, np.ndarray]) -> dict:
    """Returns the nested dict that `flatten` came from."""
    tree = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree


def describe_module(module: nn.Module) -> dict:
    """Describes a module's class and fields in JSON, e.g. `{"class": "zoo.lenet.LeNet5", "fields": {...}}`.

    The fields are those that differ from their defaults, encoded for JSON: tuples as lists, dtypes
    and flax activations by name, sub-modules described the same way.

    Raises:
      ValueError: if a field holds a value that cannot be described (e.g. a function not in
        `flax.linen`).
    """
    cls = type(module)
    fields = {}
    for field in dataclasses.fields(module):
        if field.name in ("parent", "name") or not field.init:
            continue
        fields[field.name] = _encode(getattr(module, field.name))
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "fields": fields}


def build_module(description: dict) -> nn.Module:
    """Rebuilds the module that `describe_module` described.

    Raises:
      ValueError: if the class is not a flax module of a package in `TRUSTED_PACKAGES`.
    """
    path = description["class"]
    module_name, _, class_name = path.rpartition(".")
    if module_name.split(".")[0] not in TRUSTED_PACKAGES:
        raise ValueError(f"config.json names the class {path}; only classes of {', '.join(TRUSTED_PACKAGES)} are built")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"config.json names {path}, which is not a flax module")
    return cls(**{k: _decode(v) for k, v in description["fields"].items()})


def _encode(value):
    if isinstance(value, nn.Module):
        return {"__module__": describe_module(value)}
    if isinstance(value, (tuple, builtins.list)):
        return [_encode(v) for v in value]
    if isinstance(value, np.dtype) or isinstance(value, type) and hasattr(value, "dtype"):  # jnp.float32, np.float32
        return {"__dtype__": jnp.dtype(value).name}
    if callable(value):
        name = next((n for n in dir(nn) if getattr(nn, n) is value), None)
        if name is None:
            raise ValueError(f"cannot describe the function {value!r} in config.json; only flax.linen's are")
        return {"__function__": f"flax.linen.{name}"}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"cannot describe the field value {value!r} in config.json")


def _decode(value):
    if isinstance(value, builtins.list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        if "__module__" in value:
            return build_module(value["__module__"])
        if "__dtype__" in value:
            return getattr(jnp, value["__dtype__"])
        if "__function__" in value:
            return getattr(nn, value["__function__"].rpartition(".")[2])
    return value


def _folder(name_or_path: str) -> str:
    if os.path.isdir(name_or_path):
        return name_or_path
    folder = os.path.join(DIRECTORY, name_or_path)
    if os.sep in name_or_path or not os.path.isdir(folder):
        raise ValueError(f"no shipped model or folder named {name_or_path!r}; shipped: {', '.join(list()) or 'none'}")
    return folder


def _read_config(folder: str) -> dict:
    path = os.path.join(folder, CONFIG)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing") from None
    except ValueError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
