"""Character-level language modelling with truncated backpropagation through time.

The training text is cut into `batch_size` contiguous streams; step `s` reads chunk
`s mod chunks_per_epoch` of `seq_len` characters from every stream, and the hidden state is
carried from one chunk to the next (reset at the start of each epoch), so gradients flow
through `seq_len` steps while the state sees the whole stream (Williams & Peng 1990;
Karpathy's char-rnn). Evaluation runs the model over each split in one pass and reports
bits per character next to a smoothed character-bigram model scored by the same code.
"""

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from train import data
from train.errors import UserError
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.base import ACTIVATIONS, Task, cached
from zoo.rnn import CELLS, ManyToMany

UNK = "\ufffd"  # id 0: characters not seen in the training split


class LMState(TrainState):
    """TrainState plus the recurrent carry handed from one training chunk to the next."""

    carry: Any = None


def bits_per_char(logits, targets):
    """Mean cross-entropy in bits of `logits: (..., vocab)` against integer `targets: (...)`."""
    return optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), targets).mean() / math.log(2)


def bigram_log_probs(ids: np.ndarray, vocab_size: int, alpha: float = 0.1) -> np.ndarray:
    """`(vocab, vocab)` table of log P(next | previous) from `ids`, add-`alpha` smoothed."""
    counts = np.full((vocab_size, vocab_size), alpha)
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return np.log(counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


def streams(ids: np.ndarray, num_streams: int) -> np.ndarray:
    """`ids` cut into `num_streams` contiguous rows `(num_streams, len(ids) // num_streams)`."""
    length = len(ids) // num_streams
    if length < 2:
        raise UserError(f"a text of {len(ids)} characters is too short for {num_streams} streams")
    return ids[:num_streams * length].reshape(num_streams, length)


class LanguageModel(Task):
    """A character-level recurrent language model trained with truncated backpropagation through time.

    Config: dataset (a text dataset), seq_len, batch_size (streams), eval_batch_size, model (cell,
    features, num_layers, embed_dim, dropout, act).
    """

    primary_metric = "bits_per_char"
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta: dict | None = None):
        super().__init__(config, meta)
        vocab = (meta or {}).get("vocab")
        m = config.model
        if m.cell not in CELLS:
            raise UserError(f"unknown model.cell '{m.cell}'; choose one of {', '.join(CELLS)}")
        if m.act not in ACTIVATIONS:
            raise UserError(f"unknown model.act '{m.act}'; choose one of {', '.join(ACTIVATIONS)}")
        self.vocab = vocab if vocab is not None else [UNK] + sorted(set(self.text("train")) - {UNK})
        self.index = {ch: i for i, ch in enumerate(self.vocab)}
        self.model = ManyToMany(len(self.vocab), m.cell, m.features, m.num_layers, dropout=m.dropout,
                                vocab_size=len(self.vocab), embed_dim=m.embed_dim, act=ACTIVATIONS[m.act],
                                dtype=compute_dtype(config.precision))

    @cached
    def text(self, split: str) -> str:
        """The raw text of `split`, loaded once."""
        return data.load_text(self.config.dataset, split, self.config.data_dir or None)

    def encode(self, text: str) -> np.ndarray:
        """Character ids `(len(text),)` int32; characters outside the vocabulary become 0 (`UNK`)."""
        return np.array([self.index.get(ch, 0) for ch in text], np.int32)

    def decode(self, ids) -> str:
        """The text of a sequence of character ids."""
        return "".join(self.vocab[int(i)] for i in ids)

    @cached
    def ids(self, split: str) -> np.ndarray:
        """`encode(text(split))`, computed once."""
        return self.encode(self.text(split))

    def create_state(self, rng, tx) -> LMState:
        """Initialize the model, its optimizer and a zero carry for `batch_size` streams."""
        batch = self.config.batch_size
        tokens = jnp.zeros((batch, self.config.seq_len), jnp.int32)
        params = init_variables(self.model, rng, tokens)["params"]
        return LMState.create(apply_fn=self.model.apply, params=params, tx=tx,
                              carry=self.model.initialize_carry(batch), loss_scale=loss_scale(self.config.precision))

    def loss_fn(self, params, state, batch, rng):
        """Cross-entropy in nats on one chunk, starting from the carried state (zeroed when `batch["reset"]`).

        No gradient flows into the incoming carry; the final carry is returned as the `carry` update.
        Metric: `bits_per_char`.
        """
        carry = jax.tree.map(lambda c: jnp.where(batch["reset"], jnp.zeros_like(c), c), state.carry)
        carry, logits = state.apply_fn({"params": params}, batch["inputs"], initial_carry=jax.lax.stop_gradient(carry),
                                       train=True, rngs={"dropout": rng})
        bpc = bits_per_char(logits, batch["targets"])
        return bpc * math.log(2), ({"bits_per_char": bpc}, {"carry": carry})

    def train_batches(self, start_step):
        """Endless chunks from step `start_step`: `inputs`, `targets` `(batch_size, seq_len)` int32, `reset` bool.

        `targets` are `inputs` shifted by one character; `reset` is true on the first chunk of each epoch.
        """
        rows, t = streams(self.ids("train"), self.config.batch_size), self.config.seq_len
        chunks = (rows.shape[1] - 1) // t
        if chunks == 0:
            raise UserError(f"seq_len {t} is longer than each of the {self.config.batch_size} training streams")
        step = start_step
        while True:
            c = step % chunks
            yield {"inputs": rows[:, c * t:(c + 1) * t], "targets": rows[:, c * t + 1:(c + 1) * t + 1],
                   "reset": np.bool_(c == 0)}
            step += 1

    @functools.cached_property
    def _score(self):
        @jax.jit
        def score(params, rows):
            _, logits = self.model.apply({"params": params}, rows[:, :-1])
            return bits_per_char(logits, rows[:, 1:])
        return score

    @cached
    def bigram_bits_per_char(self, split: str) -> float:
        """The add-0.1 character-bigram baseline, fit on train, scored like the model."""
        table = bigram_log_probs(self.ids("train"), len(self.vocab))
        rows = streams(self.ids(split), self.config.eval_batch_size)
        return float(bits_per_char(jnp.asarray(table)[rows[:, :-1]], jnp.asarray(rows[:, 1:])))

    def evaluate(self, state, split):
        """Bits per character over `split`, cut into `eval_batch_size` streams scored from a zero state."""
        rows = jnp.asarray(streams(self.ids(split), self.config.eval_batch_size))
        return {f"{data.split_name(split)}_bits_per_char": float(self._score(state.params, rows)),
                f"{data.split_name(split)}_bigram_bits_per_char": self.bigram_bits_per_char(split)}

    def meta(self) -> dict:
        """The base facts plus the vocabulary (a list of characters, id order)."""
        return {**super().meta(), "vocab": self.vocab}


def _lm_step(model, params, carry, token):
    carry, logits = model.apply({"params": params}, token[:, None], initial_carry=carry)
    return carry, logits[:, 0]


def generate(task: LanguageModel, params, prompt: str, length: int, rng, temperature: float = 1.0,
             top_k: int = 0, num_samples: int = 1) -> list[str]:
    """`num_samples` continuations of `prompt` (length `length` each) from a trained model."""
    from train.sampling import sample_sequence

    if not prompt:
        raise UserError("--prompt must not be empty: the model needs a first character")
    if length < 1 or temperature < 0 or top_k < 0:
        raise UserError("--length must be >= 1, --temperature >= 0 and --top_k >= 0")
    ids = jnp.tile(jnp.asarray(task.encode(prompt))[None], (num_samples, 1))
    carry = task.model.initialize_carry(num_samples)
    if ids.shape[1] > 1:
        carry, _ = task.model.apply({"params": params}, ids[:, :-1], initial_carry=carry)
    out = sample_sequence(functools.partial(_lm_step, task.model), params, carry, ids[:, -1], rng, length,
                          float(temperature), int(top_k))
    return [prompt + task.decode(row) for row in np.asarray(out)]
