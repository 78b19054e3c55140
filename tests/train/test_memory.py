"""Large batches on small memory: gradient accumulation equals one big batch, and
rematerialized ResNet blocks give the same loss and gradients as stored activations."""

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

import zoo
from train.errors import UserError
from train.losses import cross_entropy_loss
from train.optim import make_optimizer
from train.state import TrainState
from train.configs._common import optimizer
from train.steps import make_train_step
from train.state import init_variables


def test_four_accumulated_steps_of_16_equal_one_step_of_64():
    model = zoo.MLP(features=(16,))
    rng = np.random.default_rng(0)
    batch = {"inputs": rng.random((64, 8, 8, 1), dtype=np.float32), "label": rng.integers(0, 10, 64).astype(np.int32)}
    params = init_variables(model, jax.random.key(0), batch["inputs"][:1])["params"]

    def train(config, micro_batches, num_steps=None):
        tx, schedule = make_optimizer(config, num_steps=num_steps or len(micro_batches))
        state = TrainState.create(apply_fn=model.apply, params=params, tx=tx)
        step = jax.jit(make_train_step(cross_entropy_loss, schedule))
        for b in micro_batches:
            state, metrics = step(state, b, jax.random.key(1))
        return state, metrics

    sgd = dict(name="sgd", learning_rate=0.5, schedule="constant", momentum=0.0)
    big, _ = train(optimizer(**sgd), [batch])
    quarters = [{k: v[i * 16:(i + 1) * 16] for k, v in batch.items()} for i in range(4)]
    acc, metrics = train(optimizer(**sgd, accumulate_steps=4), quarters)
    chex.assert_trees_all_close(big.params, acc.params, rtol=1e-5, atol=1e-6)
    assert float(metrics["learning_rate"]) == 0.5
    three, _ = train(optimizer(**sgd, accumulate_steps=4), quarters[:3], num_steps=4)  # no update before the 4th
    chex.assert_trees_all_equal(params, three.params)


def test_accumulation_must_divide_the_steps():
    with pytest.raises(UserError, match="accumulate_steps"):
        make_optimizer(ml_collections.ConfigDict(optimizer(accumulate_steps=3)), num_steps=100)


def test_remat_resnet_matches_plain_and_recomputes():
    x = jax.random.uniform(jax.random.key(0), (4, 32, 32, 3))
    labels = jnp.arange(4)
    plain, remat = zoo.resnet_cifar(8), zoo.resnet_cifar(8, remat=True)
    variables = init_variables(plain, jax.random.key(1), x)
    assert jax.tree.structure(variables) == jax.tree.structure(init_variables(remat, jax.random.key(1), x))

    def loss(model):
        def f(params):
            logits, _ = model.apply({"params": params, "batch_stats": variables["batch_stats"]}, x, train=True,
                                    mutable=["batch_stats"])
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
        return f

    (l1, g1), (l2, g2) = (jax.value_and_grad(loss(m))(variables["params"]) for m in (plain, remat))
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    chex.assert_trees_all_close(g1, g2, rtol=1e-4, atol=1e-6)
    jaxpr = str(jax.make_jaxpr(jax.grad(loss(remat)))(variables["params"]))
    assert "checkpoint" in jaxpr or "remat" in jaxpr
