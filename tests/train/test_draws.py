"""`train.draws`: an eager draw made as a vector is JAX's own draw of the shape, bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np

from train import draws


def test_vector_draws_reshaped_are_the_draws_of_the_shape():
    key, shape = jax.random.key(7), (2, 3, 4, 5)
    np.testing.assert_array_equal(draws.normal(key, shape), jax.random.normal(key, shape))
    np.testing.assert_array_equal(draws.normal(key, shape, jnp.bfloat16), jax.random.normal(key, shape, jnp.bfloat16))
    assert draws.normal(key, shape).shape == shape
