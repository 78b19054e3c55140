import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import rnn as jax_rnn
from jax.test_util import check_grads

from zoo.rnn import (GRUCell, LSTMCell, ManyToMany, ManyToOne, OneToMany, Recurrent, RecurrentStack,
                     VanillaRNNCell, pack_cudnn_lstm_weights, reverse_padded)
from train.state import init_variables

B, T, I, H = 3, 6, 4, 5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def init_cell(cell, key=0):
    """Cell params with every entry random (biases too), so each term of the equations shows."""
    x = jnp.zeros((B, I))
    params = init_variables(cell, jax.random.key(key), cell.initialize_carry(B), x)["params"]
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(key + 1), len(leaves))
    return jax.tree.unflatten(tree, [0.5 * jax.random.normal(k, p.shape) for k, p in zip(keys, leaves)])


def numpy_step(kind, p, carry, x):
    """The cell equations written out in NumPy, one step."""
    wx, b, wh = np.asarray(p["xh"]["kernel"]), np.asarray(p["xh"]["bias"]), np.asarray(p["hh"]["kernel"])
    if kind == "rnn":
        return np.tanh(x @ wx + b + carry @ wh)
    if kind == "lstm":
        c, h = carry
        i, f, g, o = np.split(x @ wx + b + h @ wh, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return c, sigmoid(o) * np.tanh(c)
    bh = np.asarray(p["hh"]["bias"])
    xr, xz, xn = np.split(x @ wx + b, 3, axis=-1)
    hr, hz, hn = np.split(carry @ wh + bh, 3, axis=-1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    return (1 - z) * np.tanh(xn + r * hn) + z * carry


CELLS = {"rnn": VanillaRNNCell(H), "lstm": LSTMCell(H), "gru": GRUCell(H)}


@pytest.mark.parametrize("kind", CELLS)
def test_cells_match_the_numpy_equations_over_a_sequence(kind):
    cell = CELLS[kind]
    params = init_cell(cell)
    xs = np.asarray(jax.random.normal(jax.random.key(2), (B, T, I)))
    carry, ys = Recurrent(cell).apply({"params": {"cell": params}}, jnp.asarray(xs))
    ref = tuple(np.zeros((B, H)) for _ in range(2)) if kind == "lstm" else np.zeros((B, H))
    for t in range(T):
        ref = numpy_step(kind, params, ref, xs[:, t])
        np.testing.assert_allclose(ys[:, t], ref[1] if kind == "lstm" else ref, rtol=1e-5, atol=1e-5)
    chex.assert_trees_all_close(tuple(jax.tree.leaves(carry)), tuple(jax.tree.leaves(ref)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", CELLS)
def test_cell_gradients_match_numerical_gradients(kind):
    cell = CELLS[kind]
    params = init_cell(cell)
    xs = jax.random.normal(jax.random.key(3), (2, 3, I))

    def loss(params, xs):
        _, ys = Recurrent(cell).apply({"params": {"cell": params}}, xs)
        return jnp.sum(jnp.sin(ys))

    check_grads(loss, (params, xs), order=1, modes=["rev"], eps=1e-2, atol=2e-2, rtol=2e-2)


def test_lstm_forget_gate_bias_starts_at_one():
    params = init_variables(LSTMCell(H), jax.random.key(0), LSTMCell(H).initialize_carry(1), jnp.zeros((1, I)))["params"]
    bias = np.asarray(params["xh"]["bias"])
    np.testing.assert_array_equal(bias[H:2 * H], 1.0)
    assert not bias[:H].any() and not bias[2 * H:].any()


def test_scan_shares_one_set_of_parameters_across_time():
    layer = Recurrent(GRUCell(H))
    short = init_variables(layer, jax.random.key(0), jnp.zeros((B, 2, I)))
    long = init_variables(layer, jax.random.key(0), jnp.zeros((B, 50, I)))
    assert jax.tree.map(jnp.shape, short) == jax.tree.map(jnp.shape, long)


def test_reverse_padded_reverses_within_each_length():
    xs = jnp.arange(8).reshape(2, 4)
    out = reverse_padded(xs, jnp.array([4, 2]))
    np.testing.assert_array_equal(out, [[3, 2, 1, 0], [5, 4, 6, 7]])


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_matches_each_sequence_alone(kind, bidirectional):
    stack = RecurrentStack(kind, H, num_layers=2, bidirectional=bidirectional)
    xs = jax.random.normal(jax.random.key(0), (B, T, I))
    lengths = jnp.array([T, 4, 1])
    variables = init_variables(stack, jax.random.key(1), xs, lengths)
    carries, ys = stack.apply(variables, xs, lengths)
    for b, n in enumerate(np.asarray(lengths)):
        alone_carries, alone = stack.apply(variables, xs[b:b + 1, :n])
        np.testing.assert_allclose(ys[b, :n], alone[0], rtol=1e-5, atol=1e-6)
        assert not np.asarray(ys[b, n:]).any()
        chex.assert_trees_all_close(jax.tree.map(lambda c: c[b], carries), jax.tree.map(lambda c: c[0], alone_carries),
                                    rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_stack_equals_the_cudnn_layout_reference(bidirectional):
    """The weights the cuDNN fast path would receive reproduce our scanned LSTM through
    jax.experimental.rnn's pure-JAX reference of cuDNN's semantics (ragged lengths included)."""
    stack = RecurrentStack("lstm", H, num_layers=2, bidirectional=bidirectional)
    xs = jax.random.normal(jax.random.key(0), (B, T, I))
    lengths = jnp.array([T, 3, 1], jnp.int32)
    variables = init_variables(stack, jax.random.key(1), xs)
    carries, ys = stack.apply(variables, xs, lengths)
    weights = pack_cudnn_lstm_weights(variables["params"], 2, bidirectional)
    assert weights.shape == (jax_rnn.get_num_params_in_lstm(I, H, 2, bidirectional),)
    d = 2 if bidirectional else 1
    zeros = jnp.zeros((2 * d, B, H))
    y_ref, h_ref, c_ref = jax_rnn.lstm_ref(xs, zeros, zeros, *jax_rnn.unpack_lstm_weights(weights, I, H, 2, bidirectional),
                                           lengths, I, H, 2, 0.0, bidirectional)
    np.testing.assert_allclose(ys, y_ref, atol=1e-6)
    flat = [p for layer in carries for p in (layer if bidirectional else (layer,))]
    np.testing.assert_allclose(jnp.stack([h for _, h in flat]), h_ref, atol=1e-6)
    np.testing.assert_allclose(jnp.stack([c for c, _ in flat]), c_ref, atol=1e-6)


def test_initial_carry_continues_a_sequence_exactly():
    """Running [a; b] at once equals running a, then b from a's final carry (what TBPTT relies on)."""
    model = ManyToMany(11, "lstm", H, num_layers=2, vocab_size=11, embed_dim=4)
    tokens = jax.random.randint(jax.random.key(0), (B, 2 * T), 0, 11)
    variables = init_variables(model, jax.random.key(1), tokens)
    _, whole = model.apply(variables, tokens)
    carry, first = model.apply(variables, tokens[:, :T], initial_carry=model.initialize_carry(B))
    _, second = model.apply(variables, tokens[:, T:], initial_carry=carry)
    np.testing.assert_allclose(jnp.concatenate([first, second], axis=1), whole, rtol=1e-5, atol=1e-6)


def test_heads_have_the_lecture_shapes():
    xs = jnp.zeros((B, T, I))
    m2o = ManyToOne(7, "gru", H, bidirectional=True)
    assert m2o.apply(init_variables(m2o, jax.random.key(0), xs), xs).shape == (B, 7)
    m2m = ManyToMany(7, "rnn", H)
    assert m2m.apply(init_variables(m2m, jax.random.key(0), xs), xs)[1].shape == (B, T, 7)
    o2m = OneToMany(9, "lstm", H, num_layers=2)
    v, tokens = jax.random.normal(jax.random.key(1), (B, 3)), jnp.zeros((B, T), jnp.int32)
    variables = init_variables(o2m, jax.random.key(0), v, tokens)
    _, logits = o2m.apply(variables, v, tokens)
    assert logits.shape == (B, T, 9)
    _, other = o2m.apply(variables, v + 1.0, tokens)
    assert not np.allclose(logits, other)  # the vector conditions the whole sequence


def test_dropout_between_layers_only_when_training():
    stack = RecurrentStack("gru", H, num_layers=2, dropout=0.5)
    xs = jax.random.normal(jax.random.key(0), (B, T, I))
    variables = init_variables(stack, jax.random.key(1), xs)
    _, a = stack.apply(variables, xs)
    _, b = stack.apply(variables, xs)
    _, c = stack.apply(variables, xs, train=True, rngs={"dropout": jax.random.key(2)})
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_unknown_cell_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        init_variables(RecurrentStack("transformer", H), jax.random.key(0), jnp.zeros((1, 2, I)))
