"""The library's pure functions give the same results called eagerly and under a caller's `jit`
(`chex.variants`), and per example under `vmap` as on the batch where they claim batching.
References are the functions' definitions on tiny inputs, computed with NumPy."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

import interpret
from compress.quantize import fake_quant, int8_matmul, symmetric_scale
from rl.advantages import gae
from train import TrainState, make_train_step
from train.state import init_variables
from zoo import CNN

MODEL = CNN(features=(4,), hidden=8)
VARIABLES = init_variables(MODEL, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
X = jnp.asarray(np.random.default_rng(0).uniform(size=(3, 8, 8, 1)), jnp.float32)
Y = jnp.array([1, 4, 7])


def apply_fn(variables, x):
    return MODEL.apply(variables, x)


def numpy_gae(rewards, values, next_values, dones, gamma, lam):
    advantages, running = np.zeros_like(rewards), np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] - values[t]
        running = delta + gamma * lam * (1 - dones[t]) * running
        advantages[t] = running
    return advantages


class VariantsTest(chex.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    def test_train_step(self):
        state = TrainState.create(apply_fn=lambda v, x: x @ v["params"]["w"], params={"w": jnp.array([1.0, -2.0])},
                                  tx=optax.sgd(0.1))

        def loss(params, state, batch, rng):
            return jnp.mean((batch["x"] @ params["w"] - batch["y"]) ** 2), ({}, {})

        batch = {"x": jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "y": jnp.array([0.0, 0.0, 1.0])}
        new, _ = self.variant(make_train_step(loss))(state, batch, jax.random.key(0))
        residual = np.array([1.0, -2.0, -2.0])                     # x w - y
        grad = 2 * np.array([[1, 0], [0, 1], [1, 1]]).T @ residual / 3
        chex.assert_trees_all_close(new.params, {"w": np.array([1.0, -2.0]) - 0.1 * grad}, rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_gae_and_its_vmap_over_environments(self):
        rng = np.random.default_rng(1)
        rewards, values, next_values = (rng.standard_normal((5, 3)).astype(np.float32) for _ in range(3))
        dones = (rng.uniform(size=(5, 3)) < 0.3).astype(np.float32)
        expected = numpy_gae(rewards, values, next_values, dones, 0.9, 0.8)
        run = self.variant(lambda *a: gae(*a, 0.9, 0.8))
        advantages, targets = run(rewards, values, next_values, dones)
        chex.assert_trees_all_close((advantages, targets), (expected, expected + values), rtol=1e-5, atol=1e-6)
        per_env = jax.vmap(lambda *a: gae(*a, 0.9, 0.8)[0], in_axes=1, out_axes=1)(rewards, values, next_values,
                                                                                 dones)
        chex.assert_trees_all_close(per_env, expected, rtol=1e-5, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_int8_matmul_and_fake_quant(self):
        rng = np.random.default_rng(2)
        x, w = rng.standard_normal((4, 16)).astype(np.float32), rng.standard_normal((16, 3)).astype(np.float32)
        xs, ws = symmetric_scale(x, 8), symmetric_scale(w, 8, axis=-1)
        q = lambda a, s: np.clip(np.round(a / s), -127, 127)
        expected = (q(x, np.asarray(xs)) @ q(w, np.asarray(ws))) * np.asarray(xs) * np.asarray(ws)
        chex.assert_trees_all_close(self.variant(int8_matmul)(x, w, xs, ws), expected, rtol=1e-5)
        chex.assert_trees_all_close(self.variant(lambda a: fake_quant(a, 8, xs))(x), q(x, np.asarray(xs)) * xs,
                                    rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_projection(self):
        delta = jnp.asarray(np.random.default_rng(3).standard_normal((2, 4, 4, 1)), jnp.float32)
        linf = self.variant(lambda d: interpret.project(d, 0.3, "linf"))(delta)
        l2 = self.variant(lambda d: interpret.project(d, 0.3, "l2"))(delta)
        chex.assert_trees_all_close(linf, np.clip(delta, -0.3, 0.3))
        norms = np.linalg.norm(np.asarray(delta).reshape(2, -1), axis=1)
        chex.assert_trees_all_close(l2, delta * np.minimum(1, 0.3 / norms)[:, None, None, None], rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_saliency_and_fgsm_on_the_batch_and_per_example(self):
        maps = self.variant(lambda v, x, y: interpret.saliency(apply_fn, v, x, y))(VARIABLES, X, Y)
        one = jax.vmap(lambda x, y: interpret.saliency(apply_fn, VARIABLES, x[None], y[None])[0])(X, Y)
        chex.assert_trees_all_close(maps, one, rtol=1e-5, atol=1e-7)
        grads = jax.vmap(jax.grad(lambda x, y: apply_fn(VARIABLES, x[None])[0, y]))(X, Y)
        chex.assert_trees_all_close(maps, jnp.max(jnp.abs(grads), -1), rtol=1e-5, atol=1e-7)
        x_adv, _ = self.variant(lambda v, x, y: interpret.fgsm(apply_fn, v, x, y, 0.1))(VARIABLES, X, Y)
        logp = lambda x, y: -jax.nn.log_softmax(apply_fn(VARIABLES, x[None])[0])[y]
        chex.assert_trees_all_close(x_adv, jnp.clip(X + 0.1 * jnp.sign(jax.vmap(jax.grad(logp))(X, Y)), 0, 1))
