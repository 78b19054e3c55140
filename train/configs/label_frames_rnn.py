"""Frame CNN + bidirectional GRU labelling every frame of moving_digits videos; clean vs corrupted accuracy."""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "frame_classification"
    c.dataset = "moving_digits"     # bundled videos with a label per frame
    c.data_dir = ""                 # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.eval_split = "validation"
    c.test_split = "test"
    c.seed = 0
    c.precision = "fp32"
    c.data_parallel = False
    c.model_parallel = 1
    c.batch_size = 16               # videos (of 16 frames) per step
    c.eval_batch_size = 100
    c.num_steps = 600
    c.log_every = 100
    c.eval_every = 200
    c.checkpoint_every = 200

    c.model = ml_collections.ConfigDict()
    c.model.cell = "gru"            # none (the CNN alone) | gru | lstm | rnn
    c.model.bidirectional = True    # read the frames both ways (context from later frames too)
    c.model.features = (32, 64)     # frame CNN conv stages, each 3x3 + 2x max pool
    c.model.hidden = 128            # frame feature and recurrent state size
    c.model.act = "relu"            # frame CNN activation

    c.optimizer = optimizer(learning_rate=2e-3, warmup_steps=50, grad_clip_norm=1.0)
    return c
