"""Recurrent attention model: the glimpse sensor crops and pools what it should (against a
hand-written crop), and the model's outputs have the documented shapes and policy behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.ram import RecurrentAttentionModel, glimpse_sensor
from train.state import init_variables


def test_glimpse_patches_are_crops_pooled_to_the_patch_size():
    image = np.arange(16 * 16, dtype=np.float32).reshape(1, 16, 16, 1)
    location = jnp.array([[-0.5, 0.25]])                    # row 4, column 10 (pixel centres at 16 (l+1)/2)
    patches = np.asarray(glimpse_sensor(jnp.asarray(image), location, patch=4, scales=2))
    assert patches.shape == (1, 2, 4, 4, 1)
    np.testing.assert_allclose(patches[0, 0, ..., 0], image[0, 2:6, 8:12, 0])
    wide = image[0, 0:8, 6:14, 0].reshape(4, 2, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(patches[0, 1, ..., 0], wide)


def test_patches_beyond_the_border_read_zeros():
    image = jnp.ones((1, 8, 8, 1))
    patches = np.asarray(glimpse_sensor(image, jnp.array([[-1.0, -1.0]]), patch=4, scales=1))
    np.testing.assert_allclose(patches[0, 0, ..., 0], np.pad(np.ones((2, 2)), ((2, 0), (2, 0))))


@pytest.mark.parametrize("policy", ["learned", "random"])
def test_outputs_and_locations(policy):
    model = RecurrentAttentionModel(glimpses=4, patch=4, scales=2, glimpse_hidden=8, features=16, policy=policy)
    images = jax.random.uniform(jax.random.key(0), (3, 16, 16, 1))
    noise = (jax.random.uniform(jax.random.key(1), (3, 4, 2), minval=-1, maxval=1) if policy == "random"
             else jax.random.normal(jax.random.key(1), (3, 4, 2)))
    variables = init_variables(model, jax.random.key(2), images, noise)
    out = model.apply(variables, images, noise)
    assert out["logits"].shape == (3, 10) and out["locations"].shape == (3, 4, 2)
    assert out["log_probs"].shape == out["baselines"].shape == (3, 3)
    np.testing.assert_allclose(out["locations"][:, 0], 0.0)                      # the first look is central
    assert float(jnp.abs(out["locations"]).max()) <= 1.0
    if policy == "random":
        np.testing.assert_allclose(out["locations"][:, 1:], noise[:, :-1])
    else:                                       # the policy's gradient reaches only the location layer
        grads = jax.grad(lambda p: model.apply({"params": p}, images, noise)["log_probs"].sum())(variables["params"])
        nonzero = {"/".join(str(k.key) for k in path[:-1]) for path, g in jax.tree_util.tree_leaves_with_path(grads)
                   if float(jnp.abs(g).max()) > 0}
        assert nonzero == {"step/location"}
