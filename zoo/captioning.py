"""Image captioning: a CNN encoder and a recurrent word decoder, with or without soft attention.

- `CaptioningRNN`: the image vector `v` (the encoder's whole feature grid, centred by its mean
  over the batch) starts the decoder, `h_0 = tanh(W_ih v)`, so the first step computes
  `h_1 = tanh(W_xh x_1 + W_hh h_0)` as in the lecture's image-conditioned RNN (an LSTM's cell
  starts at `tanh(W_ic v)` too); a vanilla RNN or an LSTM (`zoo.rnn` cells) then reads word
  embeddings (Karpathy & Fei-Fei 2015; Vinyals et al. 2015). Without the centring the image never
  reaches the decoder: early on the language model's gradient on `h_0` is the same for every
  image, `v` has a large image-independent part, and Adam moves all 8,192 input weights of each
  unit of `W_ih` together, so within ~10 steps `W_ih v` is a large constant, `tanh` saturates and
  the encoder's gradient vanishes (the cs231n captioner avoids this with PCA-centred CNN
  features; the batch mean, and at inference its running average, centres `v` here).
- `AttentionCaptioner` (Xu et al. 2015, "Show, Attend and Tell"): at every word an MLP scores
  each cell of the `(h, w)` feature grid against the LSTM state, the softmax weights `alpha`
  average the grid into a context, a gating scalar `beta = sigmoid(f(h))` scales it, and the LSTM
  reads `[embedding, beta * context]`; the word logits come from a deep output layer. Grid cells
  carry learned position embeddings.
- `GridClassifier`: the same encoder with a multi-label head, for pretraining it on recognition.
- Decoding: `zoo.decoding` (greedy and beam search over any model's `step`).

Both models share one interface: `encode(images) -> memory`, `initial_carry(memory, train=False)`,
`step(carry, tokens, memory) -> (carry, logits, alpha)`, and `__call__(images, tokens, train=False)
-> (logits, alphas)` for teacher forcing (`tokens: (B, T)` inputs, `logits: (B, T, vocab)`,
`alphas: (B, T, h * w)`, zeros for the model without attention; `train`: batch statistics, which
update `batch_stats`).
"""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.rnn import LSTMCell, VanillaRNNCell


class ImageEncoder(nn.Module):
    """Conv stages (`conv{s}_{j}`, 3x3, ReLU), a 2x max pool after each of the first `pools`
    (default: all): `(B, H, W, C) -> (B, H / 2^pools, W / 2^pools, features[-1])`, the feature grid
    the decoder looks at.
    """

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


class GridClassifier(nn.Module):
    """Multi-label recognition with the captioners' encoder: `ImageEncoder` (as submodule
    `encoder`), a linear score per grid cell and class, the maximum over cells (global max pooling
    as in Oquab et al. 2015, so each cell's features learn to describe what lies there):
    `(B, H, W, C) -> (B, num_classes)` logits. Its `encoder` parameters initialize a captioner's.
    """

    num_classes: int
    encoder_features: Sequence[int] = (32, 64, 128)
    encoder_pools: int | None = None
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images):
        grid = ImageEncoder(tuple(self.encoder_features), self.encoder_pools, act=self.act, dtype=self.dtype,
                            param_dtype=self.param_dtype, name="encoder")(images)
        scores = nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(grid)
        return scores.max(axis=(1, 2))


class _Centre(nn.Module):
    """`x - mean` over the batch while training, the mean kept as a running average in
    `batch_stats` and subtracted at inference: batch normalization's centring without its
    scaling (dividing by the per-feature spread would blow up the many near-constant features of
    a flattened grid, and with them any drift of the running statistics).
    """

    momentum: float = 0.99

    @nn.compact
    def __call__(self, x, train: bool):
        running = self.variable("batch_stats", "mean", lambda: jnp.zeros(x.shape[-1], jnp.float32))
        if not train:
            return x - running.value.astype(x.dtype)[None]
        mean = x.astype(jnp.float32).mean(axis=0)
        if not self.is_initializing():
            running.value = self.momentum * running.value + (1 - self.momentum) * jax.lax.stop_gradient(mean)
        return x - mean.astype(x.dtype)[None]


class _Memory(nn.Module):
    """The encoder's grid as `(B, h * w, D)` rows, layer-normalized (unnormalized ReLU features grow
    large and saturate the decoder), plus a learned embedding of each cell's position
    (convolutional features alone say little about where they are, and captions name places).
    """

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
        x = nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype, param_dtype=self.param_dtype, name="embed")(tokens)
        make = {"rnn": VanillaRNNCell, "lstm": LSTMCell}[self.cell]
        carry, h = make(self.features, dtype=self.dtype, param_dtype=self.param_dtype, name="cell")(carry, x)
        logits = nn.Dense(self.vocab_size, dtype=self.dtype, param_dtype=self.param_dtype, name="out")(h)
        return carry, (logits, jnp.zeros((tokens.shape[0], memory.shape[1]), jnp.float32))


class _AttentionStep(nn.Module):
    """One Show-Attend-Tell step: attend over `memory: (B, L, D)` with the previous state, gate
    the context, advance the LSTM on `[embedding, context]`, deep output to word logits.
    """

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
        x = nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype, param_dtype=self.param_dtype, name="embed")(tokens)
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
    and `initial_carry`.
    """

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

    def __call__(self, images, tokens, train: bool = False):
        memory = self.encode(images)
        _, (logits, alphas) = self.decoder(self.initial_carry(memory, train), tokens, memory)
        return logits, alphas


class CaptioningRNN(_Captioner):
    """CNN encoder + vanilla RNN (`cell="rnn"`) or LSTM decoder, the image entering through the
    initial hidden state `tanh(W_ih (v - mean))` (and the LSTM's cell, `tanh(W_ic (v - mean))`), `v`
    the whole grid flattened (`h * w * D`), `mean` its batch mean while training and the running
    average of that in `batch_stats` at inference. See the module docstring.
    """

    cell: str = "lstm"

    def setup(self):
        if self.cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm'; got {self.cell!r}")
        self._setup_encoder()
        self.image_centre = _Centre()
        self.image_to_hidden = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)  # W_ih
        if self.cell == "lstm":
            self.image_to_cell = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)  # W_ic
        self.decoder = _scan_steps(_WordStep)(self.vocab_size, self.features, self.embed_dim, self.cell,
                                              self.dtype, self.param_dtype)

    def initial_carry(self, memory, train: bool = False):
        v = self.image_centre(memory.reshape(memory.shape[0], -1), train)
        h = jnp.tanh(self.image_to_hidden(v))
        return (jnp.tanh(self.image_to_cell(v)), h) if self.cell == "lstm" else h


class AttentionCaptioner(_Captioner):
    """CNN encoder + LSTM decoder with soft spatial attention and a gating scalar (Xu et al. 2015).
    `h_0, c_0 = tanh(W mean(memory))`. See the module docstring.
    """

    attention_dim: int = 128

    def setup(self):
        self._setup_encoder()
        self.init_h = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.init_c = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.decoder = _scan_steps(_AttentionStep)(self.vocab_size, self.features, self.embed_dim,
                                                   self.attention_dim, self.dtype, self.param_dtype)

    def initial_carry(self, memory, train: bool = False):
        mean = memory.mean(axis=1)
        return jnp.tanh(self.init_c(mean)), jnp.tanh(self.init_h(mean))
