"""The pages of the documentation that are written from the code, into `docs/_generated/`.

`recipes.md` from the recipes' module docstrings (what `python -m train --list` prints),
`reproductions.md` from `docs/reproductions.json`, `api/<package>.md` from each package's
`__all__`, and `notebooks/` from `notebooks/` (executed copies with outputs where the suite saved them).
"""

import importlib
import json
import os
import shutil

PACKAGES = ("zoo", "train", "interpret", "compress", "rl")
NOTEBOOKS = ("quickstart", "rnn", "captioning", "sequences", "generative", "visualization", "adversarial",
             "compression", "efficient_training", "rl")


def version() -> str:
    """The version in pyproject.toml, the one place it is set."""
    import tomllib

    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]["version"]


def recipes_page() -> str:
    """The recipes table: each recipe's name and the first line of its docstring."""
    from train import configs

    rows = "".join(f"| `{name}`{' (default)' if name == configs.DEFAULT else ''} | {configs.describe(name)} |\n"
                   for name in configs.names())
    return ("# Recipes\n\nEvery recipe is a module in `train/configs/`; this table is its docstring's first line, "
            "the text `python -m train --list` prints.\n\n```bash\npython -m train --list\npython -m train RECIPE "
            "[--workdir DIR] [--config.KEY=VALUE ...]\n```\n\n| recipe | what it trains |\n| --- | --- |\n" + rows)


def reproductions_page(path: str) -> str:
    """The report of the entries in `path` (`docs/reproductions.json`)."""
    from train.reproduce import report

    with open(path) as f:
        return report.markdown(json.load(f))


def api_page(package: str) -> str:
    """An autosummary of every name in `package.__all__`, one generated page per name."""
    module = importlib.import_module(package)
    doc = (module.__doc__ or package).strip().split("\n")[0]
    names = "\n".join(f"   {name}" for name in module.__all__)
    return (f"# `{package}`\n\n{doc}\n\n```{{eval-rst}}\n.. currentmodule:: {package}\n\n.. autosummary::\n"
            f"   :toctree: ../_autosummary\n\n{names}\n```\n")


def write_all(docs: str, outputs: str) -> None:
    """Write every generated page under `docs/_generated/`; notebooks from `outputs` where present."""
    out = os.path.join(docs, "_generated")
    os.makedirs(os.path.join(out, "api"), exist_ok=True)
    pages = {"recipes.md": recipes_page(),
             "reproductions.md": reproductions_page(os.path.join(docs, "reproductions.json")),
             **{f"api/{p}.md": api_page(p) for p in PACKAGES}}
    for name, text in pages.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(out, "notebooks"), exist_ok=True)
    source = os.path.join(os.path.dirname(docs), "notebooks")
    for name in NOTEBOOKS:
        executed = os.path.join(outputs, f"{name}.ipynb")
        shutil.copyfile(executed if os.path.exists(executed) else os.path.join(source, f"{name}.ipynb"),
                        os.path.join(out, "notebooks", f"{name}.ipynb"))
