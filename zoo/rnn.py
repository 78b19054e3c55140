"""Recurrent networks: RNN, LSTM and GRU cells, scanned and stacked layers, and sequence heads.

The module holds vanilla RNN, LSTM and GRU cells, a scanned sequence layer with padding masks,
stacked/bidirectional layers with a cuDNN LSTM fast path, and the many-to-one, many-to-many and
one-to-many heads.

Cells map `(carry, x) -> (carry, y)` on one time step, `x: (batch, in_features)`,
`y: (batch, features)`. References: Elman (1990); Hochreiter & Schmidhuber (1997) with the
forget gate of Gers et al. (2000); Cho et al. (2014) for the GRU, in the cuDNN/PyTorch
formulation (reset gate applied after the recurrent matmul).
"""

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.recurrence import hidden_state, masked_step, projections, scan_cell

Array = Any


class _Weights(nn.Module):
    """Dense weights `kernel: (in_features, out_features)` and optionally `bias: (out_features,)`.

    They use `nn.Dense`'s parameter names, initializers and order (checkpoints and seeds carry over).
    """

    out_features: int
    use_bias: bool
    kernel_init: Callable
    bias_init: Callable
    param_dtype: Any

    @nn.compact
    def __call__(self, in_features: int):
        kernel = self.param("kernel", self.kernel_init, (in_features, self.out_features), self.param_dtype)
        bias = self.param("bias", self.bias_init, (self.out_features,), self.param_dtype) if self.use_bias else None
        return kernel, bias


class _ProjectedCell(nn.Module):
    """A cell computed as `update(carry, zx, zh)` from its input and recurrent projections.

    The input projection is `zx = x W_xh + b_x` (parameters `xh`) and the recurrent one
    `zh = h W_hh (+ b_h)` (parameters `hh`), each `(batch, GATES * features)`. Where `scan_unroll`
    picks it, `Recurrent` computes `x W_xh` for all steps in one matmul and scans the rest
    (`zoo.recurrence.scan_cell`); `cell(carry, x)` is one step. `SUMMED`: `update` reads only
    `zx + zh`.
    """

    GATES = 1
    RECURRENT_BIAS = False
    SUMMED = True

    def setup(self):
        width = self.GATES * self.features
        self.xh = _Weights(width, True, nn.initializers.lecun_normal(), self._input_bias_init(), self.param_dtype)
        self.hh = _Weights(width, self.RECURRENT_BIAS, nn.initializers.orthogonal(), nn.initializers.zeros,
                           self.param_dtype)

    def _input_bias_init(self):
        return nn.initializers.zeros

    def inputs(self, x):
        """Computes the input product `x W_xh` and gathers the remaining weights.

        Args:
          x: `(..., in_features)` inputs.

        Returns:
          `(x W_xh, weights)`: the input product `(..., GATES * features)` without its bias, and
          `weights = (b_x, W_hh, b_h)` for `zoo.recurrence` (`b_h` None unless `RECURRENT_BIAS`),
          all in the compute dtype.
        """
        cast = lambda a: None if a is None else a.astype(self.dtype)
        kernel, input_bias = self.xh(x.shape[-1])
        recurrent_kernel, recurrent_bias = self.hh(self.features)
        return jnp.dot(cast(x), cast(kernel)), (cast(input_bias), cast(recurrent_kernel), cast(recurrent_bias))

    def __call__(self, carry, x):
        """Runs one step.

        Args:
          carry: the cell's carry (see `initialize_carry`).
          x: `(batch, in_features)` inputs of this step.

        Returns:
          `(carry, y)`, `y: (batch, features)`.
        """
        xw, weights = self.inputs(x)
        return self.update(carry, *projections(weights, carry, xw))


