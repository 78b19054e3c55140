"""`python -m train sample --workdir DIR [--prompt TEXT] [--length N] [--temperature T] [--top_k K]`:
continue a prompt with a trained language-model run (e.g. `charrnn`)."""

import os

import jax
import ml_collections

from train.checkpoint import Checkpointer
from train.arguments import ArgumentParser
from train.errors import UserError


def main(argv: list[str]) -> None:
    parser = ArgumentParser(prog="python -m train sample", description="Sample text from a trained language model.")
    parser.add_argument("--workdir", required=True, help="directory of a finished or interrupted language-model run")
    parser.add_argument("--prompt", default="The ", help="text to continue (default 'The ')")
    parser.add_argument("--length", type=int, default=400, help="characters to generate")
    parser.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy")
    parser.add_argument("--top_k", type=int, default=0, help="sample among the k likeliest characters; 0 = all")
    parser.add_argument("--num_samples", type=int, default=1, help="independent continuations")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    args = parser.parse_args(argv)
    directory = os.path.join(args.workdir, "checkpoints")
    if not os.path.isdir(directory):
        raise UserError(f"no checkpoints in {args.workdir}; train one first: python -m train charrnn --workdir {args.workdir}")
    if args.num_samples < 1:
        raise UserError("--num_samples must be >= 1")

    from train.optim import make_optimizer
    from train.tasks.language_model import LanguageModel, generate

    ckpt = Checkpointer(directory)
    meta = ckpt.read_meta()
    config = ml_collections.ConfigDict(meta["config"])
    if config.task != "language_model":
        raise UserError(f"{args.workdir} holds a '{config.task}' run ({meta['recipe']}); sample needs a language "
                        f"model such as charrnn")
    task = LanguageModel(config, vocab=meta["vocab"])
    tx, _ = make_optimizer(config.optimizer, config.num_steps)
    state, _ = ckpt.restore(task.create_state(jax.random.key(0), tx))
    ckpt.close()
    texts = generate(task, state.params, args.prompt, args.length, jax.random.key(args.seed), args.temperature,
                     args.top_k, args.num_samples)
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1} (step {meta['step']}, temperature {args.temperature}) ---")
        print(text)
