"""The captioners' CNN encoder recognizing which (size, colour, shape) kinds are in a shapes_captions scene.

There are 36 kinds; caption_shapes starts from this encoder.
"""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "scene_objects"
    c.dataset = "shapes_captions"
    c.data_dir = ""                 # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.eval_split = "validation"
    c.test_split = "test"
    c.seed = 0
    c.batch_size = 64
    c.eval_batch_size = 500
    c.num_steps = 1000
    c.log_every = 50
    c.eval_every = 500
    c.checkpoint_every = 500

    c.model = ml_collections.ConfigDict()
    c.model.encoder_features = (32, 64, 128)  # as caption_shapes: conv stages, each halving the image
    c.model.encoder_pools = 0       # pool after only the first N stages (0 = after every stage)
    c.model.act = "relu"

    c.optimizer = optimizer(learning_rate=2e-3, warmup_steps=100)
    return c
