"""Seq2Seq: teacher forcing equals stepping one token at a time; attention never looks at padding,
so extra padding changes nothing; without attention the weights are zeros."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.seq2seq import Seq2Seq
from train.state import init_variables

SOURCE = jnp.array([[3, 4, 5, 2, 0, 0], [5, 6, 7, 8, 9, 2]])      # 0 = padding
TOKENS = jnp.array([[1, 4, 5, 6], [1, 3, 3, 6]])


@pytest.mark.parametrize("cell, attention", [("gru", True), ("lstm", True), ("gru", False)])
def test_teacher_forcing_matches_stepping(cell, attention):
    model = Seq2Seq(10, 7, features=12, embed_dim=8, attention_dim=8, cell=cell, attention=attention)
    variables = init_variables(model, jax.random.key(0), SOURCE, TOKENS)
    logits, alphas = model.apply(variables, SOURCE, TOKENS)
    assert logits.shape == (2, 4, 7) and alphas.shape == (2, 4, 6)
    memory = model.apply(variables, SOURCE, method="encode")
    carry = model.apply(variables, memory, method="initial_carry")
    for t in range(4):
        carry, step_logits, alpha = model.apply(variables, carry, TOKENS[:, t], memory, method="step")
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)
        np.testing.assert_allclose(alpha, alphas[:, t], atol=1e-6)
    attended = np.broadcast_to(np.asarray(SOURCE != 0)[:, None, :], alphas.shape) if attention else False
    np.testing.assert_array_equal(np.asarray(alphas) > 0, attended)     # every real position, never padding
    if attention:
        np.testing.assert_allclose(alphas.sum(-1), 1.0, atol=1e-5)


def test_extra_padding_changes_nothing():
    model = Seq2Seq(10, 7, features=12, embed_dim=8, attention_dim=8)
    variables = init_variables(model, jax.random.key(0), SOURCE, TOKENS)
    logits, alphas = model.apply(variables, SOURCE, TOKENS)
    longer = jnp.pad(SOURCE, ((0, 0), (0, 5)))
    padded_logits, padded_alphas = model.apply(variables, longer, TOKENS)
    np.testing.assert_allclose(padded_logits, logits, atol=1e-5)
    np.testing.assert_allclose(padded_alphas[..., :6], alphas, atol=1e-6)
    assert float(jnp.abs(padded_alphas[..., 6:]).max()) == 0.0


def test_bad_source_rank_is_explained():
    model = Seq2Seq(10, 7, features=4, embed_dim=4, attention_dim=4)
    with pytest.raises(ValueError, match="source must be"):
        init_variables(model, jax.random.key(0), SOURCE[..., None], TOKENS)
