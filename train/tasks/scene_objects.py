"""Recognizing the objects of `shapes_captions` scenes: for each (size, colour, shape) kind, is one in the scene?

There are 36 kinds. A multi-label task (sigmoid cross-entropy per kind) whose model,
`zoo.GridClassifier`, is the captioners' image encoder with a max-pooled head; `caption_shapes`
starts its encoder from such a run (the lecture's captioner takes its image features from a CNN
trained for recognition).

Config: dataset (a `shapes_captions` config), data_dir, model (`encoder_features`,
`encoder_pools`, `act`, as in the captioning recipes), batch_size, eval_batch_size.
"""

import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train import data
from train.errors import UserError
from train.state import TrainState, init_variables
from train.tasks.base import ACTIVATIONS, Task


def object_kinds(objects) -> np.ndarray:
    """Multi-hot presence of each (size, colour, shape) kind in each scene.

    Args:
        objects: `(N, K, 5)` int rows (shape, colour, size, row, col), -1 padded.

    Returns:
        `(N, 36)` float32, kind index `(size * colours + colour) * shapes + shape`.
    """
    from train.data.shapes import COLOUR_NAMES, SHAPES, SIZE_NAMES

    objects = np.asarray(objects)
    kinds = np.zeros((len(objects), len(SIZE_NAMES) * len(COLOUR_NAMES) * len(SHAPES)), np.float32)
    scene, slot = np.nonzero(objects[..., 0] >= 0)
    o = objects[scene, slot]
    kinds[scene, (o[:, 2] * len(COLOUR_NAMES) + o[:, 1]) * len(SHAPES) + o[:, 0]] = 1.0
    return kinds


class SceneObjects(Task):
    """Multi-label recognition of the object kinds in a scene.

    `exact_match` is the share of scenes whose 36 present/absent calls are all right.
    """

    primary_metric = "exact_match"

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        self._splits = {}
        m = config.model
        self.model = zoo.GridClassifier(num_classes=self.feature_shape("kinds")[0],
                                        encoder_features=tuple(m.encoder_features),
                                        encoder_pools=m.get("encoder_pools") or None, act=ACTIVATIONS[m.act])

    def split(self, name: str) -> dict:
        """The arrays of split `name`, loaded once: `{"image": (N, H, W, C) float32, "kinds": (N, 36) float32}`."""
        if name not in self._splits:
            arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
            if "objects" not in arrays:
                raise UserError(f"dataset '{self.config.dataset}' has no 'objects' annotations; recognizing scene "
                                f"objects needs shapes_captions (a captioner of other data: "
                                f"--config.encoder_pretraining_steps=0)")
            self._splits[name] = {"image": np.asarray(arrays["image"], np.float32),
                                  "kinds": object_kinds(arrays["objects"])}
        return self._splits[name]

    def create_state(self, rng, tx):
        """Initialize `zoo.GridClassifier` on one zero image and its optimizer state."""
        variables = init_variables(self.model, rng, jnp.zeros((1, *self.feature_shape("image"))))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx)

    def _losses(self, params, batch):
        logits = self.model.apply({"params": params}, batch["image"]).astype(jnp.float32)
        loss = optax.sigmoid_binary_cross_entropy(logits, batch["kinds"]).mean(-1)
        exact = jnp.all((logits > 0) == (batch["kinds"] > 0.5), axis=-1).astype(jnp.float32)
        return loss, exact

    def loss_fn(self, params, state, batch, rng):
        """Mean sigmoid cross-entropy over kinds and scenes; metric `exact_match`; no updates."""
        loss, exact = self._losses(params, batch)
        return jnp.mean(loss), ({"exact_match": jnp.mean(exact)}, {})

    def eval_metrics(self, state, batch):
        """Per-scene `loss` (mean over kinds) and 0/1 `exact_match`, each `(batch,)` float32."""
        loss, exact = self._losses(state.params, batch)
        return {"loss": loss, "exact_match": exact}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of the train split, from step `start_step`."""
        return data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over `split` in `config.eval_batch_size` batches."""
        return data.eval_batches(self.split(split), self.config.eval_batch_size)
