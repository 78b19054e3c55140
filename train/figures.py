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
    """Plot the training loss and every evaluated metric against step, from `metrics.jsonl`.

    The loss is on a log scale (symlog if any is <= 0).

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


def plot_attention(images, captions: list, alphas, path: str, words: int = 8) -> str:
    """Plot one row per image `(N, H, W, 3)`: the image with its caption, then its attention maps.

    The maps are those of each of the first `words` generated words (`alphas: (N, T, h * w)`)
    over the image.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(images)
    fig, axes = plt.subplots(n, words + 1, figsize=(1.5 * (words + 1), 1.6 * n), squeeze=False)
    side = int(round(np.sqrt(alphas.shape[-1])))
    for i in range(n):
        axes[i, 0].imshow(images[i])
        axes[i, 0].set_title(" ".join(captions[i])[:60], fontsize=6, loc="left")
        for j in range(words):
            ax = axes[i, j + 1]
            if j < len(captions[i]):
                ax.imshow(images[i])
                grid = alphas[i, j].reshape(side, side)
                ax.imshow(grid / max(grid.max(), 1e-12), cmap="gray", alpha=0.6, interpolation="bilinear",
                          extent=(0, images.shape[2], images.shape[1], 0))
                ax.set_title(captions[i][j], fontsize=7)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_alignment(sources: list[str], outputs: list[str], alphas, path: str) -> str:
    """Plot one attention heatmap per example, as in Bahdanau et al. (2015), figure 3.

    `alphas: (N, T, S)` is the attention each output character (rows) paid to each source
    character (columns).
    """
    import matplotlib.pyplot as plt

    n = len(sources)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 2.6), squeeze=False)
    for ax, source, output, alpha in zip(axes[0], sources, outputs, alphas):
        rows, cols = len(output) + 1, len(source) + 1                    # characters and <end>
        ax.imshow(alpha[:rows, :cols], cmap="gray_r", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(cols), list(source) + ["</s>"], fontsize=6, rotation=90)
        ax.set_yticks(range(rows), list(output) + ["</s>"], fontsize=6)
        ax.set_title(f"{source} -> {output}", fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_frame_labels(videos, labels, predicted, path: str) -> str:
    """One row per video `(N, T, H, W, 1)`: every frame titled `true/predicted`, red where they differ.

    The frames are one mosaic in one axes (a grid of T x N axes takes seconds to lay out).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    n, t = labels.shape
    h, w = videos.shape[2:4]
    gap, band = max(w // 8, 1), max(h // 3, 4)                   # between frames; above each row, for titles
    mosaic = np.ones((n * (band + h), t * (w + gap) - gap), np.float32)
    for i in range(n):
        for j in range(t):
            top, left = i * (band + h) + band, j * (w + gap)
            mosaic[top:top + h, left:left + w] = videos[i, j, ..., 0]
    fig, ax = plt.subplots(figsize=(0.8 * t, 0.95 * n))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for i in range(n):
        for j in range(t):
            ax.text(j * (w + gap) + w / 2, i * (band + h) + band - 1, f"{labels[i, j]}/{predicted[i, j]}",
                    ha="center", va="bottom", fontsize=7,
                    color="black" if labels[i, j] == predicted[i, j] else "red")
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    return save_figure(fig, path)


def plot_glimpses(images, locations, predicted, labels, patch: int, scales: int, path: str) -> str:
    """Plot one panel per image `(N, S, S, 1)` with its glimpse path and patches.

    Each panel shows the glimpse path (`locations: (N, G, 2)` in [-1, 1]), the finest patch at
    every glimpse (numbered) and the largest at the last; titled `true/predicted`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n, size = len(images), images.shape[1]
    fig, axes = plt.subplots(1, n, figsize=(1.8 * n, 2.0), squeeze=False)
    for ax, image, where, guess, label in zip(axes[0], images, locations, predicted, labels):
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        centres = (where + 1) / 2 * size - 0.5                          # (row, col) in pixel coordinates
        ax.plot(centres[:, 1], centres[:, 0], "-", color="tab:orange", lw=1)
        for g, (r, c) in enumerate(centres):
            for side in ((patch,) if g < len(centres) - 1 else (patch, patch * 2 ** (scales - 1))):
                ax.add_patch(Rectangle((c - side / 2, r - side / 2), side, side, fill=False, lw=0.8,
                                       color="tab:orange" if side == patch else "tab:cyan"))
            ax.text(c, r, str(g + 1), color="yellow", fontsize=6, ha="center", va="center")
        ax.set_title(f"{label}/{guess}", fontsize=8, color="black" if label == guess else "red")
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_canvases(panels: dict, path: str) -> str:
    """Plot DRAW's canvas after each step.

    For each `{title: (N, steps, H, W)}` panel, one row per image, one column per step.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    rows = sum(len(v) for v in panels.values())
    steps = next(iter(panels.values())).shape[1]
    fig, axes = plt.subplots(rows, steps, figsize=(0.7 * steps, 0.75 * rows), squeeze=False)
    row = 0
    for title, canvases in panels.items():
        for i, images in enumerate(np.asarray(canvases)):
            for t in range(steps):
                axes[row, t].imshow(images[t], cmap="gray", vmin=0, vmax=1)
                axes[row, t].axis("off")
                if row == 0:
                    axes[row, t].set_title(f"t={t + 1}", fontsize=7)
            if i == 0:
                axes[row, 0].text(-0.6, 0.5, title, fontsize=7, rotation=90, ha="right", va="center",
                                  transform=axes[row, 0].transAxes)
            row += 1
    fig.tight_layout()
    return save_figure(fig, path)
