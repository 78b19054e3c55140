"""`filters`, `neighbours`, `embedding`, `patches`, `occlusion`: looking inside a trained classifier."""

import os

from interpret.commands import checked_layer, image_run, method_parser, record
from train.errors import UserError

DESCRIPTIONS = {
    "filters": "first-layer convolution filters as an image grid",
    "neighbours": "nearest training images in feature space vs pixel space, and their label agreement",
    "embedding": "PCA and t-SNE of a layer's features of test images, coloured by label",
    "patches": "maximally activating patches of a layer's channels, cropped at computed receptive fields",
    "occlusion": "occlusion sensitivity: the class-score drop as a grey square slides over the image",
}


def _features(task, variables, layer):
    """`(N, ...) -> (N, D)` features of `layer`, flattened."""
    from interpret.features import layer_features

    fn = layer_features(task.logits, variables, [layer])
    return lambda x: fn(x)[layer].reshape(x.shape[0], -1)


def filters(argv: list[str]) -> str:
    """Run `python -m interpret filters`: a trained classifier's first-layer kernels as images.

    Args:
        argv: the command's arguments (see `python -m interpret filters --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("filters", DESCRIPTIONS["filters"], 1)
    p.add_argument("--layer", default=None, help="conv layer (default: the first conv* layer)")
    args, task, variables, _, _ = image_run(p, argv)
    from interpret.network import filter_images
    from train.generative_eval import save_grids

    layer = checked_layer(variables, args.layer) if args.layer else sorted(k for k in variables["params"]
                                                                          if k.startswith("conv"))[0]
    kernel = variables["params"][layer].get("kernel")
    if kernel is None or kernel.ndim != 4:
        raise UserError(f"--layer {layer} is not a 2-d convolution (its kernel has shape "
                        f"{None if kernel is None else kernel.shape})")
    figure = save_grids(os.path.join(args.workdir, "figures", f"filters_{layer}.png"),
                        {f"{layer}: {kernel.shape[-1]} filters {kernel.shape[0]}x{kernel.shape[1]}":
                         filter_images(kernel)})
    path = record(args.workdir, f"filters_{layer}", {"layer": layer, "kernel_shape": list(kernel.shape)})
    return f"{kernel.shape[-1]} filters of {layer} | {figure} | {path}"


def neighbours(argv: list[str]) -> str:
    """Run `python -m interpret neighbours`: nearest training images of test images.

    Args:
        argv: the command's arguments (see `python -m interpret neighbours --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("neighbours", DESCRIPTIONS["neighbours"], 6)
    p.add_argument("--layer", default="dense", help="feature layer (default: the penultimate 'dense')")
    p.add_argument("--k", type=int, default=5, help="neighbours per query")
    args, task, variables, x, labels = image_run(p, argv)
    import jax.numpy as jnp
    import numpy as np

    from interpret.figures import plot_rows
    from interpret.network import nearest_neighbours

    layer = checked_layer(variables, args.layer)
    features = _features(task, variables, layer)
    train, test = task.split("train"), task.split(args.split)
    bank_x, bank_y = jnp.asarray(train["inputs"]), np.asarray(train["label"])
    all_x, all_y = jnp.asarray(test["inputs"]), np.asarray(test["label"])
    found = {"features": nearest_neighbours(features(all_x), features(bank_x), args.k),
             "pixels": nearest_neighbours(all_x, bank_x, args.k)}
    agreement = {space: float((bank_y[np.asarray(idx)] == all_y[:, None]).mean()) for space, idx in found.items()}
    rows = {}
    for i in range(len(x)):
        for space, idx in found.items():
            rows[f"{i}: {space}"] = np.concatenate([np.asarray(x[i:i + 1]), np.asarray(bank_x)[np.asarray(idx[i])]])
    figure = plot_rows(rows, os.path.join(args.workdir, "figures", f"neighbours_{layer}.png"))
    result = {"layer": layer, "k": args.k, "queries": len(all_y), "label_agreement": agreement}
    path = record(args.workdir, f"neighbours_{layer}", result)
    return (f"{args.k} nearest training images of {len(all_y)} {args.split} images share the query's label "
            f"{agreement['features']:.1%} of the time in {layer} feature space, {agreement['pixels']:.1%} in pixel "
            f"space | {figure} | {path}")


