"""Image captioning: a CNN encoder and a recurrent word decoder, with or without soft attention.

- `CaptioningRNN`: the image vector `v` (the encoder's whole feature grid) starts the decoder,
  `h_0 = W_ih v`, so the first step computes `h_1 = tanh(W_xh x_1 + W_hh W_ih v)` as in the
  lecture's image-conditioned RNN; a vanilla RNN or an LSTM (`zoo.rnn` cells) then reads word
  embeddings (Karpathy & Fei-Fei 2015; Vinyals et al. 2015).
- `AttentionCaptioner` (Xu et al. 2015, "Show, Attend and Tell"): at every word an MLP scores
  each cell of the `(h, w)` feature grid against the LSTM state, the softmax weights `alpha`
  average the grid into a context, a gating scalar `beta = sigmoid(f(h))` scales it, and the LSTM
  reads `[embedding, beta * context]`; the word logits come from a deep output layer. Grid cells
  carry learned position embeddings.
- Decoding with any model's `step`: `greedy_decode` and `beam_search` (width, length
  normalization, end-token handling), both jit-able with a fixed maximum length.

Both models share one interface: `encode(images) -> memory`, `initial_carry(memory)`,
`step(carry, tokens, memory) -> (carry, logits, alpha)`, and `__call__(images, tokens) ->
(logits, alphas)` for teacher forcing (`tokens: (B, T)` inputs, `logits: (B, T, vocab)`,
`alphas: (B, T, h * w)`; zeros for the model without attention).
"""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.rnn import LSTMCell, VanillaRNNCell


class ImageEncoder(nn.Module):
    """Conv stages (`conv{s}_{j}`, 3x3, ReLU), a 2x max pool after each of the first `pools`
    (default: all): `(B, H, W, C) -> (B, H / 2^pools, W / 2^pools, features[-1])`, the feature grid
    the decoder looks at."""

    features: Sequence[int] = (32, 64, 128)
    pools: int | None = None
    convs_per_stage: int = 1
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        x = x.astype(self.dtype)
        for s, width in enumerate(self.features):
            for j in range(self.convs_per_stage):
                x = self.act(nn.Conv(width, (3, 3), dtype=self.dtype, param_dtype=self.param_dtype,
                                     name=f"conv{s}_{j}")(x))
            if s < (len(self.features) if self.pools is None else self.pools):
                x = nn.max_pool(x, (2, 2), strides=(2, 2))
        return x


class _Memory(nn.Module):
    """The encoder's grid as `(B, h * w, D)` rows, layer-normalized (unnormalized ReLU features grow
    large and saturate the decoder), plus a learned embedding of each cell's position
    (convolutional features alone say little about where they are, and captions name places)."""

    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, encoded):
        b, h, w, d = encoded.shape
        position = self.param("position", nn.initializers.normal(0.02), (1, h * w, d), self.param_dtype)
        rows = nn.LayerNorm(dtype=encoded.dtype, param_dtype=self.param_dtype)(encoded.reshape(b, h * w, d))
        return rows + position.astype(rows.dtype)


class _WordStep(nn.Module):
    """One decoder step without attention: embed the token, advance the cell, project to words."""

    vocab_size: int
    features: int
    embed_dim: int
    cell: str
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, carry, tokens, memory):
        x = nn.Embed(self.vocab_size, self.embed_dim, param_dtype=self.param_dtype, name="embed")(tokens)
        make = {"rnn": VanillaRNNCell, "lstm": LSTMCell}[self.cell]
        carry, h = make(self.features, dtype=self.dtype, param_dtype=self.param_dtype, name="cell")(carry, x)
        logits = nn.Dense(self.vocab_size, dtype=self.dtype, param_dtype=self.param_dtype, name="out")(h)
        return carry, (logits, jnp.zeros((tokens.shape[0], memory.shape[1]), jnp.float32))


