"""`visualize`, `deepdream`, `invert`, `texture`, `style`: images made by optimization."""

import os

from interpret.commands import checked_layer, image_run, last_layer, method_parser, parser, record
from train.errors import UserError

DESCRIPTIONS = {
    "visualize": "class visualization by gradient ascent: from zeros, multi-faceted, and in a VAE/GAN latent space",
    "deepdream": "DeepDream: amplify a layer's activations in images, with octaves and jitter",
    "invert": "feature inversion: reconstruct images from one layer's features with a total-variation prior",
    "texture": "texture synthesis by Gram-matrix matching on a bundled texture (random multi-scale or VGG-16 features)",
    "style": "neural style transfer between bundled images: content, style and TV losses",
}
VGG_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")


def _sample_image(name: str, size: int):
    """`(1, size, size, 3)` bundled `sample_images` picture `name`, centre-cropped square and resized."""
    import jax
    import jax.numpy as jnp

    from train import data
    from train.data.bundled import SAMPLE_IMAGES

    if name not in SAMPLE_IMAGES:
        raise UserError(f"unknown image {name!r}; the bundled sample_images are: {', '.join(SAMPLE_IMAGES)}")
    loaded = data.load("sample_images", "train")
    image = loaded["image"][loaded["name"].index(name)]
    h, w = image.shape[:2]
    side = min(h, w)
    crop = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    return jax.image.resize(jnp.asarray(crop)[None], (1, size, size, 3), "bilinear")


def _vgg_features(path: str, layers):
    """A feature function over VGG-16 layers with torchvision weights from the local file `path`."""
    from interpret.features import layer_features
    from zoo.vgg import VGG16, load_torchvision_vgg16

    if not os.path.isfile(path):
        raise UserError(f"--vgg {path}: no such file; pass a torchvision vgg16-*.pth you already have")
    try:
        variables = load_torchvision_vgg16(path)
    except (ImportError, ValueError) as e:
        raise UserError(f"--vgg {path}: {e}") from None
    return layer_features(VGG16(include_top=False).apply, variables, layers)


def _source(p, argv, default_layer_prefix="conv"):
    """Parse a synthesis command's source: a trained run's layer on its test images, or a VGG-16 layer.

    With `--vgg`, a VGG-16 layer on the bundled `--image`. Returns `(args, feature_fn, layer, images)`.
    """
    p.add_argument("--layer", default=None, help="layer (default: the run's last conv layer, or conv4_3 with --vgg)")
    p.add_argument("--vgg", default=None, help="torchvision vgg16 .pth file: use VGG-16 on --image instead of the run")
    p.add_argument("--image", default="chelsea", help="bundled sample image for --vgg")
    p.add_argument("--size", type=int, default=224, help="image side for --vgg")
    args = p.parse_args(argv)
    if args.vgg:
        layer = args.layer or "conv4_3"
        return args, _vgg_features(args.vgg, [layer]), layer, _sample_image(args.image, args.size)
    from interpret.features import layer_features

    args, task, variables, x, _ = image_run(p, argv)
    layer = checked_layer(variables, args.layer) if args.layer else last_layer(variables, default_layer_prefix)
    return args, layer_features(task.logits, variables, [layer]), layer, x


def _decoder(workdir: str):
    """`(decode(z) -> images in [0, 1], latent_dim, kind)` from a vae or gan run."""
    import jax
    import jax.numpy as jnp

    import zoo
    from train.restore import load_run

    task, state, meta = load_run(workdir)
    if task.config.task == "vae":
        variables = state.variables()
        return (lambda z: jax.nn.sigmoid(task.model.apply(variables, z, method=zoo.VAE.decode)),
                task.model.latent, "VAE")
    if task.config.task == "gan":
        labels = lambda z: jnp.zeros((z.shape[0],), jnp.int32)
        return (lambda z: task.generate(state.params, state.batch_stats, z, labels(z), False)[0],
                task.config.gan.latent, "GAN")
    raise UserError(f"--decoder needs a vae or gan run (e.g. python -m train vae_digits); {workdir} holds a "
                    f"'{task.config.task}' run")


