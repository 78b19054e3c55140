"""`python -m train sample --workdir DIR | --pretrained NAME [...]`: sample from a run or shipped model.

What is sampled depends on the model:

- a language model (e.g. `charrnn`): continue `--prompt` for `--length` characters;
- a captioner (`caption_shapes`, `caption_shapes_attention`): caption the first `--count` images of
  `--split` (greedy and beam search) and score the whole split's BLEU with the vocabulary saved in
  the checkpoint;
- a translator (`translate_dates`, `translate_dates_attention`, `translate_addition`): translate each
  `--text`, or the first `--count` sources of `--split`, greedily and with beam search.
"""

import jax

from train.arguments import ArgumentParser
from train.errors import UserError


def main(argv: list[str]) -> None:
    """Run `python -m train sample` on the command-line arguments `argv`."""
    parser = ArgumentParser(prog="python -m train sample", description="Sample from a trained language model, captioner or translator.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--workdir", help="directory of a finished or interrupted run")
    source.add_argument("--pretrained", metavar="NAME", help="a shipped model (zoo.pretrained) instead of a run")
    parser.add_argument("--prompt", default="The ", help="language models: text to continue (default 'The ')")
    parser.add_argument("--length", type=int, default=400, help="language models: characters to generate")
    parser.add_argument("--temperature", type=float, default=0.8, help="language models: softmax temperature; 0 = greedy")
    parser.add_argument("--top_k", type=int, default=0, help="language models: sample among the k likeliest; 0 = all")
    parser.add_argument("--num_samples", type=int, default=1, help="language models: independent continuations")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--split", default="test", help="captioners: split to caption and score")
    parser.add_argument("--count", type=int, default=5, help="captioners, translators: examples of --split printed")
    parser.add_argument("--text", action="append", default=[], help="translators: a string to translate (repeatable)")
    args = parser.parse_args(argv)
    if args.num_samples < 1 or args.count < 0:
        raise UserError("--num_samples must be >= 1 and --count >= 0")

    from train.restore import load_model

    task, state, meta = load_model(args.workdir, args.pretrained)
    if task.config.task in ("captioning", "translation"):
        (_captions if task.config.task == "captioning" else _translations)(task, state, args)
        return
    if task.config.task != "language_model":
        raise UserError(f"{args.workdir or args.pretrained} holds a '{task.config.task}' model; sample needs a language model, a captioner "
                        f"or a translator")
    from train.tasks.language_model import generate

    texts = generate(task, state.params, args.prompt, args.length, jax.random.key(args.seed), args.temperature,
                     args.top_k, args.num_samples)
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1} (step {meta['step']}, temperature {args.temperature}) ---")
        print(text)


def _captions(task, state, args):
    import json

    images = task.split_raw(args.split)["image"][:args.count]
    width = task.config.decode.beam_width
    greedy, _ = task.caption(state.variables(), images)
    beam, _ = task.caption(state.variables(), images, width)
    for i in range(len(images)):
        print(f"image {i}: greedy: {' '.join(greedy[i])}\n         beam {width}: {' '.join(beam[i])}")
    scores = task.scores(state.variables(), args.split)
    scores.pop("examples")
    print(json.dumps({"split": args.split, **scores}))


def _translations(task, state, args):
    texts = args.text or task.split_raw(args.split)["source"][:args.count]
    width = task.config.decode.beam_width
    greedy, _ = task.translate(state.params, texts)
    beam = task.translate(state.params, texts, width)[0] if width > 1 else greedy
    for text, g, b in zip(texts, greedy, beam):
        print(f"{text} -> {g}" + (f"   (beam {width}: {b})" if b != g else ""))
