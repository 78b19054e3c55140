"""Captioning models: shapes and masking-free teacher forcing; beam search against exhaustive
search on a tiny vocabulary; width 1 equals greedy."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.captioning import AttentionCaptioner, CaptioningRNN, beam_search, greedy_decode

VOCAB, START, END = 5, 3, 4     # words 0..2, then <start>, <end>


@pytest.mark.parametrize("model", [CaptioningRNN(VOCAB, cell="rnn", features=16, embed_dim=8, encoder_features=(8, 8)),
                                   CaptioningRNN(VOCAB, cell="lstm", features=16, embed_dim=8, encoder_features=(8, 8)),
                                   AttentionCaptioner(VOCAB, features=16, embed_dim=8, attention_dim=8,
                                                      encoder_features=(8, 8))])
def test_teacher_forcing_matches_stepping_one_word_at_a_time(model):
    images = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
    tokens = jnp.array([[START, 0, 1, 2], [START, 2, 2, 0]])
    variables = model.init(jax.random.key(1), images, tokens)
    logits, alphas = model.apply(variables, images, tokens)
    assert logits.shape == (2, 4, VOCAB) and alphas.shape == (2, 4, 16)       # 16x16 -> 4x4 grid
    memory = model.apply(variables, images, method="encode")
    carry = model.apply(variables, memory, method="initial_carry")
    for t in range(4):
        carry, step_logits, alpha = model.apply(variables, carry, tokens[:, t], memory, method="step")
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)
        np.testing.assert_allclose(alpha, alphas[:, t], atol=1e-6)
    if isinstance(model, AttentionCaptioner):
        np.testing.assert_allclose(alphas.sum(-1), 1.0, atol=1e-5)


def toy_step(seed=0, dim=6):
    """A fixed random recurrent 'language model' over VOCAB words: logits depend on the whole prefix."""
    k = jax.random.split(jax.random.key(seed), 4)
    emb, out, rec = (jax.random.normal(k[0], (VOCAB, dim)), 2 * jax.random.normal(k[1], (dim, VOCAB)),
                     jax.random.normal(k[2], (dim, dim)))

    def step(carry, tokens):
        carry = jnp.tanh(carry @ rec + emb[tokens])
        return carry, carry @ out, jnp.zeros((tokens.shape[0], 1))

    return step, jax.random.normal(k[3], (2, dim))


def exhaustive_best(step, carry, row, max_length, length_penalty):
    """Score every caption (words until the first END, or max_length words) one at a time."""
    best = (-np.inf, None)
    for seq in itertools.product(range(VOCAB), repeat=max_length):
        if START in seq:
            continue
        if END in seq and any(t != END for t in seq[seq.index(END):]):
            continue                                                      # only END after END
        c, last, logp = carry[row:row + 1], jnp.array([START]), 0.0
        length = seq.index(END) + 1 if END in seq else max_length
        for t in seq[:length]:
            c, logits, _ = step(c, last)
            logp += float(jax.nn.log_softmax(logits[0])[t])
            last = jnp.array([t])
        score = logp / length ** length_penalty
        if score > best[0]:
            best = (score, seq)
    return best


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_wide_beam_search_finds_the_exhaustive_best(length_penalty):
    step, carry = toy_step()
    max_length = 3
    tokens, scores = jax.jit(lambda c: beam_search(step, c, 2, START, END, max_length, width=VOCAB ** 2,
                                                   length_penalty=length_penalty))(carry)
    for row in range(2):
        score, seq = exhaustive_best(step, carry, row, max_length, length_penalty)
        assert tuple(np.asarray(tokens[row])) == seq
        assert float(scores[row]) == pytest.approx(score, abs=1e-4)


def test_beam_width_one_is_greedy():
    step, carry = toy_step(seed=3)
    greedy, _ = greedy_decode(step, carry, 2, START, END, 6)
    beam, _ = beam_search(step, carry, 2, START, END, 6, width=1)
    np.testing.assert_array_equal(greedy, beam)