class VanillaRNNCell(_ProjectedCell):
    """Elman cell: `h_t = act(W_xh x_t + W_hh h_{t-1} + b)`; carry `h: (batch, features)`.

    Reference: Elman, "Finding Structure in Time" (1990).

    Attributes:
      features: the hidden size.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    act: Callable = nn.tanh
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.nowrap
    def update(self, h, zx, zh):
        """Returns `(h, h)` from the projections `zx`, `zh: (batch, features)`."""
        h = self.act(zx + zh)
        return h, h

    def initialize_carry(self, batch_size: int):
        """Returns the zero carry `h: (batch_size, features)`."""
        return jnp.zeros((batch_size, self.features), self.dtype)


def _forget_bias_init(features: int, value: float):
    """Zeros, except `value` on the forget-gate quarter [features, 2 * features) of an i,f,g,o bias."""
    def init(key, shape, dtype=jnp.float32):
        return jnp.zeros(shape, dtype).at[features:2 * features].set(value)
    return init


class LSTMCell(_ProjectedCell):
    """LSTM cell with a forget gate; carry `(c, h)`, each `(batch, features)`.

    Gates `i, f, o = sigmoid(.)`, candidate `g = act(.)`, `c_t = f c_{t-1} + i g`,
    `h_t = o act(c_t)`, all from one fused `W_xh x + W_hh h + b` in gate order i, f, g, o
    (cuDNN's order). Forget-gate bias starts at `forget_bias` (Jozefowicz et al. 2015).

    Attributes:
      features: the hidden size.
      act: the activation of the candidate and of the cell state.
      forget_bias: the initial bias of the forget gate.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    act: Callable = nn.tanh
    forget_bias: float = 1.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    GATES = 4

    def _input_bias_init(self):
        return _forget_bias_init(self.features, self.forget_bias)

    @nn.nowrap
    def update(self, carry, zx, zh):
        """Returns `((c, h), h)` from the carry and the projections `zx`, `zh: (batch, 4 * features)`."""
        c, _ = carry
        i, f, g, o = jnp.split(zx + zh, 4, axis=-1)
        c = nn.sigmoid(f) * c + nn.sigmoid(i) * self.act(g)
        h = nn.sigmoid(o) * self.act(c)
        return (c, h), h

    def initialize_carry(self, batch_size: int):
        """Returns the zero carry `(c, h)`, each `(batch_size, features)`."""
        shape = (batch_size, self.features)
        return jnp.zeros(shape, self.dtype), jnp.zeros(shape, self.dtype)


class GRUCell(_ProjectedCell):
    """GRU cell (Cho et al. 2014) in the cuDNN/PyTorch formulation; carry `h: (batch, features)`.

    `r, z = sigmoid(W_x x + W_h h + b)`, `n = act(W_xn x + b_xn + r (W_hn h + b_hn))`,
    `h_t = (1 - z) n + z h_{t-1}`; fused gate order r, z, n.

    Attributes:
      features: the hidden size.
      act: the activation of the candidate `n`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    features: int
    act: Callable = nn.tanh
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    GATES = 3
    RECURRENT_BIAS = True
    SUMMED = False

    @nn.nowrap
    def update(self, h, zx, zh):
        """Returns `(h, h)` from the carry and the projections `zx`, `zh: (batch, 3 * features)`."""
        xr, xz, xn = jnp.split(zx, 3, axis=-1)
        hr, hz, hn = jnp.split(zh, 3, axis=-1)
        r, z = nn.sigmoid(xr + hr), nn.sigmoid(xz + hz)
        n = self.act(xn + r * hn)
        h = (1.0 - z) * n + z * h
        return h, h

    def initialize_carry(self, batch_size: int):
        """Returns the zero carry `h: (batch_size, features)`."""
        return jnp.zeros((batch_size, self.features), self.dtype)


CELLS = {"rnn": VanillaRNNCell, "lstm": LSTMCell, "gru": GRUCell}


def sequence_mask(lengths: Array, max_length: int) -> Array:
    """Returns a `(batch, max_length)` bool mask, True at the steps `t < lengths[b]`.

    Args:
      lengths: `(batch,)` int sequence lengths.
      max_length: the number of time steps.
    """
    return jnp.arange(max_length)[None, :] < lengths[:, None]


def reverse_padded(xs: Array, lengths: Array) -> Array:
    """Reverses each sequence within its length, leaving the padding in place.

    Args:
      xs: `(batch, time, ...)` sequences.
      lengths: `(batch,)` int sequence lengths.

    Returns:
      An array shaped like `xs`.
    """
    t = jnp.arange(xs.shape[1])[None, :]
    idx = jnp.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return jnp.take_along_axis(xs, idx.reshape(idx.shape + (1,) * (xs.ndim - 2)), axis=1)


def _masked_step(cell, carry, inputs):
    """One `nn.scan` step of a generic cell: past a sequence's end the carry is frozen, output zero."""
    x, keep = inputs
    return masked_step(cell, carry, keep, x)


def scan_unroll(dtype) -> int | None:
    """Time steps per loop iteration of `zoo.recurrence.scan_cell`, or None to use `nn.scan`.

    The choice is for a cell computing in `dtype` on the default backend: None where the per-step
    `nn.scan` is faster (float32 on CPU), else the unroll that was fastest on the benchmarks' LSTM
    language-model train step. Other accelerators take the GPU's choice.
    """
    if jax.default_backend() == "cpu":
        return None if jnp.dtype(dtype) == jnp.float32 else 8
    return 4


class Recurrent(nn.Module):
    """Runs `cell` over axis 1 of `xs: (batch, time, in_features)`, sharing its parameters across steps.

    One set of parameters is shared by every step (not copied per step).

    The zoo's cells take the fast path where it is faster (`scan_unroll`): their input
    projection `x W_xh` for all steps is one matmul before the loop, and
    `zoo.recurrence.scan_cell` scans the rest with a hand-written backward pass. Other cells
    `(carry, x) -> (carry, y)` with `initialize_carry(batch)` run one step at a time under `nn.scan`,
    as every cell does with `hoist=False` (forward-mode autodiff, `jax.jvp`/`jax.jacfwd` and
    Hessian-vector products, needs that path: `scan_cell` defines only a reverse-mode rule).

    Attributes:
      cell: the cell, `(carry, x) -> (carry, y)` with `initialize_carry(batch)`.
      reverse: read each sequence backwards within its length.
      hoist: allow the fast path (False forces the per-step `nn.scan`).
    """

    cell: nn.Module
    reverse: bool = False
    hoist: bool = True

    @nn.compact
    def __call__(self, xs, lengths=None, initial_carry=None):
        """Runs the cell over the sequences.

        Args:
          xs: `(batch, time, in_features)` inputs.
          lengths: optional `(batch,)` int lengths marking padding (state frozen and outputs zero
            past the end); default: every sequence is `time` long.
          initial_carry: the cell's carry to start from; default `cell.initialize_carry(batch)`.

        Returns:
          `(final_carry, ys)`, `ys: (batch, time, features)` aligned with `xs`.
        """
        batch, time = xs.shape[:2]
        lengths = jnp.full((batch,), time, jnp.int32) if lengths is None else lengths
        if self.reverse:
            xs = reverse_padded(xs, lengths)
        carry = self.cell.initialize_carry(batch) if initial_carry is None else initial_carry
        keep = sequence_mask(lengths, time)
        unroll = scan_unroll(self.cell.dtype) if self.hoist and isinstance(self.cell, _ProjectedCell) else None
        if unroll:
            xw, weights = self.cell.inputs(jnp.swapaxes(xs, 0, 1))  # time-major: (time, batch, GATES * features)
            carry, ys = scan_cell(self.cell.update, self.cell.SUMMED, unroll, weights, carry, xw, keep.T)
            ys = jnp.swapaxes(ys, 0, 1)
        else:
            scan = nn.scan(_masked_step, variable_broadcast="params", split_rngs={"params": False},
                           in_axes=1, out_axes=1)
            carry, ys = scan(self.cell, carry, (xs, keep))
        if self.reverse:
            ys = reverse_padded(ys, lengths)
        return carry, ys


class RecurrentStack(nn.Module):
    """`num_layers` recurrent layers of `cell`, optionally bidirectional, with dropout between layers.

    When bidirectional, each layer's forward and reverse outputs are concatenated. Layer `l` is the
    submodule `layer{l}` (and `layer{l}_reverse`).

    On a CUDA backend, a float32 LSTM stack with tanh and no active dropout runs through cuDNN
    (`jax.experimental.rnn.lstm`) on the same parameters (`use_cudnn=False` opts out).

    Attributes:
      cell: "rnn", "lstm" or "gru".
      features: the hidden size of every layer and direction.
      num_layers: the number of stacked layers.
      bidirectional: add a reverse layer beside each forward one.
      dropout: the dropout rate between layers, applied when `train`.
      act: the cells' activation.
      use_cudnn: allow the cuDNN path.
      hoist: as in `Recurrent`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    cell: str = "lstm"
    features: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    act: Callable = nn.tanh
    use_cudnn: bool = True
    hoist: bool = True
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def _make_cell(self):
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell '{self.cell}'; choose one of {', '.join(CELLS)}")
        # parent=None: the cell is adopted by its `Recurrent` layer, so params live at layer{l}/cell.
        return CELLS[self.cell](self.features, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype,
                                parent=None)

    @nn.compact
    def __call__(self, xs, lengths=None, initial_carry=None, train: bool = False):
        """Runs the stack over the sequences.

        Args:
          xs: `(batch, time, in_features)` inputs.
          lengths: optional `(batch,)` int sequence lengths.
          initial_carry: optional tuple with one entry per layer, each a carry (or a
            `(forward, reverse)` pair when bidirectional).
          train: apply dropout between layers.

        Returns:
          `(final_carries, ys)`: the carries in the structure of `initial_carry`, and
          `ys: (batch, time, features * directions)`.

        Raises:
          ValueError: if `xs` is not 3-D or `cell` is unknown.
        """
        if xs.ndim != 3:
            raise ValueError(f"RecurrentStack expects (batch, time, features); got shape {xs.shape}")
        lengths = jnp.full(xs.shape[:1], xs.shape[1], jnp.int32) if lengths is None else lengths.astype(jnp.int32)
        directions = (False, True) if self.bidirectional else (False,)
        layers = [[Recurrent(self._make_cell(), reverse=r, hoist=self.hoist, name=f"layer{l}" + ("_reverse" if r else ""))
                   for r in directions] for l in range(self.num_layers)]
        if self._cudnn_applies(train):
            return self._cudnn_lstm(xs, lengths, initial_carry)
        carries = []
        for l, layer in enumerate(layers):
            if l > 0 and self.dropout > 0:
                xs = nn.Dropout(self.dropout, deterministic=not train)(xs)
            init = (None,) * len(directions) if initial_carry is None else \
                (initial_carry[l] if self.bidirectional else (initial_carry[l],))
            outs = [rnn(xs, lengths, c0) for rnn, c0 in zip(layer, init)]
            carries.append(tuple(c for c, _ in outs) if self.bidirectional else outs[0][0])
            xs = jnp.concatenate([y for _, y in outs], axis=-1)
        return tuple(carries), xs

    def _cudnn_applies(self, train: bool) -> bool:
        return (self.use_cudnn and self.cell == "lstm" and self.act is nn.tanh and jax.default_backend() == "gpu"
                and jnp.dtype(self.dtype) == jnp.float32 and (self.dropout == 0 or not train)
                and not self.is_initializing())

    def _cudnn_lstm(self, xs, lengths, initial_carry):
        from jax.experimental import rnn

        d = 2 if self.bidirectional else 1
        batch = xs.shape[0]
        if initial_carry is None:
            h0 = c0 = jnp.zeros((self.num_layers * d, batch, self.features), xs.dtype)
        else:
            pairs = [p for layer in initial_carry for p in (layer if self.bidirectional else (layer,))]
            c0, h0 = jnp.stack([c for c, _ in pairs]), jnp.stack([h for _, h in pairs])
        weights = pack_cudnn_lstm_weights(self.variables["params"], self.num_layers, self.bidirectional)
        ys, h_n, c_n = rnn.lstm(xs.astype(jnp.float32), h0, c0, weights, lengths, input_size=xs.shape[-1],
                                hidden_size=self.features, num_layers=self.num_layers, dropout=0.0,
                                bidirectional=self.bidirectional)
        finals = [(c_n[i], h_n[i]) for i in range(self.num_layers * d)]
        carries = tuple(tuple(finals[l * d:(l + 1) * d]) if self.bidirectional else finals[l]
                        for l in range(self.num_layers))
        return carries, ys


def pack_cudnn_lstm_weights(params, num_layers: int, bidirectional: bool) -> Array:
    """Packs `RecurrentStack` LSTM parameters into cuDNN's flat float32 weight vector.

    The vector holds, for every pseudo-layer (layer l forward, then layer l reverse), `W_ih (4H, I)`
    and `W_hh (4H, H)`, then for every pseudo-layer `b_ih` and `b_hh` (ours has one bias, so
    `b_hh = 0`). Gate order i, f, g, o.

    Args:
      params: the stack's `params` collection.
      num_layers: the stack's number of layers.
      bidirectional: whether the stack is bidirectional.

    Returns:
      A 1-D float32 array.
    """
    names = [f"layer{l}" + s for l in range(num_layers) for s in (("", "_reverse") if bidirectional else ("",))]
    cells = [params[n]["cell"] for n in names]
    weights = [w for c in cells for w in (c["xh"]["kernel"].T.ravel(), c["hh"]["kernel"].T.ravel())]
    biases = [b for c in cells for b in (c["xh"]["bias"], jnp.zeros_like(c["xh"]["bias"]))]
    return jnp.concatenate(weights + biases).astype(jnp.float32)


class _Inputs(nn.Module):
    """Token ids `(batch, time)` through an embedding when `vocab_size` is set, else features as given."""

    vocab_size: int | None
    embed_dim: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, x):
        if self.vocab_size is None:
            return x.astype(self.dtype)
        return nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype, param_dtype=self.param_dtype,
                        name="embed")(x)


def _stack_of(head: nn.Module) -> RecurrentStack:
    """The `RecurrentStack` submodule `rnn` of a head, built from the head's own fields."""
    return RecurrentStack(head.cell, head.features, head.num_layers, head.bidirectional, head.dropout, head.act,
                          hoist=head.hoist, dtype=head.dtype, param_dtype=head.param_dtype, name="rnn")


class ManyToOne(nn.Module):
    """Sequence classifier: a `RecurrentStack` read out at each sequence's last valid step.

    The readout is the final carry (both directions when bidirectional), mapped to `num_classes`
    logits.

    Attributes:
      num_classes: the number of logits.
      cell: "rnn", "lstm" or "gru".
      features: the hidden size.
      num_layers: the number of stacked layers.
      bidirectional: run each layer in both directions.
      dropout: the dropout rate between layers and before the head, applied when `train`.
      vocab_size: when set, inputs are token ids embedded in `embed_dim` dimensions.
      embed_dim: the embedding size.
      act: the cells' activation.
      hoist: as in `Recurrent`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int
    cell: str = "gru"
    features: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    vocab_size: int | None = None
    embed_dim: int = 64
    act: Callable = nn.tanh
    hoist: bool = True
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, lengths=None, train: bool = False):
        """Classifies the sequences.

        Args:
          x: `(batch, time, features)` floats, or `(batch, time)` int token ids when `vocab_size` is set.
          lengths: optional `(batch,)` int sequence lengths.
          train: apply dropout.

        Returns:
          `(batch, num_classes)` logits.
        """
        x = _Inputs(self.vocab_size, self.embed_dim, self.dtype, self.param_dtype, name="inputs")(x)
        carries, _ = _stack_of(self)(x, lengths, train=train)
        top = carries[-1] if self.bidirectional else (carries[-1],)
        h = jnp.concatenate([hidden_state(c) for c in top], axis=-1)
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(h)


class ManyToMany(nn.Module):
    """A prediction at every step (tagging, language models): `(batch, time, num_outputs)`.

    With `vocab_size` set it reads token ids (a character language model is
    `ManyToMany(num_outputs=V, vocab_size=V)`).

    Attributes:
      num_outputs: the number of outputs per step.
      cell: "rnn", "lstm" or "gru".
      features: the hidden size.
      num_layers: the number of stacked layers.
      bidirectional: run each layer in both directions.
      dropout: the dropout rate between layers and before the head, applied when `train`.
      vocab_size: when set, inputs are token ids embedded in `embed_dim` dimensions.
      embed_dim: the embedding size.
      act: the cells' activation.
      hoist: as in `Recurrent`.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_outputs: int
    cell: str = "lstm"
    features: int = 256
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    vocab_size: int | None = None
    embed_dim: int = 64
    act: Callable = nn.tanh
    hoist: bool = True
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, lengths=None, initial_carry=None, train: bool = False):
        """Predicts at every step.

        Args:
          x: `(batch, time, features)` floats, or `(batch, time)` int token ids when `vocab_size` is set.
          lengths: optional `(batch,)` int sequence lengths.
          initial_carry: carries to continue from a previous chunk (truncated backpropagation
            through time), in `RecurrentStack`'s structure (see `initialize_carry`).
          train: apply dropout.

        Returns:
          `(final_carries, logits)`, `logits: (batch, time, num_outputs)`.
        """
        x = _Inputs(self.vocab_size, self.embed_dim, self.dtype, self.param_dtype, name="inputs")(x)
        carries, ys = _stack_of(self)(x, lengths, initial_carry, train=train)
        ys = nn.Dropout(self.dropout, deterministic=not train)(ys)
        return carries, nn.Dense(self.num_outputs, dtype=self.dtype, param_dtype=self.param_dtype, name="head")(ys)

    def initialize_carry(self, batch_size: int):
        """Returns zero carries for `initial_carry`, in `RecurrentStack`'s structure.

        The buffers are distinct, so the carry can live in a donated train state.
        """
        cell = CELLS[self.cell](self.features, dtype=self.dtype, parent=None)
        directions = 2 if self.bidirectional else 1
        layers = [tuple(cell.initialize_carry(batch_size) for _ in range(directions)) for _ in range(self.num_layers)]
        return tuple(layer if self.bidirectional else layer[0] for layer in layers)