class _AttentionStep(nn.Module):
    """One Show-Attend-Tell step: attend over `memory: (B, L, D)` with the previous state, gate
    the context, advance the LSTM on `[embedding, context]`, deep output to word logits."""

    vocab_size: int
    features: int
    embed_dim: int
    attention_dim: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, carry, tokens, memory):
        dense = lambda n, name, **kw: nn.Dense(n, dtype=self.dtype, param_dtype=self.param_dtype, name=name, **kw)
        _, h = carry
        keys = dense(self.attention_dim, "attend_memory")(memory)                       # (B, L, A)
        scores = dense(1, "attend_score")(jnp.tanh(keys + dense(self.attention_dim, "attend_state")(h)[:, None]))
        alpha = jax.nn.softmax(scores[..., 0].astype(jnp.float32), axis=-1)             # (B, L)
        context = jnp.einsum("bl,bld->bd", alpha.astype(memory.dtype), memory)
        context = nn.sigmoid(dense(1, "gate")(h)) * context                             # beta * z
        x = nn.Embed(self.vocab_size, self.embed_dim, param_dtype=self.param_dtype, name="embed")(tokens)
        carry, h = LSTMCell(self.features, dtype=self.dtype, param_dtype=self.param_dtype, name="cell")(
            carry, jnp.concatenate([x, context.astype(x.dtype)], -1))
        deep = dense(self.embed_dim, "out_state")(h) + dense(self.embed_dim, "out_context")(context) + x
        return carry, (dense(self.vocab_size, "out")(jnp.tanh(deep)), alpha)


def _scan_steps(step_module):
    """The step module scanned over the time axis of `tokens: (B, T)` (parameters shared)."""
    return nn.scan(step_module, variable_broadcast="params", split_rngs={"params": False},
                   in_axes=(1, nn.broadcast), out_axes=1)


class _Captioner(nn.Module):
    """What both captioners share: the fields, the encoder and its grid memory, stepping and
    teacher forcing. Subclasses define `setup` (calling `_setup_encoder`, then their `decoder`)
    and `initial_carry`."""

    vocab_size: int
    features: int = 256
    embed_dim: int = 128
    encoder_features: Sequence[int] = (32, 64, 128)
    encoder_pools: int | None = None
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def _setup_encoder(self):
        self.encoder = ImageEncoder(tuple(self.encoder_features), self.encoder_pools, act=self.act,
                                    dtype=self.dtype, param_dtype=self.param_dtype)
        self.memory = _Memory(self.param_dtype)

    def encode(self, images):
        """`(B, L, D)`: the encoder's grid, one row per cell (row-major), with position embeddings."""
        return self.memory(self.encoder(images))

    def step(self, carry, tokens, memory):
        """One word for every row: `tokens: (B,)` -> `(carry, logits (B, V), alpha (B, L))`."""
        carry, (logits, alpha) = self.decoder(carry, tokens[:, None], memory)
        return carry, logits[:, 0], alpha[:, 0]

    def __call__(self, images, tokens):
        memory = self.encode(images)
        _, (logits, alphas) = self.decoder(self.initial_carry(memory), tokens, memory)
        return logits, alphas


class CaptioningRNN(_Captioner):
    """CNN encoder + vanilla RNN (`cell="rnn"`) or LSTM decoder, the image entering through the
    initial hidden state `W_ih v`, `v` the whole grid flattened. See the module docstring."""

    cell: str = "lstm"

    def setup(self):
        if self.cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm'; got {self.cell!r}")
        self._setup_encoder()
        self.image_to_hidden = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)  # W_ih
        self.decoder = _scan_steps(_WordStep)(self.vocab_size, self.features, self.embed_dim, self.cell,
                                              self.dtype, self.param_dtype)

    def initial_carry(self, memory):
        h = self.image_to_hidden(memory.reshape(memory.shape[0], -1))
        return (jnp.zeros_like(h), h) if self.cell == "lstm" else h


