"""Image captioning: teacher forcing with a masked cross-entropy and the doubly stochastic attention regularizer.

The regularizer is Xu et al. 2015's. The report has corpus BLEU-1..4 for greedy and beam decoding,
attention correctness on `shapes_captions`, and a figure of captions with per-word attention.

Config: dataset (`shapes_captions`, or TFDS `coco_captions` once prepared), data_dir, image_size
(resize, 0 = keep), vocab_size (0 = every training word), max_length (words per caption,
`<end>` included), overfit (train on the first N images only, 0 = all), model (name `rnn` | `lstm`
| `attention` and sizes), attention_reg, decode (beam_width, length_penalty), batch_size,
eval_batch_size. The vocabulary is built from the training split and saved with every checkpoint.
"""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train import data
from train.caption_text import END, PAD, START, Vocabulary, attention_correctness, corpus_bleu, object_grounding, tokenize
from train.errors import UserError
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.base import ACTIVATIONS, Task, cached

MODELS = ("rnn", "lstm", "attention")


def load_captions(config, split: str) -> dict:
    """Images and tokenized reference captions of split `split` of `config.dataset`.

    The dataset is `shapes_captions` (newline-joined references) or a TFDS catalog dataset whose
    `captions` feature holds a list of `{"text"}` (`coco_captions`); images are resized to
    `config.image_size` when it is set.

    Returns:
        The dataset's features with `image` `(N, S, S, 3)` float32 and `captions` a list, per image,
        of reference word lists.
    """
    arrays = data.load(config.dataset, split, config.data_dir or None)
    if "captions" not in arrays or "image" not in arrays:
        raise UserError(f"dataset '{config.dataset}' has features {', '.join(arrays)}; captioning needs "
                        f"'image' and 'captions' (shapes_captions or coco_captions)")
    captions = arrays["captions"]
    if isinstance(captions[0], str):
        refs = [[tokenize(c) for c in text.split("\n")] for text in captions]
    else:                                                   # TFDS coco_captions: {"text": [bytes, ...], ...}
        refs = [[tokenize(t.decode() if isinstance(t, bytes) else str(t)) for t in c["text"]] for c in captions]
    images = arrays["image"]
    if config.image_size:
        size = (config.image_size, config.image_size)
        images = np.stack([np.asarray(jax.image.resize(jnp.asarray(im, jnp.float32), (*size, 3), "bilinear"))
                           for im in images])
    elif isinstance(images, list):
        raise UserError(f"'{config.dataset}' images differ in size; set --config.image_size (e.g. 64)")
    return dict(arrays, image=np.asarray(images, np.float32), captions=refs)


def caption_losses(model, variables, batch, pad: int, attention: bool, train: bool = False):
    """Per-example `(cross-entropy per word, attention penalty, word accuracy)` and the updated `batch_stats`.

    The captions `batch["tokens"]: (B, T + 1)` are teacher-forced on `batch["image"]`; padding is
    masked out. The penalty is Xu et al.'s doubly stochastic term `mean_i (1 - sum_t alpha_ti)^2`.

    Args:
        model: the captioner.
        variables: its variables (`params`, and `batch_stats` if it has them).
        batch: `{"image": (B, H, W, 3), "tokens": (B, T + 1) int}`.
        pad: the padding id.
        attention: whether the model attends (without attention the penalty is 0).
        train: whether BatchNorm statistics are updated; otherwise the given ones come back.

    Returns:
        Three `(B,)` float arrays and the `batch_stats` (None when the model has none).
    """
    inputs, targets = batch["tokens"][:, :-1], batch["tokens"][:, 1:]
    if train and "batch_stats" in variables:
        (logits, alphas), updated = model.apply(variables, batch["image"], inputs, train=True, mutable=["batch_stats"])
        batch_stats = updated["batch_stats"]
    else:
        logits, alphas = model.apply(variables, batch["image"], inputs)
        batch_stats = variables.get("batch_stats")
    mask = (targets != pad).astype(jnp.float32)
    words = jnp.maximum(mask.sum(1), 1)
    ce = (optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), targets) * mask).sum(1) / words
    correct = ((jnp.argmax(logits, -1) == targets) * mask).sum(1) / words
    coverage = (alphas * mask[..., None]).sum(1)          # (B, L): each cell's attention summed over words
    penalty = jnp.mean((1.0 - coverage) ** 2, axis=1) if attention else jnp.zeros_like(ce)
    return ce, penalty, correct, batch_stats