class OneToMany(nn.Module):
    """Generates a sequence from a vector: `v` sets the initial state of a token decoder.

    `v: (batch, dim)` sets every layer's initial hidden state `h_0 = tanh(W_v v)` (cell state zero),
    then a `ManyToMany` token decoder runs with teacher forcing.

    Attributes:
      vocab_size: the number of tokens.
      cell: "rnn", "lstm" or "gru".
      features: the hidden size.
      num_layers: the number of stacked layers.
      embed_dim: the token embedding size.
      act: the cells' activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    vocab_size: int
    cell: str = "lstm"
    features: int = 256
    num_layers: int = 1
    embed_dim: int = 64
    act: Callable = nn.tanh
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def initial_carry(self, v):
        """Returns every layer's initial carry from `v: (batch, dim)` (`(c, h)` with `c = 0` for an LSTM)."""
        h0 = nn.tanh(nn.Dense(self.features * self.num_layers, dtype=self.dtype, param_dtype=self.param_dtype,
                              name="init")(v.astype(self.dtype)))
        hs = jnp.split(h0, self.num_layers, axis=-1)
        return tuple((jnp.zeros_like(h), h) if self.cell == "lstm" else h for h in hs)

    @nn.compact
    def __call__(self, v, tokens, lengths=None, initial_carry=None, train: bool = False):
        """Decodes `tokens` with teacher forcing from the state set by `v`.

        Args:
          v: `(batch, dim)` conditioning vectors.
          tokens: `(batch, time)` int input tokens.
          lengths: optional `(batch,)` int sequence lengths.
          initial_carry: carries to use instead of those computed from `v`.
          train: apply dropout.

        Returns:
          `(final_carries, logits)`, `logits: (batch, time, vocab_size)`.
        """
        carry = self.initial_carry(v) if initial_carry is None else initial_carry
        decoder = ManyToMany(self.vocab_size, self.cell, self.features, self.num_layers, vocab_size=self.vocab_size,
                             embed_dim=self.embed_dim, act=self.act, dtype=self.dtype, param_dtype=self.param_dtype,
                             name="decoder")
        return decoder(tokens, lengths, carry, train=train)


__all__ = ["CELLS", "GRUCell", "LSTMCell", "ManyToMany", "ManyToOne", "OneToMany", "Recurrent", "RecurrentStack",
           "VanillaRNNCell", "hidden_state", "pack_cudnn_lstm_weights", "reverse_padded", "scan_unroll",
           "sequence_mask"]
