"""Measuring robustness: accuracy and confidence under attack, transfer, linearity, and a study.

Accuracy and confidence under attack across epsilons, transfer between models, the linearity
experiment of Goodfellow et al. (2015), and the `robustness_digits` study that trains and
compares several models.

Models are `(apply_fn, params)` pairs with `apply_fn(params, x) -> logits`.
"""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from interpret.adversarial import fgsm, input_gradients, pgd
from train.figures import save_figure
from train.keyed_jit import keyed_jit


@keyed_jit("apply_fn")
def _probabilities(apply_fn, params, x):
    return jax.nn.softmax(apply_fn(params, x).astype(jnp.float32))


def accuracy_and_confidence(apply_fn, params, x, labels) -> dict:
    """Measure accuracy, and the mean softmax probability of the predicted class on the mistakes.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(N, K)`.
        params: the model's parameters.
        x: `(N, ...)` inputs.
        labels: `(N,)` integer labels.

    Returns:
        A dict of two floats,
        `{"accuracy": float, "confidence_on_mistakes": float}`, the confidence NaN when there
        are no mistakes.
    """
    probs = _probabilities(apply_fn, params, x)
    pred = np.asarray(jnp.argmax(probs, -1))
    wrong = pred != np.asarray(labels)
    confidence = np.asarray(jnp.max(probs, -1))[wrong]
    return {"accuracy": float(1 - wrong.mean()), "confidence_on_mistakes": float(confidence.mean()) if wrong.any()
            else float("nan")}


@keyed_jit("apply_fn", static_argnames=("lo", "hi"))
def random_sign(apply_fn, params, x, labels, eps, rng, lo=0.0, hi=1.0):
    """Add uniformly random +-eps to every pixel: the same L-infinity norm as FGSM, no gradient.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(N, K)`.
        params: the model's parameters.
        x: `(N, ...)` inputs in `[lo, hi]`.
        labels: unused (the signature of an attack).
        eps: the perturbation size.
        rng: a PRNG key for the signs.
        lo: the lowest valid input value.
        hi: the highest valid input value.

    Returns:
        `(N, ...)` perturbed inputs clipped to `[lo, hi]`.
    """
    return jnp.clip(x + eps * jax.random.rademacher(rng, x.shape, x.dtype), lo, hi)


def attack_suite(pgd_steps: int = 40, pgd_restarts: int = 5) -> dict:
    """Build the study's L-infinity attacks: FGSM, PGD with restarts, and random signs.

    PGD takes a step size of 2.5 eps / steps (Madry et al.).

    Args:
        pgd_steps: PGD's steps.
        pgd_restarts: PGD's random restarts.

    Returns:
        A dict of attacks,
        `{name: attack(apply_fn, params, x, labels, eps, rng) -> x_adv}`, names `"fgsm"`,
        `"pgd{steps}x{restarts}"` and `"random_sign"`.
    """
    def fgsm_attack(apply_fn, params, x, labels, eps, rng):
        return fgsm(apply_fn, params, x, labels, eps)[0]

    def pgd_attack(apply_fn, params, x, labels, eps, rng):
        return pgd(apply_fn, params, x, labels, eps, 2.5 * eps / pgd_steps, pgd_steps, rng, restarts=pgd_restarts)[0]

    return {"fgsm": fgsm_attack, f"pgd{pgd_steps}x{pgd_restarts}": pgd_attack, "random_sign": random_sign}


def robustness_table(models: dict, x, labels, epsilons, attacks: dict, rng) -> list[dict]:
    """Evaluate every model under every attack and epsilon.

    Args:
        models: `{name: (apply_fn, params)}`.
        x: `(N, ...)` inputs.
        labels: `(N,)` integer labels.
        epsilons: the attack sizes.
        attacks: `{name: attack}` (see `attack_suite`).
        rng: a PRNG key passed to every attack.

    Returns:
        A list of dicts of `model`, `attack`, `eps` and the `accuracy_and_confidence` keys,
        one row per model x attack x epsilon, plus a clean row per model (`"attack": "clean"`,
        `"eps": 0.0`).
    """
    rows = []
    for name, (apply_fn, params) in models.items():
        rows.append({"model": name, "attack": "clean", "eps": 0.0, **accuracy_and_confidence(apply_fn, params, x, labels)})
        for attack_name, attack in attacks.items():
            for eps in epsilons:
                x_adv = attack(apply_fn, params, x, labels, float(eps), rng)
                rows.append({"model": name, "attack": attack_name, "eps": float(eps),
                             **accuracy_and_confidence(apply_fn, params, x_adv, labels)})
    return rows


