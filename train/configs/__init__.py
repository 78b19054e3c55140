"""Recipes: one module per recipe with a `get_config()`; its docstring's first line is the
description that `python -m train --list` prints.
"""

import importlib
import pkgutil

from train.errors import UserError

DEFAULT = "classify_digits"


def names() -> list[str]:
    """All recipe names, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def describe(name: str) -> str:
    """First docstring line of a recipe module."""
    doc = importlib.import_module(f"{__name__}.{name}").__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def get_config(name: str):
    """The `ConfigDict` of recipe `name`."""
    if name not in names():
        raise UserError(f"unknown recipe '{name}'; choose one of: {', '.join(names())} (python -m train --list)")
    return importlib.import_module(f"{__name__}.{name}").get_config()
