"""LSTM captioner (no attention) on the bundled shapes_captions scenes; BLEU-1..4 of greedy and beam captions."""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "captioning"
    c.dataset = "shapes_captions"   # or coco_captions (TFDS, prepared in data_dir) with image_size set
    c.data_dir = ""                 # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.image_size = 0                # resize images to this side (0 = keep; coco_captions needs it)
    c.vocab_size = 0                # ids in the vocabulary incl. 4 specials (0 = every training word)
    c.max_length = 20               # words per caption with <end>; longer captions are cut
    c.overfit = 0                   # train on the first N training images only (0 = all)
    c.eval_split = "validation"
    c.test_split = "test"
    c.seed = 0
    c.precision = "fp32"
    c.data_parallel = False
    c.model_parallel = 1
    c.batch_size = 64               # (image, reference caption) pairs per step
    c.eval_batch_size = 500
    c.num_steps = 3000               # optimizer steps (results per step count: docs/results.md)
    c.log_every = 50
    c.eval_every = 500
    c.checkpoint_every = 500
    c.attention_reg = 0.0           # doubly stochastic attention penalty (attention models)
    c.encoder_pretraining_steps = 800  # first train the encoder to recognize the scenes' objects for this many
                                      # steps (recognize_scene_objects, in <workdir>/encoder); 0 = from scratch

    c.model = ml_collections.ConfigDict()
    c.model.name = "lstm"           # rnn | lstm | attention
    c.model.features = 256          # decoder state size
    c.model.embed_dim = 128         # word embedding size
    c.model.attention_dim = 128     # attention MLP width (attention only)
    c.model.encoder_features = (32, 64, 128)  # conv stages, each halving the image: 64 -> 8x8 grid
    c.model.encoder_pools = 0       # pool after only the first N stages (0 = after every stage)
    c.model.act = "relu"            # encoder activation

    c.decode = ml_collections.ConfigDict()
    c.decode.beam_width = 3         # 1 = greedy only
    c.decode.length_penalty = 0.0   # beam score = log p / length ** length_penalty

    c.optimizer = optimizer(learning_rate=2e-3, warmup_steps=100, grad_clip_norm=5.0)
    return c
