"""`compress.fit.fit` with a checkpoint file: a damaged or mismatched file is a one-line error."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress.fit import fit
from train.errors import UserError

SPLIT = {"inputs": np.random.default_rng(0).random((32, 3), np.float32), "label": np.arange(32) % 2}


def loss(w, x, y, rng):
    return optax.softmax_cross_entropy_with_integer_labels(x @ w, y).mean()


@pytest.mark.parametrize("damage", [b"not msgpack", b""])
def test_a_damaged_checkpoint_is_one_line_naming_the_file_and_fresh(tmp_path, damage):
    path = tmp_path / "phase.msgpack"
    w, _ = fit(loss, jnp.zeros((3, 2)), optax.sgd(0.1), SPLIT, 4, batch_size=8, progress=False, checkpoint=str(path))
    assert np.abs(np.asarray(w)).sum() > 0
    path.write_bytes(damage)
    with pytest.raises(UserError, match=rf"^cannot resume from {path} \(.*\); rerun with --fresh") as e:
        fit(loss, jnp.zeros((3, 2)), optax.sgd(0.1), SPLIT, 4, batch_size=8, progress=False, checkpoint=str(path))
    assert "\n" not in str(e.value)


def test_a_checkpoint_of_other_shapes_is_refused(tmp_path):
    path = str(tmp_path / "phase.msgpack")
    fit(loss, jnp.zeros((3, 2)), optax.sgd(0.1), SPLIT, 2, batch_size=8, progress=False, checkpoint=path)
    with pytest.raises(UserError, match="cannot resume from"):
        fit(loss, jnp.zeros((3, 5)), optax.sgd(0.1), SPLIT, 2, batch_size=8, progress=False, checkpoint=path)
