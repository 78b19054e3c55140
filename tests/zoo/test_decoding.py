"""Decoding: beam search against exhaustive search on a tiny vocabulary; width 1 equals greedy;
`model_stepper` widens a model's memory to the beams."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.captioning import AttentionCaptioner
from zoo.decoding import beam_search, greedy_decode, model_stepper
from train.state import init_variables

VOCAB, START, END = 5, 3, 4     # words 0..2, then <start>, <end>


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


def reference_beam(step, carry, row, max_length, width, length_penalty):
    """Beam search by its definition, one hypothesis at a time: extend every live beam by every
    word, keep the `width` most probable prefixes (a finished beam is only followed by END, at
    no cost), then pick the best of the last `width` by `log p / length ** length_penalty`."""
    beams = [(0.0, (), carry[row:row + 1], START)]
    for _ in range(max_length):
        candidates = []
        for logp, seq, c, last in beams:
            if END in seq:
                candidates.append((logp, seq + (END,), c, END))
                continue
            c2, logits, _ = step(c, jnp.array([last]))
            word_logp = np.asarray(jax.nn.log_softmax(logits[0]))
            candidates += [(logp + float(word_logp[w]), seq + (w,), c2, w) for w in range(VOCAB)]
        beams = sorted(candidates, key=lambda b: -b[0])[:width]
    length = lambda seq: seq.index(END) + 1 if END in seq else max_length
    return max(((logp / length(seq) ** length_penalty, seq) for logp, seq, _, _ in beams), key=lambda b: b[0])


@pytest.mark.parametrize("width, length_penalty", [(2, 0.0), (3, 1.0)])
def test_a_beam_narrower_than_the_vocabulary_follows_its_definition_where_greedy_differs(width, length_penalty):
    max_length, differs = 4, 0
    for seed in range(4):
        step, carry = toy_step(seed)
        tokens, scores = beam_search(step, carry, 2, START, END, max_length, width, length_penalty)
        greedy, _ = greedy_decode(step, carry, 2, START, END, max_length)
        for row in range(2):
            score, seq = reference_beam(step, carry, row, max_length, width, length_penalty)
            assert tuple(np.asarray(tokens[row])) == seq, (seed, row)
            assert float(scores[row]) == pytest.approx(score, abs=1e-4)
            differs += tuple(np.asarray(greedy[row])) != seq
    assert differs >= 1, "no case where the beam beats greedy decoding: the check would not see a greedy beam"


def test_greedy_decode_follows_the_argmax_and_holds_end_after_it():
    """Greedy decoding one row at a time by its definition: feed START, take the argmax word, feed it
    back; once END is emitted every later position is END. Some rows end early (the END padding is seen)."""
    max_length, ended_early = 6, 0
    for seed in range(3):
        step, carry = toy_step(seed)
        tokens, _ = jax.jit(lambda c: greedy_decode(step, c, 2, START, END, max_length))(carry)
        step = jax.jit(step)
        for row in range(2):
            c, last, seq = carry[row:row + 1], START, []
            while len(seq) < max_length and last != END:
                c, logits, _ = step(c, jnp.array([last]))
                last = int(np.argmax(np.asarray(logits[0])))
                seq.append(last)
            ended_early += len(seq) < max_length
            assert tuple(np.asarray(tokens[row])) == tuple(seq + [END] * (max_length - len(seq))), (seed, row)
    assert ended_early >= 1


def test_beam_width_one_is_greedy():
    step, carry = toy_step(seed=3)
    greedy, _ = greedy_decode(step, carry, 2, START, END, 6)
    beam, _ = beam_search(step, carry, 2, START, END, 6, width=1)
    np.testing.assert_array_equal(greedy, beam)


def test_model_stepper_repeats_memory_rows_for_beams():
    model = AttentionCaptioner(VOCAB, features=8, embed_dim=8, attention_dim=8, encoder_features=(4,))
    images = jax.random.uniform(jax.random.key(0), (2, 8, 8, 3))
    params = init_variables(model, jax.random.key(1), images, jnp.zeros((2, 3), jnp.int32))["params"]
    memory = model.apply({"params": params}, images, method="encode")
    carry = model.apply({"params": params}, memory, method="initial_carry")
    step = model_stepper(model, {"params": params}, memory)
    tokens = jnp.array([START, START])
    _, logits, _ = step(carry, tokens)
    wide_carry = jax.tree.map(lambda a: jnp.repeat(a, 3, axis=0), carry)
    _, wide_logits, _ = step(wide_carry, jnp.repeat(tokens, 3))
    np.testing.assert_allclose(wide_logits, jnp.repeat(logits, 3, axis=0), atol=1e-6)
