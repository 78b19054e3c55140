"""`attack`, `attribution`, `fooling`: gradients of a trained classifier's scores."""

import os

from interpret.commands import image_run, method_parser, parser, record
from train.errors import UserError

DESCRIPTIONS = {
    "attack": "adversarial examples (FGSM / FGM / PGD) against a trained classifier: accuracy under attack",
    "attribution": "saliency, SmoothGrad, Integrated Gradients, guided backprop and Grad-CAM maps of test images",
    "fooling": "fooling images: gradient ascent from test images to a chosen class, steps and perturbation",
    "segment": "saliency as segmentation: random-walker masks from class saliency, mean IoU vs a centre box",
}

def _attack_parser():
    p = parser("attack", DESCRIPTIONS["attack"], "a classification run (e.g. runs/classify_digits)")
    p.add_argument("--method", choices=("fgsm", "pgd"), default="pgd", help="one step, or projected gradient descent")
    p.add_argument("--eps", type=float, default=0.1, help="perturbation budget (pixels in [0, 1])")
    p.add_argument("--norm", choices=("linf", "l2"), default="linf", help="norm of the budget")
    p.add_argument("--steps", type=int, default=40, help="PGD steps")
    p.add_argument("--restarts", type=int, default=5, help="PGD random restarts")
    p.add_argument("--step_size", type=float, default=None, help="PGD step size (default 2.5 eps / steps)")
    p.add_argument("--target", type=int, default=None, help="targeted attack towards this class")
    p.add_argument("--split", default="test", help="dataset split to attack")
    p.add_argument("--seed", type=int, default=0, help="random starts")
    return p