def visualize(argv: list[str]) -> str:
    """Run `python -m interpret visualize`: class visualizations by gradient ascent.

    Args:
        argv: the command's arguments (see `python -m interpret visualize --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("visualize", DESCRIPTIONS["visualize"], 1)
    p.add_argument("--steps", type=int, default=200, help="gradient-ascent steps")
    p.add_argument("--facet_class", type=int, default=0, help="class whose facets are visualized")
    p.add_argument("--facets", type=int, default=4, help="k-means clusters of that class's training images")
    p.add_argument("--facet_steps", type=int, default=50, help="ascent steps from each cluster mean")
    p.add_argument("--facet_learning_rate", type=float, default=0.02,
                   help="small, so that each facet keeps the layout of the cluster it started from")
    p.add_argument("--decoder", default=None, help="a vae or gan run: also ascend in its latent space")
    p.add_argument("--seed", type=int, default=0, help="jitter and latent starts")
    args, task, variables, x, _ = image_run(p, argv)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from interpret.features import layer_features
    from interpret.figures import plot_rows
    from interpret.synthesis import class_visualization, latent_visualization, multifaceted_visualization

    classes = task.config.model.num_classes
    if not 0 <= args.facet_class < classes or args.facets < 1 or args.steps < 1:
        raise UserError(f"--facet_class must be in 0..{classes - 1}, --facets and --steps >= 1")
    decoder = _decoder(args.decoder) if args.decoder else None  # a wrong run fails before the ascents
    rng = jax.random.key(args.seed)
    predict = lambda images: np.asarray(task.logits(variables, images)).argmax(-1)
    targets = jnp.arange(classes)
    rows, hits = {}, {}
    made = class_visualization(task.logits, variables, targets, x.shape[1:], rng, steps=args.steps)
    rows["pixel space"], hits["pixel_space"] = np.asarray(made), float((predict(made) == np.arange(classes)).mean())
    train = task.split("train")
    members = jnp.asarray(train["inputs"][np.asarray(train["label"]) == args.facet_class])
    feature = last_layer(variables, "dense")
    features = layer_features(task.logits, variables, [feature])
    facets = multifaceted_visualization(task.logits, variables, lambda im: features(im)[feature], members,
                                        args.facet_class, min(args.facets, len(members)), rng, steps=args.facet_steps,
                                        learning_rate=args.facet_learning_rate, blur_every=0)
    rows[f"class {args.facet_class}: cluster means"] = np.asarray(facets.starts)
    rows[f"class {args.facet_class}: facets"] = np.asarray(facets.images)
    hits["facets"] = float((predict(facets.images) == args.facet_class).mean())
    if decoder:
        decode, latent, kind = decoder
        found = latent_visualization(task.logits, variables, decode, targets, latent, rng, steps=args.steps)
        rows[f"{kind} latent space"] = np.asarray(found.images)
        hits["latent_space"] = float((predict(found.images) == np.arange(classes)).mean())
    figure = plot_rows(rows, os.path.join(args.workdir, "figures", "visualize.png"))
    path = record(args.workdir, "visualize", {"classified_as_target": hits, "args": vars(args)})
    return (f"class visualizations classified as their target: "
            f"{', '.join(f'{k} {v:.0%}' for k, v in hits.items())} | {figure} | {path}")


def deepdream(argv: list[str]) -> str:
    """Run `python -m interpret deepdream`: DeepDream on a layer.

    Args:
        argv: the command's arguments (see `python -m interpret deepdream --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("deepdream", DESCRIPTIONS["deepdream"], 4)
    p.add_argument("--steps", type=int, default=20, help="ascent steps per octave")
    p.add_argument("--octaves", type=int, default=2, help="scales, each octave_scale times the last")
    p.add_argument("--octave_scale", type=float, default=1.4, help="ratio between octaves")
    p.add_argument("--learning_rate", type=float, default=0.02, help="step per unit mean gradient")
    args, features, layer, x = _source(p, argv)
    import jax
    import numpy as np

    from interpret.figures import plot_rows
    from interpret.style import deepdream as dream

    result = dream(features, x, layer, jax.random.key(0), steps=args.steps, learning_rate=args.learning_rate,
                   octaves=args.octaves, octave_scale=args.octave_scale)
    before, after = (float(v) for v in result.losses)
    figure = plot_rows({"image": np.asarray(x), f"dream ({layer})": np.asarray(result.image)},
                       os.path.join(args.workdir, "figures", f"deepdream_{layer}.png"), cell=2.0)
    path = record(args.workdir, f"deepdream_{layer}", {"objective_before": before, "objective_after": after,
                                                       "args": vars(args)})
    return f"DeepDream on {layer}: mean squared activation / 2 {before:.3g} -> {after:.3g} | {figure} | {path}"


