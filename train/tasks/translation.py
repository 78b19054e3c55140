"""Character-level sequence-to-sequence translation (`zoo.Seq2Seq`), teacher-forced.

Training uses teacher forcing with a masked cross-entropy; the report has the exact-match accuracy
of greedy and beam decoding and a figure of the attention alignments.

Config: dataset (a bundled `source -> target` text dataset: `dates`, `addition`), data_dir,
max_source / max_target (characters, `<end>` included; 0 = the longest training string + 1), model
(cell `gru` | `lstm`, attention, sizes), decode (beam_width, length_penalty), batch_size,
eval_batch_size. Both vocabularies (characters of the training split) are saved with every
checkpoint.
"""

import functools
import os

import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train import data
from train.caption_text import END, PAD, START, Vocabulary
from train.errors import UserError
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.base import Task, cached


def translation_losses(model, params, batch, pad: int):
    """Per-example `(cross-entropy per character, character accuracy, exact match)`, each `(B,)` float32.

    Args:
        model: the `zoo.Seq2Seq`.
        params: its parameters.
        batch: `{"source": (B, S), "target": (B, T + 1)}` int ids; the target is teacher-forced.
        pad: the target padding id, masked out of every mean.
    """
    inputs, targets = batch["target"][:, :-1], batch["target"][:, 1:]
    logits, _ = model.apply({"params": params}, batch["source"], inputs)
    mask = (targets != pad).astype(jnp.float32)
    count = jnp.maximum(mask.sum(1), 1)
    ce = (optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), targets) * mask).sum(1) / count
    right = (jnp.argmax(logits, -1) == targets) * mask
    return ce, right.sum(1) / count, (right.sum(1) == mask.sum(1)).astype(jnp.float32)


