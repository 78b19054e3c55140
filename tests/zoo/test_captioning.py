"""Captioning models: teacher forcing equals stepping one word at a time."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.captioning import AttentionCaptioner, CaptioningRNN
from train.state import init_variables

VOCAB, START = 5, 3


@pytest.mark.parametrize("model", [CaptioningRNN(VOCAB, cell="rnn", features=16, embed_dim=8, encoder_features=(8, 8)),
                                   CaptioningRNN(VOCAB, cell="lstm", features=16, embed_dim=8, encoder_features=(8, 8)),
                                   AttentionCaptioner(VOCAB, features=16, embed_dim=8, attention_dim=8,
                                                      encoder_features=(8, 8))])
def test_teacher_forcing_matches_stepping_one_word_at_a_time(model):
    images = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
    tokens = jnp.array([[START, 0, 1, 2], [START, 2, 2, 0]])
    variables = init_variables(model, jax.random.key(1), images, tokens)
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