def invert(argv: list[str]) -> str:
    """Run `python -m interpret invert`: images reconstructed from a layer's features.

    Args:
        argv: the command's arguments (see `python -m interpret invert --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("invert", DESCRIPTIONS["invert"], 4)
    p.add_argument("--steps", type=int, default=300, help="Adam steps")
    p.add_argument("--tv_weight", type=float, default=1e-2, help="weight of the total-variation prior")
    args, features, layer, x = _source(p, argv)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from interpret.figures import plot_rows
    from interpret.style import invert_features

    result = invert_features(features, x, layer, jax.random.key(0), steps=args.steps, tv_weight=args.tv_weight)
    target = features(x)[layer]
    relative = float(jnp.linalg.norm(features(result.image)[layer] - target) / jnp.linalg.norm(target))
    figure = plot_rows({"image": np.asarray(x), f"from {layer}": np.asarray(result.image)},
                       os.path.join(args.workdir, "figures", f"invert_{layer}.png"), cell=2.0)
    numbers = {"relative_feature_error": relative, "pixel_mse": float(jnp.mean((result.image - x) ** 2)),
               "args": vars(args)}
    path = record(args.workdir, f"invert_{layer}", numbers)
    return (f"inverted {len(x)} images from {layer}: relative feature error {relative:.3f}, pixel MSE "
            f"{numbers['pixel_mse']:.4f} | {figure} | {path}")


def _style_parser(name):
    p = parser(name, DESCRIPTIONS[name], "output folder (figures/ and summary.json go there)", pretrained=False)
    p.add_argument("--size", type=int, default=128, help="side of the square images")
    p.add_argument("--steps", type=int, default=300, help="Adam steps")
    p.add_argument("--vgg", default=None, help="torchvision vgg16 .pth file: VGG-16 conv1_1..conv5_1 features "
                                               "instead of random multi-scale filters")
    p.add_argument("--seed", type=int, default=0, help="random filters and starting noise")
    return p


def _style_features(args):
    """`(feature_fn, style layers, content layers, description)` for texture and style."""
    import jax

    from interpret.features import random_multiscale

    if args.size < 32 or args.steps < 1:
        raise UserError(f"--size must be >= 32 and --steps >= 1; got {args.size}, {args.steps}")
    if args.vgg:
        return _vgg_features(args.vgg, VGG_STYLE_LAYERS + ("conv4_2",)), VGG_STYLE_LAYERS, ("conv4_2",), "VGG-16"
    sizes = (3, 5, 7, 11)
    return (random_multiscale(jax.random.key(args.seed), sizes), tuple(f"k{s}" for s in sizes), ("k3",),
            "random multi-scale filters")


def texture(argv: list[str]) -> str:
    """Run `python -m interpret texture`: texture synthesis from a bundled image.

    Args:
        argv: the command's arguments (see `python -m interpret texture --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = _style_parser("texture")
    p.add_argument("--texture", default="brick", help="bundled sample image to imitate")
    args = p.parse_args(argv)
    features, layers, _, kind = _style_features(args)
    import jax
    import numpy as np

    from interpret.figures import plot_rows
    from interpret.style import synthesize_texture

    source = _sample_image(args.texture, args.size)
    result = synthesize_texture(features, source, (args.size, args.size, 3), jax.random.key(args.seed), layers,
                                steps=args.steps)
    first, last = float(result.losses[0]), float(result.losses[-1])
    figure = plot_rows({args.texture: np.asarray(source), "synthesized": np.asarray(result.image)},
                       os.path.join(args.workdir, "figures", f"texture_{args.texture}.png"), cell=3.0)
    numbers = {"gram_loss_initial": first, "gram_loss_final": last, "reduction": first / last, "features": kind,
               "args": vars(args)}
    path = record(args.workdir, f"texture_{args.texture}", numbers)
    return (f"texture {args.texture} with {kind}: Gram loss {first:.3g} -> {last:.3g} ({first / last:,.0f}x lower) "
            f"| {figure} | {path}")


def style(argv: list[str]) -> str:
    """Run `python -m interpret style`: style transfer between bundled images.

    Args:
        argv: the command's arguments (see `python -m interpret style --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = _style_parser("style")
    p.add_argument("--content", default="chelsea", help="bundled sample image giving the content")
    p.add_argument("--style", dest="style_image", default="gravel", help="bundled sample image giving the style")
    p.add_argument("--style_weight", type=float, default=1e3, help="style loss weight (content weight is 1)")
    p.add_argument("--tv_weight", type=float, default=1e-1, help="total-variation weight")
    args = p.parse_args(argv)
    features, style_layers, content_layers, kind = _style_features(args)
    import numpy as np

    from interpret.features import gram
    from interpret.figures import plot_rows
    from interpret.style import content_loss, style_loss, style_transfer

    content, style_image = _sample_image(args.content, args.size), _sample_image(args.style_image, args.size)
    result = style_transfer(features, content, style_image, content_layers, style_layers, args.style_weight,
                            args.tv_weight, steps=args.steps)
    f_result, f_content, f_style = features(result.image), features(content), features(style_image)
    grams = {k: gram(f_style[k]) for k in style_layers}
    numbers = {
        "style_loss": {"result": float(style_loss(f_result, grams, style_layers)),
                       "content_image": float(style_loss(f_content, grams, style_layers))},
        "content_loss": {"result": float(content_loss(f_result, f_content, content_layers)),
                         "style_image": float(content_loss(f_style, f_content, content_layers))},
        "features": kind, "args": vars(args)}
    figure = plot_rows({"content, style, result": np.concatenate([content, style_image, result.image])},
                       os.path.join(args.workdir, "figures", f"style_{args.content}_{args.style_image}.png"), cell=3.0)
    path = record(args.workdir, f"style_{args.content}_{args.style_image}", numbers)
    s, c = numbers["style_loss"], numbers["content_loss"]
    return (f"{args.content} in the style of {args.style_image} ({kind}): style loss {s['result']:.3g} vs "
            f"{s['content_image']:.3g} for the photo ({s['content_image'] / s['result']:,.0f}x lower); content loss "
            f"{c['result']:.3g} vs {c['style_image']:.3g} for the style image | {figure} | {path}")
