"""Recurrent attention model (Mnih et al. 2014) on the bundled cluttered_digits.

It takes 6 glimpses, with REINFORCE-trained locations.
"""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "glimpses"
    c.dataset = "cluttered_digits"  # bundled 40x40 canvases with one digit and clutter
    c.data_dir = ""                 # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.eval_split = "validation"
    c.test_split = "test"
    c.seed = 0
    c.precision = "fp32"
    c.data_parallel = False
    c.model_parallel = 1
    c.batch_size = 64
    c.eval_batch_size = 500
    c.eval_samples = 16             # evaluation averages the mean glimpse path and 16 sampled ones
    c.num_steps = 10000
    c.log_every = 200
    c.eval_every = 2500
    c.checkpoint_every = 2500

    c.model = ml_collections.ConfigDict()
    c.model.policy = "learned"      # learned (REINFORCE) | random (uniform locations, the control)
    c.model.glimpses = 6            # glimpses per image, the first at the centre
    c.model.patch = 8               # glimpse patch side; scale k covers patch * 2^k pixels
    c.model.scales = 3              # patches per glimpse (8, 16 and 32 pixels wide here)
    c.model.glimpse_hidden = 128    # 'what' and 'where' layer widths
    c.model.features = 256          # glimpse vector and LSTM core size
    c.model.std = 0.2               # location policy standard deviation (in [-1, 1] units)

    # decoupled weight decay: without it the glimpse network overfits the 1,437 training digits
    c.optimizer = optimizer(name="adamw", learning_rate=3e-3, warmup_steps=200, grad_clip_norm=5.0, weight_decay=0.05)
    return c