class Translation(Task):
    """Teacher-forced `source -> target` translation.

    A checkpoint's `meta` (vocabularies `{"source": [...], "target": [...]}` and lengths) replaces
    what the training split would give.
    """

    primary_metric = "exact_match"
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta: dict | None = None):
        super().__init__(config, meta)
        meta = meta or {}
        train = (lambda: self.split_raw("train"))  # read only when the checkpoint does not say
        self.vocab = ({k: Vocabulary(v) for k, v in meta["vocab"].items()} if "vocab" in meta else
                      {k: Vocabulary.build([list(s) for s in train()[k]]) for k in ("source", "target")})
        self.max_source = config.max_source or meta.get("max_source") or max(map(len, train()["source"])) + 1
        self.max_target = config.max_target or meta.get("max_target") or max(map(len, train()["target"])) + 1
        m = config.model
        if m.cell not in ("gru", "lstm"):
            raise UserError(f"unknown model.cell '{m.cell}'; choose gru or lstm")
        self.model = zoo.Seq2Seq(len(self.vocab["source"]), len(self.vocab["target"]), features=m.features,
                                 embed_dim=m.embed_dim, attention_dim=m.attention_dim, cell=m.cell,
                                 attention=m.attention, dtype=compute_dtype(config.precision))

    @cached
    def split_raw(self, name: str) -> dict:
        """The dataset's split `name` as loaded, loaded once: `source` and `target` strings (and any other features)."""
        arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
        if "source" not in arrays or "target" not in arrays:
            raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; translation needs "
                            f"'source' and 'target' text (bundled: dates, addition)")
        return arrays

    def encode_source(self, texts: list[str]) -> np.ndarray:
        """`(N, max_source)` ids: the characters, `<end>`, padding (0); too long strings are cut."""
        return np.stack([self.vocab["source"].encode(list(t), self.max_source)[1:] for t in texts])

    @cached
    def arrays(self, name: str) -> dict:
        """Split `name` encoded once: `{"source": (N, max_source), "target": (N, max_target + 1)}` int ids."""
        raw = self.split_raw(name)
        target = np.stack([self.vocab["target"].encode(list(t), self.max_target) for t in raw["target"]])
        return {"source": self.encode_source(raw["source"]), "target": target}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of the encoded train split, from step `start_step`."""
        yield from data.train_batches(self.arrays("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over the encoded `split` in `config.eval_batch_size` batches."""
        yield from data.eval_batches(self.arrays(split), self.config.eval_batch_size)

    def create_state(self, rng, tx):
        """Initialize `zoo.Seq2Seq` on zero ids, with the loss scale of `config.precision`."""
        variables = init_variables(self.model, rng, jnp.zeros((1, self.max_source), jnp.int32),
                                    jnp.zeros((1, self.max_target), jnp.int32))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx,
                                 loss_scale=loss_scale(self.config.precision))

    def loss_fn(self, params, state, batch, rng):
        """Mean masked cross-entropy per character; metrics `char_accuracy`, `exact_match`; no updates."""
        ce, accuracy, exact = translation_losses(self.model, params, batch, self.vocab["target"].index[PAD])
        return jnp.mean(ce), ({"char_accuracy": jnp.mean(accuracy), "exact_match": jnp.mean(exact)}, {})

    def eval_metrics(self, state, batch):
        """Per-example `loss`, `char_accuracy` and `exact_match`, each `(batch,)` float32."""
        ce, accuracy, exact = translation_losses(self.model, state.params, batch, self.vocab["target"].index[PAD])
        return {"loss": ce, "char_accuracy": accuracy, "exact_match": exact}

    @functools.cached_property
    def decoders(self):
        """`(greedy, beam)`: the model's jitted decoders (`zoo.jitted_decoders`), built once."""
        target = self.vocab["target"]
        return zoo.jitted_decoders(self.model, target.index[START], target.index[END], self.max_target,
                                   self.config.decode.length_penalty)

    def translate(self, params, texts: list[str], beam_width: int = 1, batch: int = 500):
        """Greedy (width 1, with the attention weights) or beam-search translations of the source strings `texts`.

        Args:
            params: the model parameters.
            texts: `N` source strings.
            beam_width: 1 for greedy decoding, else the beam width.
            batch: how many sources are decoded per call.

        Returns:
            `(translations, alphas)`: `N` strings, and the attention weights `(N, max_target,
            max_source)` or None.
        """
        tokens, alphas = zoo.decode_in_chunks(self.decoders, {"params": params}, self.encode_source(texts),
                                              beam_width, batch)
        return ["".join(self.vocab["target"].decode(t)) for t in tokens], alphas

    def report(self, state, workdir):
        """Exact match of greedy and beam (`decode.beam_width`) decoding on `config.test_split`.

        With attention, the first four alignments are drawn in `figures/alignment.png`.

        Returns:
            `greedy_exact_match`, `beam_{width}_exact_match`, up to 5 greedy `errors` (source, target,
            output) and a `headline`.
        """
        from train.figures import plot_alignment

        split = self.config.test_split
        raw = self.split_raw(split)
        width = self.config.decode.beam_width
        greedy, alphas = self.translate(state.params, raw["source"])
        beam = self.translate(state.params, raw["source"], width)[0] if width > 1 else greedy
        exact = lambda outputs: float(np.mean([o == t for o, t in zip(outputs, raw["target"])]))
        result = {"greedy_exact_match": exact(greedy), f"beam_{width}_exact_match": exact(beam),
                  "errors": [{"source": s, "target": t, "output": o}
                             for s, t, o in zip(raw["source"], raw["target"], greedy) if o != t][:5]}
        result["headline"] = (f"{split} exact match greedy {result['greedy_exact_match']:.4f}, beam {width} "
                              f"{result[f'beam_{width}_exact_match']:.4f}")
        if self.config.model.attention:
            plot_alignment(raw["source"][:4], greedy[:4], alphas[:4], os.path.join(workdir, "figures", "alignment.png"))
        return result

    def meta(self):
        """The base facts plus both vocabularies and `max_source` / `max_target`."""
        return {**super().meta(), "vocab": {k: v.words for k, v in self.vocab.items()},
                "max_source": self.max_source, "max_target": self.max_target}
