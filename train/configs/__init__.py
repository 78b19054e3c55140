"""Recipes: one module per recipe with a `get_config()`.

A recipe module's first docstring line is the description that `python -m train --list` prints.
"""

import importlib
import pkgutil

from train.errors import UserError

DEFAULT = "classify_digits"


def names() -> list[str]:
    """Returns all recipe names, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def describe(name: str) -> str:
    """Returns the first docstring line of recipe module `name` ("" if it has none)."""
    doc = importlib.import_module(f"{__name__}.{name}").__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def get_config(name: str):
    """Returns the `ConfigDict` of recipe `name`.

    Raises:
        UserError: If `name` is not a recipe.
    """
    if name not in names():
        raise UserError(f"unknown recipe '{name}'; choose one of: {', '.join(names())} (python -m train --list)")
    return importlib.import_module(f"{__name__}.{name}").get_config()
