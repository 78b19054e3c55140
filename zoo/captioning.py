"""Image captioning: a CNN encoder and a recurrent word decoder, with or without soft attention.

- `CaptioningRNN`: the image vector `v` (the encoder's whole feature grid, centred by its mean
  over the batch) starts the decoder, `h_0 = tanh(W_ih v)`, so the first step computes
  `h_1 = tanh(W_xh x_1 + W_hh h_0)` as in the lecture's image-conditioned RNN (an LSTM's cell
  starts at `tanh(W_ic v)` too); a vanilla RNN or an LSTM (`zoo.rnn` cells) then reads word
  embeddings (Karpathy & Fei-Fei 2015; Vinyals et al. 2015). The centring removes the large
  image-independent part of `v`, which would otherwise saturate `tanh(W_ih v)` and keep the
  image from reaching the decoder (the cs231n captioner uses PCA-centred CNN features instead);
  the batch mean, and at inference its running average, centres `v` here.
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
    """Convolutional image encoder producing the feature grid the captioners' decoder looks at.

    Conv stages (`conv{s}_{j}`, 3x3, ReLU), a 2x max pool after each of the first `pools`
    (default: all).

    Attributes:
      features: the width of each stage.
      pools: how many of the first stages end in a 2x max pool (None: all).
      convs_per_stage: the number of convolutions in each stage.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: Sequence[int] = (32, 64, 128)
    pools: int | None = None
    convs_per_stage: int = 1
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        """Encodes images.

        Args:
          x: `(B, H, W, C)` images.

        Returns:
          `(B, H / 2^pools, W / 2^pools, features[-1])` feature grid.
        """
        x = x.astype(self.dtype)
        for s, width in enumerate(self.features):
            for j in range(self.convs_per_stage):
                x = self.act(nn.Conv(width, (3, 3), dtype=self.dtype, param_dtype=self.param_dtype,
                                     name=f"conv{s}_{j}")(x))
            if s < (len(self.features) if self.pools is None else self.pools):
                x = nn.max_pool(x, (2, 2), strides=(2, 2))
        return x