def attack(argv: list[str]) -> str:
    """Run `python -m interpret attack`: adversarial examples against a trained classifier.

    Args:
        argv: the command's arguments (see `python -m interpret attack --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    args = _attack_parser().parse_args(argv)
    if args.eps < 0 or args.steps < 1 or args.restarts < 1:
        raise UserError("--eps must be >= 0, --steps and --restarts >= 1")

    import jax
    import jax.numpy as jnp
    import numpy as np

    from interpret.adversarial import fgsm, pgd
    from interpret.figures import plot_examples
    from interpret.robustness import accuracy_and_confidence
    from train.restore import load_model

    task, state, meta = load_model(args.workdir, args.pretrained, expect_task="classification")
    split = task.split(args.split)
    x, labels = jnp.asarray(split["inputs"]), jnp.asarray(split["label"])
    num_classes = task.config.model.num_classes
    if args.target is not None and not 0 <= args.target < num_classes:
        raise UserError(f"--target must be a class in 0..{num_classes - 1}; got {args.target}")
    goal = labels if args.target is None else jnp.full_like(labels, args.target)
    targeted = args.target is not None
    params = state.variables()
    if args.method == "fgsm":
        x_adv, success = fgsm(task.logits, params, x, goal, args.eps, norm=args.norm, targeted=targeted)
    else:
        step_size = args.step_size or 2.5 * args.eps / args.steps
        x_adv, success = pgd(task.logits, params, x, goal, args.eps, step_size, args.steps, jax.random.key(args.seed),
                             restarts=args.restarts, norm=args.norm, targeted=targeted)
    delta = np.asarray(x_adv - x).reshape(len(x), -1)
    name = f"attack_{args.method}_{args.norm}_eps{args.eps:g}" + (f"_target{args.target}" if targeted else "")
    result = {
        "clean": accuracy_and_confidence(task.logits, params, x, labels),
        "adversarial": accuracy_and_confidence(task.logits, params, x_adv, labels),
        "success_rate": float(np.mean(np.asarray(success))),
        "mean_l2_perturbation": float(np.linalg.norm(delta, axis=1).mean()),
        "max_linf_perturbation": float(np.abs(delta).max()),
        "examples": len(x), "split": args.split, "args": vars(args),
    }
    if x.ndim == 4:
        pred = np.asarray(jnp.argmax(task.logits(params, x_adv), -1))
        plot_examples(np.asarray(x), np.asarray(x_adv), np.asarray(labels), pred,
                      os.path.join(args.workdir, "figures", f"{name}.png"))
    path = record(args.workdir, name, result)
    return (f"{name} on {len(x)} {args.split} examples: accuracy {result['clean']['accuracy']:.4f} -> "
            f"{result['adversarial']['accuracy']:.4f}, success rate {result['success_rate']:.4f}, mean L2 "
            f"perturbation {result['mean_l2_perturbation']:.3f} | {path}")


def attribution(argv: list[str]) -> str:
    """Run `python -m interpret attribution`: attribution maps of test images.

    Args:
        argv: the command's arguments (see `python -m interpret attribution --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("attribution", DESCRIPTIONS["attribution"], 8)
    p.add_argument("--layer", default=None, help="conv layer for Grad-CAM (default: the last conv* layer)")
    p.add_argument("--steps", type=int, default=64, help="Integrated Gradients path steps")
    args, task, variables, x, labels = image_run(p, argv)

    import jax
    import jax.numpy as jnp
    import numpy as np

    from interpret import attribution as attr
    from interpret.figures import plot_maps

    convs = sorted(k for k in variables["params"] if k.startswith("conv"))
    layer = args.layer or (convs[-1] if convs else None)
    maps = {"saliency": attr.saliency(task.logits, variables, x, labels),
            "SmoothGrad": attr.to_map(attr.smoothgrad(task.logits, variables, x, labels, jax.random.key(0))),
            "guided backprop": attr.to_map(attr.guided_backprop(task.model, variables, x, labels, train=False))}
    ig = attr.integrated_gradients(task.logits, variables, x, labels, steps=args.steps)
    maps["Integrated Gradients"] = attr.to_map(ig)
    if layer is not None:
        try:
            maps[f"Grad-CAM ({layer})"] = attr.grad_cam(task.logits, variables, x, labels, layer)
        except ValueError as e:
            raise UserError(f"--layer: {e}") from None
    scores = lambda x: jnp.take_along_axis(task.logits(variables, x), labels[:, None], 1)[:, 0]
    gap = np.asarray(scores(x) - scores(jnp.zeros_like(x)))
    completeness = float(np.abs(np.asarray(ig.sum(axis=(1, 2, 3))) - gap).max())
    figure = plot_maps(np.asarray(x), {k: np.asarray(v) for k, v in maps.items()}, np.asarray(labels),
                       os.path.join(args.workdir, "figures", "attribution.png"))
    result = {"methods": list(maps), "images": len(x), "split": args.split, "grad_cam_layer": layer,
              "integrated_gradients_completeness_error": completeness, "ig_steps": args.steps}
    path = record(args.workdir, "attribution", result)
    return (f"attribution maps of {len(x)} {args.split} images ({', '.join(maps)}); Integrated Gradients "
            f"completeness error {completeness:.2e} | {figure} | {path}")