class AttentionCaptioner(_Captioner):
    """CNN encoder + LSTM decoder with soft spatial attention and a gating scalar (Xu et al. 2015).
    `h_0, c_0 = tanh(W mean(memory))`. See the module docstring."""

    attention_dim: int = 128

    def setup(self):
        self._setup_encoder()
        self.init_h = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.init_c = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.decoder = _scan_steps(_AttentionStep)(self.vocab_size, self.features, self.embed_dim,
                                                   self.attention_dim, self.dtype, self.param_dtype)

    def initial_carry(self, memory):
        mean = memory.mean(axis=1)
        return jnp.tanh(self.init_c(mean)), jnp.tanh(self.init_h(mean))


def greedy_decode(step_fn: Callable, carry, batch: int, start: int, end: int, max_length: int):
    """`(tokens (B, max_length), alphas (B, max_length, L))`: the likeliest word at every step;
    after `end` every position holds `end`. `step_fn(carry, tokens (B,)) -> (carry, logits, alpha)`."""
    def step(state, _):
        carry, last, done = state
        carry, logits, alpha = step_fn(carry, last)
        token = jnp.where(done, end, jnp.argmax(logits, -1))
        return (carry, token, done | (token == end)), (token, alpha)

    start_tokens = jnp.full((batch,), start, jnp.int32)
    _, (tokens, alphas) = jax.lax.scan(step, (carry, start_tokens, jnp.zeros((batch,), bool)), length=max_length)
    return tokens.T, jnp.swapaxes(alphas, 0, 1)


def beam_search(step_fn: Callable, carry, batch: int, start: int, end: int, max_length: int, width: int,
                length_penalty: float = 0.0):
    """`(tokens (B, max_length), score (B,))`: the best of `width` beams per example.

    At every step each live beam is extended by every word and the `width` best partial
    captions (by total log-probability) are kept; a beam that emitted `end` is finished and
    carried unchanged (only `end` may follow, at no cost). The winner maximizes
    `log p / length ** length_penalty` (length counts words up to and including `end`; 0 gives the
    raw log-probability, 1 the per-word mean). `carry` is for `batch` rows; it is repeated per
    beam, so `step_fn` sees `batch * width` rows.
    """
    tile = lambda a: jnp.repeat(a, width, axis=0)
    carry = jax.tree.map(tile, carry)
    scores = jnp.tile(jnp.array([0.0] + [-jnp.inf] * (width - 1)), (batch, 1))          # one live beam at first
    tokens = jnp.full((batch, width, max_length), end, jnp.int32)
    last = jnp.full((batch * width,), start, jnp.int32)
    finished = jnp.zeros((batch, width), bool)
    lengths = jnp.zeros((batch, width), jnp.int32)

    def step(t, state):
        carry, scores, tokens, last, finished, lengths = state
        carry, logits, _ = step_fn(carry, last)
        vocab = logits.shape[-1]
        logp = jax.nn.log_softmax(logits.astype(jnp.float32), -1).reshape(batch, width, vocab)
        only_end = jnp.where(jnp.arange(vocab) == end, 0.0, -jnp.inf)
        logp = jnp.where(finished[..., None], only_end, logp)
        candidates = (scores[..., None] + logp).reshape(batch, width * vocab)
        scores, flat = jax.lax.top_k(candidates, width)
        beam, word = flat // vocab, flat % vocab
        pick = lambda a: jnp.take_along_axis(a, beam.reshape(batch, width, *([1] * (a.ndim - 2))), axis=1)
        was_finished = pick(finished)
        tokens = pick(tokens).at[:, :, t].set(word)
        lengths = pick(lengths) + (~was_finished)
        rows = (jnp.arange(batch)[:, None] * width + beam).reshape(-1)
        carry = jax.tree.map(lambda a: a[rows], carry)
        return carry, scores, tokens, word.reshape(-1), was_finished | (word == end), lengths

    state = (carry, scores, tokens, last, finished, lengths)
    _, scores, tokens, _, _, lengths = jax.lax.fori_loop(0, max_length, step, state)
    normalized = scores / jnp.maximum(lengths, 1).astype(jnp.float32) ** length_penalty
    best = jnp.argmax(normalized, axis=1)
    return (jnp.take_along_axis(tokens, best[:, None, None], 1)[:, 0],
            jnp.take_along_axis(normalized, best[:, None], 1)[:, 0])