class Captioning(Task):
    """Teacher-forced captioning of `(image, reference)` pairs.

    `vocab` (from a checkpoint's meta) replaces the vocabulary built from the training captions.
    """

    primary_metric = "loss"
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta: dict | None = None):
        super().__init__(config, meta)
        vocab = (meta or {}).get("vocab")
        if config.model.name not in MODELS:
            raise UserError(f"unknown model.name '{config.model.name}'; choose one of {', '.join(MODELS)}")
        self._splits = {}
        self._pretrained_encoder = None   # encoder parameters from the first stage (`start_from`)
        self.vocab = Vocabulary(vocab) if vocab is not None else Vocabulary.build(
            [c for refs in self.split_raw("train")["captions"] for c in refs], config.vocab_size)
        m = config.model
        common = dict(vocab_size=len(self.vocab), features=m.features, embed_dim=m.embed_dim,
                      dtype=compute_dtype(config.precision),
                      encoder_features=tuple(m.encoder_features), encoder_pools=m.get("encoder_pools") or None,
                      act=ACTIVATIONS[m.act])
        self.model = (zoo.AttentionCaptioner(attention_dim=m.attention_dim, **common) if m.name == "attention"
                      else zoo.CaptioningRNN(cell=m.name, **common))

    def stages(self) -> dict:
        """With `encoder_pretraining_steps` > 0, the `recognize_scene_objects` run to start the encoder from.

        This captioner starts from that run's encoder; the run (same data and encoder) is trained first
        in `<workdir>/encoder`.
        """
        steps = self.config.get("encoder_pretraining_steps", 0)
        if not steps:
            return {}
        from train import configs

        c = configs.get_config("recognize_scene_objects")
        c.dataset, c.data_dir, c.seed = self.config.dataset, self.config.data_dir, self.config.seed
        c.num_steps = c.checkpoint_every = steps
        c.eval_every = 0
        for field in ("encoder_features", "encoder_pools", "act"):
            c.model[field] = self.config.model[field]
        return {"encoder": ("recognize_scene_objects", c)}

    def start_from(self, runs: dict) -> None:
        """Keep the `encoder` stage's encoder parameters for `create_state`."""
        _, state = runs["encoder"]
        self._pretrained_encoder = state.params["encoder"]

    def split_raw(self, name: str) -> dict:
        """`load_captions` of split `name`, loaded once; the train split cut to `config.overfit` images when set."""
        if name not in self._splits:
            split = load_captions(self.config, name)
            if name == "train" and self.config.overfit:
                split = {k: v[:self.config.overfit] for k, v in split.items()}
            self._splits[name] = split
        return self._splits[name]

    def training_arrays(self) -> dict:
        """The raw train split (`split_raw("train")`), where `feature_shape` measures the image."""
        return self.split_raw("train")

    @cached
    def pairs(self, name: str) -> dict:
        """Every (image, reference) pair of a split: `image_index: (P,)`, `tokens: (P, max_length + 1)`.

        With `config.overfit`, only the first reference of each training image is used.
        """
        split = self.split_raw(name)
        # the overfit check (as in the course) fits one caption per image, which a model can memorize
        refs_of = (lambda refs: refs[:1]) if self.config.overfit and name == "train" else (lambda refs: refs)
        index = [i for i, refs in enumerate(split["captions"]) for _ in refs_of(refs)]
        tokens = [self.vocab.encode(c, self.config.max_length) for refs in split["captions"] for c in refs_of(refs)]
        return {"image_index": np.asarray(index, np.int32), "tokens": np.stack(tokens)}

    def _batch(self, name, rows):
        return {"image": self.split_raw(name)["image"][rows["image_index"]], "tokens": rows["tokens"],
                **({"mask": rows["mask"]} if "mask" in rows else {})}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of training pairs (`image`, `tokens`) from step `start_step`."""
        for rows in data.train_batches(self.pairs("train"), self.config.batch_size, self.config.seed, start_step):
            yield self._batch("train", rows)

    def eval_batches(self, split):
        """One padded, masked pass over the pairs of `split` in `config.eval_batch_size` batches."""
        for rows in data.eval_batches(self.pairs(split), self.config.eval_batch_size):
            yield self._batch(split, rows)

    def create_state(self, rng, tx):
        """Initialize the captioner (its encoder from the `encoder` stage, if any) and the optimizer state.

        The loss scale follows `config.precision`.
        """
        size = self.feature_shape("image")
        variables = init_variables(self.model, rng, jnp.zeros((1, *size)), jnp.zeros((1, self.config.max_length), jnp.int32))
        params = variables["params"]
        if self._pretrained_encoder is not None:    # fine-tuned from the first stage
            params = {**params, "encoder": self._pretrained_encoder}
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx,
                                 batch_stats=variables.get("batch_stats"), loss_scale=loss_scale(self.config.precision))

    def _losses(self, variables, batch, train: bool = False):
        return caption_losses(self.model, variables, batch, self.vocab.index[PAD], self.config.model.name == "attention",
                              train)

    def loss_fn(self, params, state, batch, rng):
        """Mean cross-entropy per word plus `attention_reg` times the mean attention penalty.

        Metrics: `word_loss`, `word_accuracy`; updates: `batch_stats` when the model has them.
        """
        ce, penalty, correct, batch_stats = self._losses(state.variables(params), batch, train=True)
        loss = jnp.mean(ce) + self.config.attention_reg * jnp.mean(penalty)
        updates = {"batch_stats": batch_stats} if batch_stats is not None else {}
        return loss, ({"word_loss": jnp.mean(ce), "word_accuracy": jnp.mean(correct)}, updates)

    def eval_metrics(self, state, batch):
        """Per-pair `loss` (cross-entropy per word) and `word_accuracy`, each `(batch,)`."""
        ce, _, correct, _ = self._losses(state.variables(), batch)
        return {"loss": ce, "word_accuracy": correct}

    @functools.cached_property
    def decoders(self):
        """`(greedy, beam)`: the model's jitted decoders (`zoo.jitted_decoders`), built once."""
        return zoo.jitted_decoders(self.model, self.vocab.index[START], self.vocab.index[END], self.config.max_length,
                                   self.config.decode.length_penalty)

    def caption(self, variables, images, beam_width: int = 1, batch: int = 250):
        """Greedy (width 1, with attention) or beam captions of `images`.

        Args:
            variables: the model's variables (`state.variables()`).
            images: `(N, H, W, 3)` images.
            beam_width: 1 for greedy decoding, else the beam width.
            batch: how many images are decoded per call.

        Returns:
            `(word lists, alphas)`: `N` word lists, and the attention weights `(N, T, L)` or None.
        """
        tokens, alphas = zoo.decode_in_chunks(self.decoders, variables, images, beam_width, batch)
        return [self.vocab.decode(t) for t in tokens], alphas

    def scores(self, variables, split: str) -> dict:
        """BLEU of greedy and beam captions of `split`, and how many distinct greedy captions it has.

        Where the scenes' objects are known (`shapes_captions`), also the greedy captions' object
        grounding and, with attention, attention correctness.

        Returns:
            `greedy` and `beam_{width}` (corpus BLEU), `distinct_greedy_captions`, three `examples`, and
            `grounding` / `attention` where they apply.
        """
        raw = self.split_raw(split)
        greedy_words, alphas = self.caption(variables, raw["image"])
        width = self.config.decode.beam_width
        beam_words, _ = self.caption(variables, raw["image"], width) if width > 1 else (greedy_words, None)
        out = {"greedy": corpus_bleu(greedy_words, raw["captions"]),
               f"beam_{width}": corpus_bleu(beam_words, raw["captions"]),
               "distinct_greedy_captions": len({" ".join(w) for w in greedy_words}),
               "examples": {i: {"greedy": " ".join(greedy_words[i]), f"beam_{width}": " ".join(beam_words[i]),
                                "references": [" ".join(r) for r in raw["captions"][i]]} for i in range(3)}}
        if "objects" in raw:
            out["grounding"] = object_grounding(greedy_words, raw["objects"])
        if self.config.model.name == "attention" and "segmentation" in raw:
            out["attention"] = attention_correctness(greedy_words, alphas, raw["segmentation"], raw["objects"])
        return out

    def report(self, state, workdir):
        """`scores` on `config.test_split` with a `headline`; with attention, `figures/attention.png` of 6 images."""
        split = self.config.test_split
        result = self.scores(state.variables(), split)
        width = self.config.decode.beam_width
        headline = (f"{split} BLEU-4 greedy {result['greedy']['bleu_4']:.3f}, beam {width} "
                    f"{result[f'beam_{width}']['bleu_4']:.3f}, {result['distinct_greedy_captions']} distinct "
                    f"greedy captions")
        if "grounding" in result:
            g = result["grounding"]
            headline += f"; objects named: precision {g['object_precision']:.3f}, recall {g['object_recall']:.3f}"
        if "attention" in result:
            a = result["attention"]
            headline += (f"; attention correctness {a['attention_correctness']:.3f} "
                         f"(uniform {a['uniform_attention']:.3f})")
            from train.figures import plot_attention

            raw = self.split_raw(split)
            words, alphas = self.caption(state.variables(), raw["image"][:6])
            plot_attention(raw["image"][:6], words, alphas, os.path.join(workdir, "figures", "attention.png"))
        return {"headline": headline, **result}

    def meta(self):
        """The base facts plus the vocabulary's words."""
        return {**super().meta(), "vocab": self.vocab.words}
