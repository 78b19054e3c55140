"""FrameLabeller: the CNN alone labels each frame from its own pixels only; the recurrent layer
lets a frame's label depend on its neighbours."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.video import FrameLabeller
from train.state import init_variables

VIDEO = jnp.asarray(np.random.default_rng(0).random((2, 5, 12, 12, 1), np.float32))


def changed_frames(model):
    """Which frames' logits move when frame 2 of the first video is blanked."""
    variables = init_variables(model, jax.random.key(1), VIDEO)
    logits = model.apply(variables, VIDEO)
    assert logits.shape == (2, 5, 10)
    moved = model.apply(variables, VIDEO.at[0, 2].set(0.0)) - logits
    return np.abs(np.asarray(moved)).max(axis=-1) > 1e-6


def test_the_cnn_alone_sees_one_frame():
    changed = changed_frames(FrameLabeller(features=(4,), hidden=8, cell=None))
    np.testing.assert_array_equal(changed, [[False, False, True, False, False], [False] * 5])


@pytest.mark.parametrize("bidirectional, expected", [(True, [True] * 5), (False, [False, False, True, True, True])])
def test_the_recurrent_layer_carries_context(bidirectional, expected):
    changed = changed_frames(FrameLabeller(features=(4,), hidden=8, cell="gru", bidirectional=bidirectional))
    np.testing.assert_array_equal(changed, [expected, [False] * 5])


def test_bad_rank_is_explained():
    with pytest.raises(ValueError, match="expects video"):
        init_variables(FrameLabeller(), jax.random.key(0), jnp.zeros((2, 12, 12, 1)))
