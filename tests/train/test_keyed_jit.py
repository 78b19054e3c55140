"""`train.keyed_jit`: function arguments keyed by what they compute, so equivalent fresh lambdas share
one compiled program and different functions never do."""

import functools

import jax.numpy as jnp
import optax
import pytest

from train.keyed_jit import FunctionKey, keyed_jit
from zoo import CNN, LeNet5

SCALE = 2.0


def over(model):
    return lambda p, x: model.apply(p, x)


def scaled(p, x):
    return SCALE * x


def test_fresh_lambdas_over_equal_models_are_equal():
    assert FunctionKey(over(LeNet5())) == FunctionKey(over(LeNet5()))
    assert hash(FunctionKey(over(LeNet5()))) == hash(FunctionKey(over(LeNet5())))
    assert FunctionKey(LeNet5().apply) == FunctionKey(LeNet5().apply)


@pytest.mark.parametrize("other", [
    over(LeNet5(dtype=jnp.bfloat16)),           # a closure cell with another value
    over(CNN()),                                # another model
    lambda p, x: LeNet5().apply(p, x) + 1,      # other code
    CNN().apply,                                # a bound method of another module
])
def test_different_functions_are_not_equal(other):
    assert FunctionKey(over(LeNet5())) != FunctionKey(other)


def test_globals_are_read_by_value(monkeypatch):
    before = FunctionKey(scaled)
    monkeypatch.setitem(globals(), "SCALE", 3.0)
    assert FunctionKey(scaled) != before
    monkeypatch.setitem(globals(), "SCALE", 2.0)
    assert FunctionKey(scaled) == before


def test_partials_and_optax_transformations_by_their_arguments():
    assert FunctionKey(functools.partial(scaled, 1.0)) == FunctionKey(functools.partial(scaled, 1.0))
    assert FunctionKey(functools.partial(scaled, 1.0)) != FunctionKey(functools.partial(scaled, 2.0))
    assert FunctionKey(optax.adam(1e-3)) == FunctionKey(optax.adam(1e-3))
    assert FunctionKey(optax.adam(1e-3)) != FunctionKey(optax.adam(2e-3))
    assert FunctionKey(optax.adam(1e-3)) != FunctionKey(optax.sgd(1e-3))


def test_unhashable_captures_by_identity():
    times = lambda t: lambda p, x: x * t
    table = jnp.arange(3.0)
    assert FunctionKey(times(table)) == FunctionKey(times(table))             # the same array object
    assert FunctionKey(times(table)) != FunctionKey(times(jnp.arange(3.0)))   # an equal but other array


def test_recursive_functions_terminate():
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    assert FunctionKey(fact) == FunctionKey(fact)


def test_keyed_jit_traces_once_for_equivalent_functions_and_again_for_others():
    traces = []

    @keyed_jit("fn", static_argnames="power")
    def apply(fn, x, power):
        traces.append(power)
        return fn(None, x) ** power

    x = jnp.ones(3)
    for _ in range(3):
        out = apply(lambda p, x: SCALE * x, x, power=2)
    assert traces == [2] and float(out[0]) == 4.0
    assert float(apply(lambda p, x: 3 * x, x, power=2)[0]) == 9.0     # another function: traced anew
    assert float(apply(lambda p, x: SCALE * x, x, power=3)[0]) == 8.0  # another static option too
    assert traces == [2, 2, 3]
