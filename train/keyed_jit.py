"""`jax.jit` for library functions that take a function argument, keyed by what the function computes.

`jax.jit` with a function as a static argument caches on the function object, so every fresh
`lambda p, x: model.apply(p, x)` compiles again. `keyed_jit` wraps such arguments in `FunctionKey`,
which compares two functions equal when they would trace to the same program:

- plain functions and lambdas by their code (the same source, e.g. a lambda written inside a loop
  or a notebook cell that is run again), defaults, and the values of the closure cells and module
  globals their code reads;
- bound methods by the function and the value of `__self__` (Flax modules compare by their fields);
- `functools.partial` by the function and the bound arguments; tuples and NamedTuples (an optax
  `GradientTransformation`) element by element;
- any other value by `==` when it is hashable, else by identity (arrays, dicts, task objects).

This is the cache rule of `jax.jit` itself applied one level down: a function is assumed pure, so
state it reads through a mutable object (an attribute changed after the first call) is not seen,
exactly as `jax.jit(f)` does not see it for a fixed `f`.
"""

import functools
import inspect
import types
from typing import Callable, Sequence

import jax


class _Identity:
    """Compares equal only to a wrapper of the very same object (for unhashable values)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, _Identity) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _value_key(value, active: frozenset):
    if type(value) is tuple or (isinstance(value, tuple) and hasattr(value, "_fields")):  # NamedTuples too
        return ("tuple", type(value), tuple(_value_key(v, active) for v in value))
    if callable(value) and not isinstance(value, type) and not isinstance(value, types.ModuleType):
        return _function_key(value, active)
    try:
        hash(value)
    except TypeError:
        return _Identity(value)
    return ("value", type(value), value)


def _function_key(fn, active: frozenset = frozenset()):
    if isinstance(fn, FunctionKey):
        return fn.key
    if id(fn) in active:      # a function reaching itself (recursion): identity breaks the cycle
        return _Identity(fn)
    active = active | {id(fn)}
    if isinstance(fn, functools.partial):
        return ("partial", _function_key(fn.func, active), tuple(_value_key(a, active) for a in fn.args),
                tuple(sorted((k, _value_key(v, active)) for k, v in fn.keywords.items())))
    if inspect.ismethod(fn):
        return ("method", _function_key(fn.__func__, active), _value_key(fn.__self__, active))
    if isinstance(fn, types.FunctionType):
        cells = []
        for cell in fn.__closure__ or ():
            try:
                cells.append(_value_key(cell.cell_contents, active))
            except ValueError:   # a cell not yet filled
                cells.append(_Identity(cell))
        globals_ = tuple(sorted((name, _value_key(fn.__globals__[name], active))
                                for name in _global_names(fn.__code__) if name in fn.__globals__))
        defaults = tuple(_value_key(d, active) for d in fn.__defaults__ or ())
        kwdefaults = tuple(sorted((k, _value_key(v, active)) for k, v in (fn.__kwdefaults__ or {}).items()))
        return ("function", fn.__code__, defaults, kwdefaults, tuple(cells), globals_)
    try:
        hash(fn)
    except TypeError:
        return _Identity(fn)
    return ("callable", fn)


class FunctionKey:
    """Stands for `fn`, hashed and compared by what it computes (see the module).

    `fn` is a function, or a tuple of them such as an optax transformation; calls and attribute
    reads go to `fn`.
    """

    __slots__ = ("fn", "key", "_hash")

    def __init__(self, fn: Callable):
        self.fn = fn.fn if isinstance(fn, FunctionKey) else fn
        self.key = fn.key if isinstance(fn, FunctionKey) else _value_key(fn, frozenset())
        self._hash = hash(self.key)

    def __call__(self, *args, **kwargs):
        """Call `fn`."""
        return self.fn(*args, **kwargs)

    def __getattr__(self, name):   # e.g. `tx.update` of a wrapped optax transformation
        return getattr(object.__getattribute__(self, "fn"), name)

    def __eq__(self, other):
        return isinstance(other, FunctionKey) and self._hash == other._hash and self.key == other.key

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"FunctionKey({self.fn!r})"


def keyed_jit(fn_argnames: str | Sequence[str], static_argnames: str | Sequence[str] = ()):
    """Decorate `fun` with `jax.jit`, its `fn_argnames` static and keyed by `FunctionKey`.

    Args:
      fn_argnames: names of `fun`'s function-valued parameters.
      static_argnames: further static parameters (sizes, norms, flags), hashed by value.

    Returns:
      A decorator; the decorated function has `fun`'s signature, and a call with an equivalent new
      function (an inline lambda over the same model) reuses the compiled program.
    """
    fn_argnames = (fn_argnames,) if isinstance(fn_argnames, str) else tuple(fn_argnames)
    static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)

    def decorate(fun):
        signature = inspect.signature(fun)
        jitted = jax.jit(fun, static_argnames=fn_argnames + static_argnames)

        @functools.wraps(fun)
        def call(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            for name in fn_argnames:
                if name in bound.arguments and bound.arguments[name] is not None:
                    bound.arguments[name] = FunctionKey(bound.arguments[name])
            return jitted(*bound.args, **bound.kwargs)

        return call

    return decorate