def embedding(argv: list[str]) -> str:
    """Run `python -m interpret embedding`: 2-d embeddings of test images' features.

    Args:
        argv: the command's arguments (see `python -m interpret embedding --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("embedding", DESCRIPTIONS["embedding"], 1000)
    p.add_argument("--layer", default="dense", help="feature layer (default: the penultimate 'dense')")
    args, task, variables, x, labels = image_run(p, argv)
    import numpy as np

    from interpret.figures import plot_embedding
    from interpret.network import embed_2d

    layer = checked_layer(variables, args.layer)
    feats = np.asarray(_features(task, variables, layer)(x))
    coords = {f"PCA of {layer}": embed_2d(feats, "pca"), f"t-SNE of {layer}": embed_2d(feats, "tsne"),
              "PCA of pixels": embed_2d(np.asarray(x), "pca")}
    figure = plot_embedding(coords, np.asarray(labels), os.path.join(args.workdir, "figures", f"embedding_{layer}.png"))
    path = record(args.workdir, f"embedding_{layer}", {"layer": layer, "images": len(x), "split": args.split})
    return f"2-d embeddings of {len(x)} {args.split} images ({', '.join(coords)}) | {figure} | {path}"


def patches(argv: list[str]) -> str:
    """Run `python -m interpret patches`: the maximally activating patches of channels of a layer.

    Args:
        argv: the command's arguments (see `python -m interpret patches --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("patches", DESCRIPTIONS["patches"], 1000)
    p.add_argument("--layer", default=None, help="conv layer (default: the second conv* layer)")
    p.add_argument("--channels", type=int, nargs="+", default=list(range(8)), help="channels, one row each")
    p.add_argument("--k", type=int, default=10, help="patches per channel")
    args, task, variables, x, _ = image_run(p, argv)
    import numpy as np

    from interpret.features import layer_features
    from interpret.figures import plot_rows
    from interpret.network import max_activating_patches, receptive_field

    convs = sorted(k for k in variables["params"] if k.startswith("conv"))
    layer = checked_layer(variables, args.layer) if args.layer else convs[min(1, len(convs) - 1)]
    fn = layer_features(task.logits, variables, [layer])
    layer_fn = lambda images: fn(images)[layer]
    width = layer_fn(x[:1]).shape[-1]
    if not all(0 <= c < width for c in args.channels):
        raise UserError(f"--channels must be in 0..{width - 1} for {layer}; got {args.channels}")
    try:
        field = receptive_field(layer_fn, x.shape[-1], canvas=max(64, 4 * max(x.shape[1:3])))
    except ValueError as e:
        raise UserError(f"receptive field of {layer}: {e}") from None
    rows, tops = {}, {}
    for c in args.channels:
        found = max_activating_patches(layer_fn, x, c, field, k=min(args.k, len(x)))
        rows[f"channel {c}"] = np.asarray(found.patches)
        tops[c] = float(found.values[0])
    figure = plot_rows(rows, os.path.join(args.workdir, "figures", f"patches_{layer}.png"), cmap="gray_r")
    result = {"layer": layer, "receptive_field": field._asdict(), "top_activation": tops, "images": len(x)}
    path = record(args.workdir, f"patches_{layer}", result)
    return (f"top {args.k} patches of {len(args.channels)} channels of {layer} over {len(x)} images; receptive "
            f"field {field.size[0]}x{field.size[1]}, stride {field.stride[0]} | {figure} | {path}")


def occlusion(argv: list[str]) -> str:
    """Run `python -m interpret occlusion`: occlusion maps of test images.

    Args:
        argv: the command's arguments (see `python -m interpret occlusion --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("occlusion", DESCRIPTIONS["occlusion"], 8)
    p.add_argument("--size", type=int, default=3, help="occluder side in pixels")
    p.add_argument("--stride", type=int, default=1, help="occluder step in pixels")
    p.add_argument("--value", type=float, default=0.5, help="occluder grey level")
    args, task, variables, x, labels = image_run(p, argv)
    import numpy as np

    from interpret.attribution import occlusion as occlusion_maps
    from interpret.figures import plot_maps

    try:
        maps = np.asarray(occlusion_maps(task.logits, variables, x, labels, args.size, args.stride, args.value))
    except ValueError as e:
        raise UserError(str(e)) from None
    figure = plot_maps(np.asarray(x), {f"occlusion {args.size}x{args.size}": np.maximum(maps, 0)}, np.asarray(labels),
                       os.path.join(args.workdir, "figures", "occlusion.png"))
    result = {"size": args.size, "stride": args.stride, "value": args.value, "images": len(x),
              "max_score_drop": float(maps.max())}
    path = record(args.workdir, "occlusion", result)
    return f"occlusion maps of {len(x)} images, largest score drop {maps.max():.2f} | {figure} | {path}"
