"""`python -m interpret METHOD --workdir DIR [...]`: run an interpretation method on a trained
run; figures go to `DIR/figures/`, numbers into `DIR/summary.json` under `"interpret"`.

`python -m interpret --list` lists the methods.
"""

import json
import os
import sys

from train.arguments import ArgumentParser
from train.errors import UserError

METHODS = {"attack": "adversarial examples (FGSM / FGM / PGD) against a trained classifier: accuracy under attack"}


def _attack_parser():
    p = ArgumentParser(prog="python -m interpret attack", description=METHODS["attack"])
    p.add_argument("--workdir", required=True, help="a classification run (e.g. runs/classify_digits)")
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
    args = _attack_parser().parse_args(argv)
    if args.eps < 0 or args.steps < 1 or args.restarts < 1:
        raise UserError("--eps must be >= 0, --steps and --restarts >= 1")

    import jax
    import jax.numpy as jnp
    import numpy as np

    from interpret.adversarial import fgsm, pgd
    from interpret.figures import plot_examples
    from interpret.robustness import accuracy_and_confidence
    from train.files import write_json_atomic
    from train.restore import load_run

    task, state, meta = load_run(args.workdir, expect_task="classification")
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
    path = os.path.join(args.workdir, "summary.json")
    summary = json.load(open(path)) if os.path.exists(path) else {}
    summary.setdefault("interpret", {})[name] = result
    write_json_atomic(path, summary)
    return (f"{name} on {len(x)} {args.split} examples: accuracy {result['clean']['accuracy']:.4f} -> "
            f"{result['adversarial']['accuracy']:.4f}, success rate {result['success_rate']:.4f}, mean L2 "
            f"perturbation {result['mean_l2_perturbation']:.3f} | {path}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if argv[0] == "--list":
            for name, description in METHODS.items():
                print(f"{name:12s} {description}")
            return 0
        if argv[0] not in METHODS:
            raise UserError(f"unknown method '{argv[0]}'; choose one of: {', '.join(METHODS)} (python -m interpret --list)")
        print(attack(argv[1:]))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0
