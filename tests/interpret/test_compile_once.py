"""The compilation rule of `interpret` (its package docstring): a method called again with a new but
equivalent function, an inline lambda over the same model, builds no new program."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import interpret
from train.state import init_variables
from zoo import CNN

MODEL = CNN(features=(4,), hidden=8)
VARIABLES = init_variables(MODEL, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
X = jnp.asarray(np.random.default_rng(0).uniform(size=(4, 8, 8, 1)), jnp.float32)
Y = jnp.array([0, 1, 2, 3])

CALLS = {
    "saliency": lambda f: interpret.saliency(f, VARIABLES, X, Y),
    "integrated_gradients": lambda f: interpret.integrated_gradients(f, VARIABLES, X, Y, steps=4),
    "grad_cam": lambda f: interpret.grad_cam(f, VARIABLES, X, Y, "conv0_0"),
    "fgsm": lambda f: interpret.fgsm(f, VARIABLES, X, Y, 0.1),
    "pgd": lambda f: interpret.pgd(f, VARIABLES, X, Y, 0.1, 0.05, 3, jax.random.key(1)),
}


class Lowerings:
    """Counts programs lowered to MLIR: one per jit cache miss (and per new eager operation),
    before the persistent compilation cache is consulted, so a disk-cache hit still counts."""

    def __init__(self):
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._seen)

    def _seen(self, event, duration, **kwargs):
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            self.count += 1


LOWERINGS = Lowerings()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_ten_fresh_lambdas_compile_once(name):
    before = LOWERINGS.count
    outputs = [CALLS[name](lambda v, x: MODEL.apply(v, x)) for _ in range(10)]
    jax.block_until_ready(outputs)
    programs = LOWERINGS.count - before
    print(f"{name}: {programs} program(s) for 10 calls with a fresh lambda each")
    assert programs <= 1, f"{name} compiled {programs} programs for 10 equivalent lambdas"
    for out in outputs[1:]:
        chex.assert_trees_all_equal(out, outputs[0])


def test_another_model_is_another_program():
    other = MODEL.clone(act=jax.nn.tanh)
    ours, theirs = (interpret.saliency(lambda v, x: m.apply(v, x), VARIABLES, X, Y) for m in (MODEL, other))
    expected = interpret.saliency(jax.jit(lambda v, x: other.apply(v, x)), VARIABLES, X, Y)
    np.testing.assert_allclose(theirs, expected, rtol=1e-6)
    assert not np.allclose(ours, theirs)
