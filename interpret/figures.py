"""Figures shared by the interpretation methods."""

from train.figures import save_figure


def plot_examples(x, x_adv, labels, pred, path: str, count: int = 8) -> str:
    """Plot originals (top row, true label) over their adversarial versions (bottom row).

    The bottom row is titled with the predicted label, red when wrong.

    Args:
        x: `(N, H, W, C)` original images in [0, 1].
        x_adv: `(N, H, W, C)` adversarial images in [0, 1].
        labels: `(N,)` true labels.
        pred: `(N,)` predicted labels on `x_adv`.
        path: where to save the figure.
        count: how many of the first images to show.

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    count = min(count, len(x))
    fig, axes = plt.subplots(2, count, figsize=(1.4 * count, 3.2), squeeze=False)
    show = lambda im: im[..., 0] if im.shape[-1] == 1 else im
    for i in range(count):
        axes[0, i].imshow(show(x[i]), cmap="gray_r", vmin=0, vmax=1)
        axes[0, i].set_title(f"label {labels[i]}", fontsize=8)
        axes[1, i].imshow(show(x_adv[i]), cmap="gray_r", vmin=0, vmax=1)
        axes[1, i].set_title(f"pred {pred[i]}", fontsize=8, color="red" if pred[i] != labels[i] else "black")
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_maps(x, maps: dict, labels, path: str) -> str:
    """Plot images (top row) over one row of maps per method, each map scaled to its own maximum.

    Args:
        x: `(N, H, W, C)` images in [0, 1].
        maps: `{method: (N, H, W) map}`.
        labels: `(N,)` labels, shown as titles.
        path: where to save the figure.

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    count = len(x)
    fig, axes = plt.subplots(1 + len(maps), count, figsize=(1.3 * count, 1.35 * (1 + len(maps))), squeeze=False)
    for i in range(count):
        axes[0, i].imshow(x[i, ..., 0] if x.shape[-1] == 1 else x[i], cmap="gray_r", vmin=0, vmax=1)
        axes[0, i].set_title(f"label {labels[i]}", fontsize=8)
        for r, (name, m) in enumerate(maps.items(), start=1):
            axes[r, i].imshow(m[i], cmap="hot", vmin=0, vmax=max(float(m[i].max()), 1e-12))
            if i == 0:
                axes[r, 0].set_ylabel(name, fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return save_figure(fig, path)


def _show(ax, image, **kwargs):
    image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    ax.imshow(image, cmap=kwargs.pop("cmap", "gray_r" if image.ndim == 2 else None), **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_rows(rows: dict, path: str, cell: float = 1.2, cmap: str | None = None) -> str:
    """Plot one labelled row of images per entry of `rows`; rows may differ in length.

    Args:
        rows: `{label: images (n, H, W[, C])}` in [0, 1].
        path: where to save the figure.
        cell: the size of one image, in inches.
        cmap: the colormap of single-channel images (default: ink on paper).

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    cols = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(rows), cols, figsize=(cell * cols + 1.2, cell * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(cols):
            if c < len(images):
                _show(axes[r, c], images[c], vmin=0, vmax=1, **({"cmap": cmap} if cmap else {}))
            else:
                axes[r, c].axis("off")
        axes[r, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_embedding(coords: dict, labels, path: str) -> str:
    """Plot one scatter per `{method: (N, 2) coordinates}`, points coloured by integer `labels`.

    Returns:
        The path of the saved figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(coords), figsize=(4.2 * len(coords), 4), squeeze=False)
    for ax, (name, xy) in zip(axes[0], coords.items()):
        points = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=6)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes[0].tolist(), label="label", shrink=0.8)
    return save_figure(fig, path)
