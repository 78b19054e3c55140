"""Encoder-decoder RNN for sequence-to-sequence translation, with or without additive attention.

A bidirectional recurrent encoder (`zoo.rnn.RecurrentStack`, LSTM or GRU) reads the padded source
`(B, S)` ids (0 = padding) into states `h_j: (B, S, 2H)`. The decoder is the same cell with:

- `attention=False` (Cho et al. 2014; Sutskever et al. 2014): the source summary `c` (the last
  forward and first backward states) starts the decoder, `s_0 = tanh(W c)`, and is fed again at
  every step;
- `attention=True` (Bahdanau et al. 2015): at step `t` the scores `e_tj = v^T tanh(W s_{t-1} +
  U h_j)` over the real (unpadded) source positions give `alpha_t = softmax(e_t)` and the context
  `c_t = sum_j alpha_tj h_j`.

The cell reads `[embed(y_{t-1}), c_t]`, and the logits come from a deep output `tanh(W_o [s_t, c_t,
embed(y_{t-1})])`. The interface is the captioners' (`zoo.captioning`), so `zoo.decoding`'s greedy and
beam search apply: `encode(source) -> memory`, `initial_carry(memory)`, `step(carry, tokens,
memory) -> (carry, logits (B, V), alpha (B, S))`, and `__call__(source, tokens) -> (logits (B, T, V),
alphas (B, T, S))` for teacher forcing (alphas are zeros without attention).
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.rnn import CELLS, RecurrentStack, hidden_state


class _DecoderStep(nn.Module):
    """One target token: attend (or take the summary), advance the cell, deep output to logits."""

    vocab_size: int
    features: int
    embed_dim: int
    attention_dim: int
    cell: str
    attention: bool
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, carry, tokens, memory):
        dense = lambda n, name: nn.Dense(n, dtype=self.dtype, param_dtype=self.param_dtype, name=name)
        states, mask, summary = memory["states"], memory["mask"], memory["summary"]
        if self.attention:
            keys = dense(self.attention_dim, "attend_memory")(states)                        # (B, S, A)
            query = dense(self.attention_dim, "attend_state")(hidden_state(carry))[:, None]
            scores = dense(1, "attend_score")(jnp.tanh(keys + query))[..., 0].astype(jnp.float32)
            alpha = jax.nn.softmax(jnp.where(mask, scores, -jnp.inf), axis=-1)               # (B, S)
            context = jnp.einsum("bs,bsd->bd", alpha.astype(states.dtype), states)
        else:
            alpha, context = jnp.zeros(mask.shape, jnp.float32), summary
        x = nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype, param_dtype=self.param_dtype, name="embed")(tokens)
        carry, h = CELLS[self.cell](self.features, dtype=self.dtype, param_dtype=self.param_dtype, name="cell")(
            carry, jnp.concatenate([x, context.astype(x.dtype)], -1))
        deep = jnp.tanh(dense(self.embed_dim, "deep")(jnp.concatenate([h, context.astype(h.dtype), x], -1)))
        return carry, (dense(self.vocab_size, "out")(deep), alpha)


class Seq2Seq(nn.Module):
    """Bidirectional encoder and decoder, with or without additive attention; see the module docstring.

    `source: (B, S)` ids with 0 as padding; `tokens: (B, T)` decoder inputs (`<start>` then the
    target).

    Attributes:
      source_vocab: the source vocabulary size (id 0 is padding).
      target_vocab: the target vocabulary size `V`.
      features: the hidden size `H` of the encoder (per direction) and decoder.
      embed_dim: the token embedding size.
      attention_dim: the attention MLP's hidden size.
      cell: "lstm" or "gru".
      attention: use additive attention (else the source summary at every step).
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    source_vocab: int
    target_vocab: int
    features: int = 128
    embed_dim: int = 64
    attention_dim: int = 128
    cell: str = "gru"
    attention: bool = True
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self):
        """Builds the embedding, encoder, initial-state layer and decoder; raises `ValueError` on an unknown `cell`."""
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru'; got {self.cell!r}")
        self.source_embed = nn.Embed(self.source_vocab, self.embed_dim, dtype=self.dtype, param_dtype=self.param_dtype)
        self.encoder = RecurrentStack(self.cell, self.features, bidirectional=True, dtype=self.dtype,
                                      param_dtype=self.param_dtype)
        self.init_state = nn.Dense(self.features * (2 if self.cell == "lstm" else 1), dtype=self.dtype,
                                   param_dtype=self.param_dtype)
        self.decoder = nn.scan(_DecoderStep, variable_broadcast="params", split_rngs={"params": False},
                               in_axes=(1, nn.broadcast), out_axes=1)(
            self.target_vocab, self.features, self.embed_dim, self.attention_dim, self.cell, self.attention,
            self.dtype, self.param_dtype)

    def encode(self, source):
        """Encodes padded `source: (B, S)` ids.

        Returns:
          `{"states": (B, S, 2H), "mask": (B, S) bool, "summary": (B, 2H)}`, the summary being the
          last forward and first backward states.

        Raises:
          ValueError: if `source` is not 2-D.
        """
        if source.ndim != 2:
            raise ValueError(f"source must be (batch, length) token ids; got shape {source.shape}")
        mask = source != 0
        (carries,), states = self.encoder(self.source_embed(source), mask.sum(1))
        summary = jnp.concatenate([hidden_state(c) for c in carries], -1)   # last forward, first backward
        return {"states": states, "mask": mask, "summary": summary}

    def initial_carry(self, memory):
        """Returns the decoder's initial carry `s_0 = tanh(W c)` from `memory["summary"]` (`(c, h)` for an LSTM)."""
        s0 = jnp.tanh(self.init_state(memory["summary"]))
        return tuple(jnp.split(s0, 2, axis=-1)) if self.cell == "lstm" else s0

    def step(self, carry, tokens, memory):
        """Decodes one token for every row.

        Args:
          carry: the decoder's carry.
          tokens: `(B,)` int input tokens.
          memory: from `encode`.

        Returns:
          `(carry, logits (B, V), alpha (B, S))`.
        """
        carry, (logits, alpha) = self.decoder(carry, tokens[:, None], memory)
        return carry, logits[:, 0], alpha[:, 0]

    def __call__(self, source, tokens):
        """Scores target sequences with teacher forcing.

        Args:
          source: `(B, S)` int source ids, 0 as padding.
          tokens: `(B, T)` int decoder inputs (`<start>` then the target).

        Returns:
          `(logits (B, T, V), alphas (B, T, S))`; alphas are zeros without attention.
        """
        memory = self.encode(source)
        _, (logits, alphas) = self.decoder(self.initial_carry(memory), tokens, memory)
        return logits, alphas