class GridClassifier(nn.Module):
    """Multi-label recognition with the captioners' encoder, for pretraining it.

    `ImageEncoder` (as submodule `encoder`), a linear score per grid cell and class, the maximum
    over cells (global max pooling as in Oquab et al. 2015, so each cell's features learn to
    describe what lies there). Its `encoder` parameters initialize a captioner's.

    Attributes:
      num_classes: the number of labels.
      encoder_features: the encoder's stage widths.
      encoder_pools: the encoder's `pools`.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int
    encoder_features: Sequence[int] = (32, 64, 128)
    encoder_pools: int | None = None
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images):
        """Scores every label.

        Args:
          images: `(B, H, W, C)` images.

        Returns:
          `(B, num_classes)` logits.
        """
        grid = ImageEncoder(tuple(self.encoder_features), self.encoder_pools, act=self.act, dtype=self.dtype,
                            param_dtype=self.param_dtype, name="encoder")(images)
        scores = nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(grid)
        return scores.max(axis=(1, 2))


class _Centre(nn.Module):
    """Batch normalization's centring without its scaling: `x - mean` over the batch while training.

    The mean is kept as a running average in `batch_stats` and subtracted at inference. No scaling:
    dividing by the per-feature spread would blow up the many near-constant features of a flattened
    grid, and with them any drift of the running statistics.
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
    """The encoder's grid as `(B, h * w, D)` rows, layer-normalized, plus position embeddings.

    Layer normalization because unnormalized ReLU features grow large and saturate the decoder; a
    learned embedding of each cell's position because convolutional features alone say little about
    where they are, and captions name places.
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
    """One Show-Attend-Tell step: attend, gate the context, advance the LSTM, deep output to logits.

    It attends over `memory: (B, L, D)` with the previous state, gates the context, advances the
    LSTM on `[embedding, context]` and maps the deep output to word logits.
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
    """What both captioners share: the fields, the encoder and its grid memory, stepping and teacher forcing.

    Subclasses define `setup` (calling `_setup_encoder`, then their `decoder`) and `initial_carry`.

    Attributes:
      vocab_size: the number of words.
      features: the decoder's hidden size.
      embed_dim: the word embedding size.
      encoder_features: the encoder's stage widths.
      encoder_pools: the encoder's `pools`.
      act: the encoder's activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
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
        """Encodes `(B, H, W, C)` images into `(B, L, D)` memory.

        Returns:
          The encoder's grid, one row per cell (row-major), with position embeddings: `(B, L, D)`.
        """
        return self.memory(self.encoder(images))

    def step(self, carry, tokens, memory):
        """Decodes one word for every row.

        Args:
          carry: the decoder's carry (see `initial_carry`).
          tokens: `(B,)` int input tokens.
          memory: `(B, L, D)` from `encode`.

        Returns:
          `(carry, logits, alpha)`: `logits: (B, V)`, `alpha: (B, L)` attention weights (zeros
          without attention).
        """
        carry, (logits, alpha) = self.decoder(carry, tokens[:, None], memory)
        return carry, logits[:, 0], alpha[:, 0]

    def __call__(self, images, tokens, train: bool = False):
        """Scores captions with teacher forcing.

        Args:
          images: `(B, H, W, C)` images.
          tokens: `(B, T)` int input tokens.
          train: use batch statistics, which update `batch_stats`.

        Returns:
          `(logits, alphas)`: `logits: (B, T, vocab)`, `alphas: (B, T, h * w)` (zeros for the model
          without attention).
        """
        memory = self.encode(images)
        _, (logits, alphas) = self.decoder(self.initial_carry(memory, train), tokens, memory)
        return logits, alphas


class CaptioningRNN(_Captioner):
    """CNN encoder and vanilla RNN (`cell="rnn"`) or LSTM decoder, the image setting the initial state.

    The image enters through the initial hidden state `tanh(W_ih (v - mean))` (and the LSTM's cell,
    `tanh(W_ic (v - mean))`), `v` the whole grid flattened (`h * w * D`), `mean` its batch mean
    while training and the running average of that in `batch_stats` at inference. See the module
    docstring. References: Karpathy & Fei-Fei 2015; Vinyals et al. 2015.

    Attributes:
      cell: "rnn" or "lstm".
    """

    cell: str = "lstm"

    def setup(self):
        """Builds the encoder, the image-to-state layers and the decoder; raises `ValueError` on an unknown `cell`."""
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
        """Returns the decoder's initial carry from `memory: (B, L, D)`.

        Args:
          memory: `(B, L, D)` from `encode`.
          train: centre by the batch mean (updating its running average) rather than the running average.

        Returns:
          `h: (B, features)`, or `(c, h)` for an LSTM.
        """
        v = self.image_centre(memory.reshape(memory.shape[0], -1), train)
        h = jnp.tanh(self.image_to_hidden(v))
        return (jnp.tanh(self.image_to_cell(v)), h) if self.cell == "lstm" else h


class AttentionCaptioner(_Captioner):
    """CNN encoder and LSTM decoder with soft spatial attention and a gating scalar (Xu et al. 2015).

    `h_0, c_0 = tanh(W mean(memory))`. See the module docstring.

    Attributes:
      attention_dim: the size of the attention MLP's hidden layer.
    """

    attention_dim: int = 128

    def setup(self):
        """Builds the encoder, the initial-state layers and the attention decoder."""
        self._setup_encoder()
        self.init_h = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.init_c = nn.Dense(self.features, dtype=self.dtype, param_dtype=self.param_dtype)
        self.decoder = _scan_steps(_AttentionStep)(self.vocab_size, self.features, self.embed_dim,
                                                   self.attention_dim, self.dtype, self.param_dtype)

    def initial_carry(self, memory, train: bool = False):
        """Returns the LSTM's initial `(c, h)`, each `(B, features)`, from `memory: (B, L, D)`; `train` is unused."""
        mean = memory.mean(axis=1)
        return jnp.tanh(self.init_c(mean)), jnp.tanh(self.init_h(mean))
