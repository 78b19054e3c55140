"""`python -m train export --workdir RUN [--pretrained NAME] [--batch N]`: serialize a model with `jax.export`.

The inference function of a trained classifier, captioner (greedy decoding) or translator
becomes a serialized `jax.export` artifact, its parameters baked in, that runs wherever jax
does, without jaxzoo.

Writes `RUN/export/model.bin` (the bytes of `jax.export.Exported.serialize()`) and
`RUN/export/signature.json`: the input and output names, shapes (`null` for the batch size when
it is free, the default) and dtypes, the run's recipe and step, and for token outputs the
vocabularies they index. Loading it needs only jax and numpy:

    from jax import export
    exported = export.deserialize(bytearray(open("RUN/export/model.bin", "rb").read()))
    logits = exported.call(images)          # a classifier: (N, H, W, C) float32 -> (N, classes)
"""

import json
import os
import shutil

import jax
import jax.numpy as jnp

from train.arguments import ArgumentParser
from train.errors import UserError
from train.files import write_json_atomic


def inference(task, state) -> tuple:
    """Return `(f, (input name, shape, dtype), output name, extra)` for a restored run.

    `f`, mapping inputs of shape `(N, *shape)` to outputs `(N, ...)`, closes over the trained
    variables; `extra` is JSON for the signature (vocabularies). Shapes exclude the batch axis.
    """
    kind = task.config.task
    variables = state.variables()
    if kind == "classification":
        def logits(x):
            return task.logits(variables, x).astype(jnp.float32)
        return logits, ("inputs", task.feature_shape("inputs"), "float32"), "logits", {}
    if kind == "captioning":
        greedy, _ = task.decoders

        def caption(images):
            return greedy(variables, images)[0]
        vocab = {"vocabulary": task.vocab.words, "note": "tokens index the vocabulary; a caption ends at '<end>'"}
        return caption, ("images", task.feature_shape("image"), "float32"), "tokens", vocab
    if kind == "translation":
        greedy, _ = task.decoders

        def translate(source):
            return greedy(variables, source)[0]
        vocab = {"source_vocabulary": task.vocab["source"].words, "target_vocabulary": task.vocab["target"].words,
                 "note": "source: one id per character, then '<end>', then '<pad>' (0); the output ends at '<end>'"}
        return translate, ("source_tokens", (task.max_source,), "int32"), "target_tokens", vocab
    raise UserError(f"export takes a classification, captioning or translation run; this one is '{kind}'")


def export_run(workdir: str, batch: int | None = None, pretrained: str | None = None) -> str:
    """Write `workdir/export/` (see the module docstring) and return its path.

    The artifact is of the run in `workdir`, or of the shipped model `pretrained`. `batch` fixes
    the batch size; by default it is symbolic, so the artifact takes any.
    """
    from train.restore import load_model

    if batch is not None and batch < 1:
        raise UserError(f"--batch must be a positive integer; got {batch}")
    task, state, meta = load_model(workdir, pretrained)
    f, (name, shape, dtype), output, extra = inference(task, state)
    rows = jax.export.symbolic_shape("batch")[0] if batch is None else batch
    try:
        exported = jax.export.export(jax.jit(f))(jax.ShapeDtypeStruct((rows, *shape), jnp.dtype(dtype)))
    except Exception as e:  # shape polymorphism the model's ops do not support
        if batch is not None:
            raise
        raise UserError(f"this model does not export with a free batch size ({type(e).__name__}); "
                        f"fix one with --batch N") from None
    free = lambda dims: [d if isinstance(d, int) else None for d in dims]
    out = exported.out_avals[0]
    signature = {"recipe": meta["recipe"], "step": meta["step"], "task": task.config.task,
                 "inputs": [{"name": name, "shape": free(exported.in_avals[0].shape), "dtype": dtype}],
                 "outputs": [{"name": output, "shape": free(out.shape), "dtype": str(out.dtype)}],
                 "jax_version": jax.__version__, **extra}
    final, partial = os.path.join(workdir, "export"), os.path.join(workdir, "export.tmp")
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    with open(os.path.join(partial, "model.bin"), "wb") as file:
        file.write(exported.serialize())
    write_json_atomic(os.path.join(partial, "signature.json"), signature)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)  # a crash leaves the previous export or none, never half of one
    return final


def main(argv: list[str]) -> None:
    """Run `python -m train export` on the command-line arguments `argv`."""
    parser = ArgumentParser(prog="python -m train export",
                            description="Export a trained classifier, captioner or translator with jax.export.")
    parser.add_argument("--workdir", required=True,
                        help="directory of a finished or interrupted run; with --pretrained, where export/ goes")
    parser.add_argument("--pretrained", metavar="NAME", default=None, help="export a shipped model (zoo.pretrained)")
    parser.add_argument("--batch", type=int, default=None, help="a fixed batch size (default: any)")
    args = parser.parse_args(argv)
    path = export_run(args.workdir, args.batch, args.pretrained)
    with open(os.path.join(path, "signature.json")) as f:
        signature = json.load(f)
    shape = lambda spec: "x".join("N" if d is None else str(d) for d in spec["shape"])
    i, o = signature["inputs"][0], signature["outputs"][0]
    print(f"exported {signature['recipe']} (step {signature['step']}): {i['name']} {shape(i)} {i['dtype']} -> "
          f"{o['name']} {shape(o)} {o['dtype']} | {path}")