def transfer_matrix(models: dict, x, labels, eps: float, attack, rng) -> dict:
    """Measure how adversarial examples crafted on each model transfer to the others.

    Args:
        models: `{name: (apply_fn, params)}`.
        x: `(N, ...)` inputs.
        labels: `(N,)` integer labels.
        eps: the attack size.
        attack: `attack(apply_fn, params, x, labels, eps, rng) -> x_adv`.
        rng: a PRNG key passed to the attack.

    Returns:
        A dict of dicts of floats,
        `{source: {target: accuracy of target on examples crafted on source}}`.
    """
    out = {}
    for source, (apply_fn, params) in models.items():
        x_adv = attack(apply_fn, params, x, labels, eps, rng)
        out[source] = {target: accuracy_and_confidence(f, p, x_adv, labels)["accuracy"]
                       for target, (f, p) in models.items()}
    return out


@keyed_jit("apply_fn", static_argnames="num")
def _linearity_fits(apply_fn, params, x, labels, eps_max, num: int):
    """`(eps (E,), logits (E, B, C), r2 (B, C))` of `linearity`."""
    direction = jnp.sign(input_gradients(apply_fn, params, x, labels))
    eps = jnp.linspace(-eps_max, eps_max, num)
    logits = jax.vmap(lambda e: apply_fn(params, x + e * direction))(eps).astype(jnp.float32)   # (E, B, C)
    curves = logits.reshape(num, -1)                                                            # (E, B*C)
    design = jnp.stack([eps, jnp.ones_like(eps)], axis=1)
    coef, *_ = jnp.linalg.lstsq(design, curves)
    resid = curves - design @ coef
    total = curves - curves.mean(0, keepdims=True)
    r2 = 1 - (resid ** 2).sum(0) / jnp.maximum((total ** 2).sum(0), 1e-12)
    return eps, logits, r2.reshape(logits.shape[1:])


def linearity(apply_fn, params, x, labels, eps_max: float = 0.25, num: int = 41) -> dict:
    """Measure how linear the logits are along each example's FGSM direction (Goodfellow et al. 2015).

    The logits are taken at `x + eps sign(grad)`, eps in `[-eps_max, eps_max]` (unclipped, as in
    Goodfellow et al.'s figure), and fitted with a straight line per example and class.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(N, K)`.
        params: the model's parameters.
        x: `(N, ...)` inputs.
        labels: `(N,)` integer labels.
        eps_max: the largest step along the direction.
        num: the number of points of the eps grid.

    Returns:
        A dict of `eps` (the grid, `num` floats), `r2_per_class` (the mean R^2 per class),
        `mean_r2` (float) and `example_logits` (the logit curves `(num, classes)` of the first
        example), as lists.
    """
    eps, logits, r2 = _linearity_fits(apply_fn, params, x, labels, eps_max, num)
    return {"eps": np.asarray(eps).tolist(), "r2_per_class": np.asarray(r2.mean(0)).tolist(),
            "mean_r2": float(r2.mean()), "example_logits": np.asarray(logits[:, 0]).tolist()}


