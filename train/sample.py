"""`python -m train sample --workdir DIR [--prompt TEXT] [--length N] [--temperature T] [--top_k K]`:
continue a prompt with a trained language-model run (e.g. `charrnn`)."""

import jax

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
    if args.num_samples < 1:
        raise UserError("--num_samples must be >= 1")

    from train.restore import load_run
    from train.tasks.language_model import generate

    task, state, meta = load_run(args.workdir, expect_task="language_model")
    texts = generate(task, state.params, args.prompt, args.length, jax.random.key(args.seed), args.temperature,
                     args.top_k, args.num_samples)
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1} (step {meta['step']}, temperature {args.temperature}) ---")
        print(text)
