"""Encoder-decoder GRU without attention on the bundled dates (human-readable -> ISO); exact-match accuracy."""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "translation"
    c.dataset = "dates"             # bundled source -> target text: dates | addition
    c.data_dir = ""                 # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.max_source = 0                # source characters incl. <end> (0 = longest training source + 1)
    c.max_target = 0                # target characters incl. <end> (0 = longest training target + 1)
    c.eval_split = "validation"
    c.test_split = "test"
    c.seed = 0
    c.precision = "fp32"
    c.data_parallel = False
    c.model_parallel = 1
    c.batch_size = 128              # (source, target) pairs per step
    c.eval_batch_size = 500
    c.num_steps = 400               # the attention model is exact on the test dates after 300
    c.log_every = 100
    c.eval_every = 200
    c.checkpoint_every = 200

    c.model = ml_collections.ConfigDict()
    c.model.cell = "gru"            # gru | lstm, encoder (bidirectional) and decoder
    c.model.attention = False       # additive attention over the encoder states (Bahdanau et al. 2015)
    c.model.features = 128          # state size per direction
    c.model.embed_dim = 64          # character embedding size
    c.model.attention_dim = 128     # attention MLP width (attention only)

    c.decode = ml_collections.ConfigDict()
    c.decode.beam_width = 3         # 1 = greedy only
    c.decode.length_penalty = 0.0   # beam score = log p / length ** length_penalty

    c.optimizer = optimizer(learning_rate=3e-3, warmup_steps=100, grad_clip_norm=1.0)
    return c