def plot_robustness(rows: list[dict], path: str) -> str:
    """Plot accuracy against epsilon, one panel per attack and one line per model.

    Args:
        rows: the rows of `robustness_table`.
        path: where to save the figure.

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    attacks = [a for a in dict.fromkeys(r["attack"] for r in rows) if a != "clean"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(attacks), figsize=(4.5 * len(attacks), 3.6), squeeze=False)
    for ax, attack in zip(axes[0], attacks):
        for model in models:
            clean = [r for r in rows if r["model"] == model and r["attack"] == "clean"]
            pts = clean + [r for r in rows if r["model"] == model and r["attack"] == attack]
            ax.plot([r["eps"] for r in pts], [r["accuracy"] for r in pts], marker="o", label=model)
        ax.set(title=attack, xlabel="epsilon (L-infinity)", ylabel="accuracy", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_linearity(curves: dict, path: str) -> str:
    """Plot the logit curves of the first example, one panel per model.

    Args:
        curves: `{model: linearity(...) result}`.
        path: where to save the figure.

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.6), squeeze=False)
    for ax, (name, result) in zip(axes[0], curves.items()):
        ax.plot(result["eps"], result["example_logits"])
        ax.set(title=f"{name}: mean R^2 {result['mean_r2']:.3f}", xlabel="epsilon along sign(gradient)",
               ylabel="logits (one test image)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def markdown_table(rows: list[dict]) -> str:
    """Format the rows of `robustness_table` as a Markdown table of models x (attack, eps) accuracy.

    Confidence on mistakes is in brackets.
    """
    columns = list(dict.fromkeys((r["attack"], r["eps"]) for r in rows))
    header = "| model | " + " | ".join("clean" if a == "clean" else f"{a} {e:g}" for a, e in columns) + " |"
    lines = [header, "|" + " --- |" * (len(columns) + 1)]
    for model in dict.fromkeys(r["model"] for r in rows):
        cells = {(r["attack"], r["eps"]): r for r in rows if r["model"] == model}
        lines.append(f"| {model} | " + " | ".join(
            f"{cells[c]['accuracy']:.3f} ({cells[c]['confidence_on_mistakes']:.2f})" for c in columns) + " |")
    return "\n".join(lines)


def model_configs(config) -> dict:
    """Build the recipe configs of the trained models of the study, from `classify_digits`.

    Args:
        config: the study's config (dataset, training settings, `adv_*`, `rbf_*`).

    Returns:
        A dict of `ConfigDict` for `softmax_regression`, `cnn`, `cnn_adversarial` and `rbf`.
    """
    import ml_collections

    from train import configs

    def base(model, **fields):
        c = configs.get_config("classify_digits")
        c.dataset, c.data_dir, c.seed, c.precision = config.dataset, config.data_dir, config.seed, config.precision
        c.num_steps, c.eval_every, c.augment.crop_padding = config.num_steps, 0, 0
        c.checkpoint_every = config.num_steps
        c.model = ml_collections.ConfigDict(model)
        for key, value in fields.items():
            c[key].update(value)
        return c

    cnn = dict(configs.get_config("classify_digits").model)
    return {
        "softmax_regression": base({"name": "mlp", "num_classes": 10, "features": ()}),
        "cnn": base(cnn),
        "cnn_adversarial": base(cnn, adversarial={"method": "pgd", "eps": config.adv_eps, "steps": config.adv_steps,
                                                  "step_size": 2.5 * config.adv_eps / config.adv_steps}),
        "rbf": base({"name": "rbf", "num_classes": 10, "num_centers": config.rbf_centers, "gamma_init": 1.0},
                    optimizer={"learning_rate": config.rbf_learning_rate}),
    }


def _shipped(name: str, model_config):
    """Load `(task, state)` of the study's model shipped as `name`.

    It must have been trained with `model_config` (the study's training settings as given).
    """
    from train.errors import UserError
    from train.restore import config_text, load_pretrained

    task, state, meta = load_pretrained(name)
    if config_text(meta["config"]) != config_text(model_config.to_dict()):
        raise UserError(f"the shipped {name} was trained with the study's default training settings; drop the "
                        f"training overrides (num_steps, adv_*, rbf_*, seed, dataset, precision) or set "
                        f"--config.pretrained=false to train the models")
    return task, state


def run_study(recipe: str, config, workdir: str, progress: bool = True) -> dict:
    """Run the robustness study: train or load the models, add the Parzen classifier, evaluate them all.

    Trains the study's models (each in `workdir/models/NAME`, resumable), or with
    `config.pretrained` loads the shipped `RECIPE_NAME` ones, and writes `summary.json`,
    `robustness.md` and figures.

    Args:
        recipe: the recipe name, the prefix of the shipped models.
        config: the study's config.
        workdir: the run directory.
        progress: whether to show progress bars while training.

    Returns:
        The summary written to `summary.json`, with a `headline` string.

    Raises:
        UserError: if `config.transfer_eps` is not one of `config.epsilons`, or a shipped model
            was trained with other settings.
    """
    from train import data
    from train.files import write_json_atomic
    from train.loop import run
    from train.restore import load_run
    from zoo.parzen import choose_bandwidth, parzen_logits, parzen_params

    from train.errors import UserError

    if config.transfer_eps not in config.epsilons:
        raise UserError(f"--config.transfer_eps {config.transfer_eps} must be one of --config.epsilons {config.epsilons}")
    start = time.perf_counter()
    models = {}
    for name, model_config in model_configs(config).items():
        if config.pretrained:
            task, state = _shipped(f"{recipe}_{name}", model_config)
        else:
            run(name, model_config, os.path.join(workdir, "models", name), progress=progress)
            task, state, _ = load_run(os.path.join(workdir, "models", name))
        models[name] = (task.logits, state.variables())
    train_split = data.load(config.dataset, "train", config.data_dir or None)
    sigma = choose_bandwidth(train_split["image"], train_split["label"], 10, list(config.parzen_sigmas))
    models["parzen"] = (parzen_logits, parzen_params(train_split["image"], train_split["label"], 10, sigma))

    test = data.load(config.dataset, config.test_split, config.data_dir or None)
    x, labels = jnp.asarray(test["image"]), jnp.asarray(test["label"])
    rng = jax.random.key(config.seed)
    attacks = attack_suite(config.pgd_steps, config.pgd_restarts)
    rows = robustness_table(models, x, labels, list(config.epsilons), attacks, rng)
    pgd_name = f"pgd{config.pgd_steps}x{config.pgd_restarts}"
    transfer = transfer_matrix(models, x, labels, config.transfer_eps, attacks[pgd_name], rng)
    lin = {name: linearity(*models[name], x, labels, config.linearity_eps) for name in ("softmax_regression", "cnn", "rbf")}

    figures = os.path.join(workdir, "figures")
    plot_robustness(rows, os.path.join(figures, "robust_accuracy.png"))
    plot_linearity(lin, os.path.join(figures, "linearity.png"))
    table = markdown_table(rows)
    with open(os.path.join(workdir, "robustness.md"), "w") as f:
        f.write(f"# {recipe}\n\nAccuracy on the {config.test_split} split (mean confidence on mistakes in "
                f"brackets), L-infinity attacks, pixels in [0, 1].\n\n{table}\n\n## Transfer ({pgd_name}, eps "
                f"{config.transfer_eps}): rows craft, columns classify\n\n"
                + "| source \\ target | " + " | ".join(transfer) + " |\n|" + " --- |" * (len(transfer) + 1) + "\n"
                + "\n".join(f"| {s} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |"
                            for s, row in transfer.items()) + "\n")
    lookup = {(r["model"], r["attack"], r["eps"]): r for r in rows}
    headline_eps = config.transfer_eps
    summary = {
        "recipe": recipe, "table": rows, "transfer": transfer, "parzen_sigma": sigma,
        "linearity": {k: {"mean_r2": v["mean_r2"], "r2_per_class": v["r2_per_class"]} for k, v in lin.items()},
        "wall_time_s": round(time.perf_counter() - start, 3), "config": config.to_dict(),
        "headline": " | ".join(f"{m}: clean {lookup[(m, 'clean', 0.0)]['accuracy']:.3f}, {pgd_name}@{headline_eps:g} "
                               f"{lookup[(m, pgd_name, headline_eps)]['accuracy']:.3f}" for m in models)
                    + f" | {workdir}/robustness.md",
    }
    write_json_atomic(os.path.join(workdir, "summary.json"), summary)
    return summary


__all__ = ["accuracy_and_confidence", "attack_suite", "linearity", "markdown_table", "random_sign",
           "robustness_table", "run_study", "transfer_matrix"]
