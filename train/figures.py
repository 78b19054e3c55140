"""Figures every run writes into `<workdir>/figures/`."""

import json
import os


def save_figure(fig, path: str, dpi: int = 100) -> str:
    """Write `fig` to `path` (creating its folder), close it, and return `path`."""
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_learning_curves(metrics_path: str, out_path: str) -> str:
    """Training loss (log scale; symlog if any is <= 0) and every evaluated metric against step, from
    `metrics.jsonl`.

    Returns `out_path`. Uses matplotlib's Agg backend (no display needed).
    """
    import matplotlib.pyplot as plt

    with open(metrics_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    train = [r for r in records if "loss" in r]
    evals = [r for r in records if "loss" not in r]
    eval_keys = sorted({k for r in evals for k in r if k != "step"})
    fig, axes = plt.subplots(1, 1 + bool(eval_keys), figsize=(5 + 5 * bool(eval_keys), 3.5), squeeze=False)
    ax = axes[0, 0]
    ax.plot([r["step"] for r in train], [r["loss"] for r in train], label="train loss")
    positive = all(r["loss"] > 0 for r in train)  # a WGAN's loss can be negative
    ax.set(xlabel="step", ylabel="loss", yscale="log" if positive else "symlog", title="training loss")
    ax.grid(alpha=0.3)
    if eval_keys:
        ax = axes[0, 1]
        for k in eval_keys:
            points = [(r["step"], r[k]) for r in evals if k in r]
            ax.plot(*zip(*points), marker="o", label=k)
        ax.set(xlabel="step", title="evaluation")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=110)