def fooling(argv: list[str]) -> str:
    """Run `python -m interpret fooling`: gradient ascent from test images to a chosen class.

    Args:
        argv: the command's arguments (see `python -m interpret fooling --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("fooling", DESCRIPTIONS["fooling"], 50)
    p.add_argument("--target", type=int, required=True, help="class every image is pushed to")
    p.add_argument("--step_size", type=float, default=0.1, help="L2 length of each normalized gradient step")
    p.add_argument("--max_steps", type=int, default=200, help="steps before giving up on an image")
    args, task, variables, x, labels = image_run(p, argv)
    classes = task.config.model.num_classes
    if not 0 <= args.target < classes:
        raise UserError(f"--target must be a class in 0..{classes - 1}; got {args.target}")

    import jax.numpy as jnp
    import numpy as np

    from interpret.figures import plot_examples
    from interpret.synthesis import fooling_images

    result = fooling_images(task.logits, variables, x, jnp.full_like(labels, args.target), args.step_size,
                            args.max_steps)
    pred = np.asarray(jnp.argmax(task.logits(variables, result.images), -1))
    name = f"fooling_target{args.target}"
    plot_examples(np.asarray(x), np.asarray(result.images), np.asarray(labels), pred,
                  os.path.join(args.workdir, "figures", f"{name}.png"))
    fooled = np.asarray(result.fooled)
    numbers = {"fooled_fraction": float(fooled.mean()), "mean_l2": float(np.asarray(result.l2)[fooled].mean()),
               "mean_steps": float(np.asarray(result.steps)[fooled].mean()), "images": len(x), "split": args.split,
               "args": vars(args)}
    path = record(args.workdir, name, numbers)
    return (f"{name}: {numbers['fooled_fraction']:.0%} of {len(x)} {args.split} images now predicted "
            f"{args.target}, mean L2 perturbation {numbers['mean_l2']:.3f}, mean steps {numbers['mean_steps']:.1f} "
            f"| {path}")




def segment(argv: list[str]) -> str:
    """Run `python -m interpret segment`: saliency as segmentation, scored against a centre box.

    Args:
        argv: the command's arguments (see `python -m interpret segment --help`).

    Returns:
        The one-line result the command line prints; figures go to `WORKDIR/figures/` and
        numbers into `WORKDIR/summary.json`.

    Raises:
        UserError: on bad arguments or a run the method cannot use.
    """
    p = method_parser("segment", DESCRIPTIONS["segment"], 500)
    p.add_argument("--method", choices=("saliency", "smoothgrad"), default="saliency", help="map that seeds the mask")
    p.add_argument("--sigma", type=float, default=2.0, help="Gaussian blur of the map, pixels")
    p.add_argument("--foreground", type=float, default=0.99, help="map quantile above which pixels seed the object")
    p.add_argument("--background", type=float, default=0.85, help="map quantile below which pixels seed the background")
    args, task, variables, x, labels = image_run(p, argv)
    import jax
    import numpy as np

    from interpret import attribution as attr
    from interpret.figures import plot_rows
    from interpret.segmentation import centre_box, fit_centre_box, mask_iou, saliency_segmentation
    from train import data

    def masks_of(split):
        arrays = data.load(task.config.dataset, split, task.config.data_dir or None)
        if "segmentation" not in arrays:
            raise UserError(f"segment needs a dataset with object masks (a 'segmentation' feature), such as "
                            f"shapes_captions/single (python -m train classify_shapes); this run used "
                            f"'{task.config.dataset}'")
        return arrays["segmentation"] > 0

    true = masks_of(args.split)[:args.count]
    if args.method == "saliency":
        maps = attr.saliency(task.logits, variables, x, labels, batch_size=64)
    else:
        maps = attr.to_map(attr.smoothgrad(task.logits, variables, x, labels, jax.random.key(0), batch_size=16))
    maps = np.asarray(maps)
    try:
        masks = saliency_segmentation(np.asarray(x), maps, args.sigma, args.foreground, args.background)
    except ValueError as e:
        raise UserError(str(e)) from None
    half = fit_centre_box(masks_of("train"))
    box = np.broadcast_to(centre_box(true.shape[1:], half), true.shape)
    iou, box_iou = mask_iou(masks, true), mask_iou(box, true)
    shown = slice(0, min(8, len(x)))
    scaled = maps[shown] / maps[shown].max(axis=(1, 2), keepdims=True)
    figure = plot_rows({"image": np.asarray(x[shown]), args.method: scaled,
                        "mask": masks[shown], "true mask": true[shown], "centre box": box[shown]},
                       os.path.join(args.workdir, "figures", f"segment_{args.method}.png"), cmap="gray")
    result = {"mean_iou": float(iou.mean()), "centre_box_mean_iou": float(box_iou.mean()), "centre_box_half": half,
              "images": len(x), "split": args.split, "args": vars(args)}
    path = record(args.workdir, f"segment_{args.method}", result)
    return (f"{args.method} segmentation of {len(x)} {args.split} scenes: mean IoU {result['mean_iou']:.3f} vs "
            f"{result['centre_box_mean_iou']:.3f} for the best centre box ({2 * half}x{2 * half}) | {figure} | {path}")
