"""Decoding a sequence one token at a time from any model with a `step`, jit-able with a fixed maximum length.

The decoders are `greedy_decode` and `beam_search` (width, length normalization, end-token
handling). Captioners (`zoo.captioning`) and translators (`zoo.seq2seq`) share them through
`model_stepper`, which turns a model's `step(carry, tokens, memory)` into the `step_fn(carry,
tokens) -> (carry, logits (B, V), alpha (B, L))` they call; `jitted_decoders` compiles both decoders
from a model's inputs and `decode_in_chunks` runs them over many examples.
"""

import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def model_stepper(model: nn.Module, variables, memory) -> Callable:
    """Turns a model's `step(carry, tokens, memory)` into `step_fn(carry, tokens)` for the decoders.

    When beam search widens the carry to `B * width` rows, each memory row is repeated `width`
    times to match.

    Args:
      model: a module with a `step` method.
      variables: `{"params": ...}` and any other collections.
      memory: a pytree of `(B, ...)` arrays.

    Returns:
      `step_fn(carry, tokens) -> (carry, logits (B, V), alpha (B, L))`, applying `model.step`.
    """
    def step_fn(carry, tokens):
        rows, batch = jax.tree.leaves(carry)[0].shape[0], jax.tree.leaves(memory)[0].shape[0]
        widened = memory if rows == batch else jax.tree.map(lambda a: jnp.repeat(a, rows // batch, axis=0), memory)
        return model.apply(variables, carry, tokens, widened, method="step")
    return step_fn


def jitted_decoders(model: nn.Module, start: int, end: int, max_length: int, length_penalty: float = 0.0):
    """Compiles greedy and beam-search decoders for a model with `encode`, `initial_carry` and `step`.

    Args:
      model: the model.
      start: the start token.
      end: the end token.
      max_length: the number of tokens decoded.
      length_penalty: as in `beam_search`.

    Returns:
      `(greedy, beam)`: `greedy(variables, inputs) -> (tokens (B, max_length), alphas)` and
      `beam(variables, inputs, width) -> tokens`, each one jit-compiled call from the model's inputs
      (images, source ids) to tokens; `variables` is the model's `{"params": ..., ...}`.
    """
    def prepare(variables, inputs):
        memory = model.apply(variables, inputs, method="encode")
        return model.apply(variables, memory, method="initial_carry"), model_stepper(model, variables, memory)

    @jax.jit
    def greedy(variables, inputs):
        carry, step = prepare(variables, inputs)
        return greedy_decode(step, carry, inputs.shape[0], start, end, max_length)

    @functools.partial(jax.jit, static_argnums=2)
    def beam(variables, inputs, width):
        carry, step = prepare(variables, inputs)
        return beam_search(step, carry, inputs.shape[0], start, end, max_length, width, length_penalty)[0]

    return greedy, beam


def decode_in_chunks(decoders, variables, inputs, beam_width: int = 1, batch: int = 250):
    """Decodes the `N` rows of `inputs`, `batch` rows per call of `decoders = jitted_decoders(...)`.

    Decoding is greedy (with the attention weights) when `beam_width == 1`, else beam search of
    that width.

    Returns:
      `(tokens (N, max_length), alphas (N, max_length, L) or None)` as numpy arrays.
    """
    greedy, beam = decoders
    tokens, alphas = [], []
    for i in range(0, len(inputs), batch):
        chunk = jnp.asarray(inputs[i:i + batch])
        if beam_width == 1:
            t, a = greedy(variables, chunk)
            alphas.append(np.asarray(a))
        else:
            t = beam(variables, chunk, beam_width)
        tokens.append(np.asarray(t))
    return np.concatenate(tokens), (np.concatenate(alphas) if alphas else None)


def greedy_decode(step_fn: Callable, carry, batch: int, start: int, end: int, max_length: int):
    """Decodes the likeliest word at every step; after `end` every position holds `end`.

    Args:
      step_fn: `step_fn(carry, tokens (B,)) -> (carry, logits, alpha)`.
      carry: the initial carry for `batch` rows.
      batch: the number of rows `B`.
      start: the start token.
      end: the end token.
      max_length: the number of steps.

    Returns:
      `(tokens (B, max_length), alphas (B, max_length, L))`.
    """
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
    """Beam search: the best of `width` beams per example.

    At every step each live beam is extended by every word and the `width` best partial
    captions (by total log-probability) are kept; a beam that emitted `end` is finished and
    carried unchanged (only `end` may follow, at no cost). The winner maximizes
    `log p / length ** length_penalty` (length counts words up to and including `end`).

    Args:
      step_fn: `step_fn(carry, tokens (B * width,)) -> (carry, logits, alpha)`.
      carry: the initial carry for `batch` rows; it is repeated per beam, so `step_fn` sees
        `batch * width` rows.
      batch: the number of examples `B`.
      start: the start token.
      end: the end token.
      max_length: the number of steps.
      width: the number of beams.
      length_penalty: 0 gives the raw log-probability, 1 the per-word mean.

    Returns:
      `(tokens (B, max_length), score (B,))`: the winning beam and its normalized score.
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
