"""Character-level LSTM language model on the bundled pydoc_topics prose (truncated BPTT)."""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "language_model"      # train.tasks.TASKS key
    c.dataset = "pydoc_topics"     # a text dataset: pydoc_topics, or TFDS tiny_shakespeare
    c.data_dir = ""                # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.eval_split = "validation"    # split scored every eval_every steps
    c.test_split = "test"          # split of the final score in summary.json
    c.seed = 0                     # initialization and dropout
    c.precision = "fp32"           # fp32 | bf16 | fp16 (float32 params; fp16 adds dynamic loss scaling)
    c.data_parallel = False        # shard each batch over all devices (of all processes), state replicated
    c.model_parallel = 1           # with data_parallel: devices per model replica (big weights split over them)
    c.batch_size = 32              # parallel contiguous streams through the training text
    c.seq_len = 128                # characters per truncated-BPTT chunk
    c.eval_batch_size = 16         # streams each evaluation split is cut into
    c.num_steps = 2000             # optimizer steps (one chunk of every stream each)
    c.log_every = 50               # steps per metrics.jsonl line
    c.eval_every = 500             # steps per validation score (0: only at the end)
    c.checkpoint_every = 500       # steps per checkpoint (the last step is always saved)

    c.model = ml_collections.ConfigDict()
    c.model.cell = "lstm"          # rnn | lstm | gru
    c.model.features = 256         # hidden units per layer
    c.model.num_layers = 2         # stacked recurrent layers
    c.model.embed_dim = 64         # character embedding size
    c.model.dropout = 0.0          # between layers and before the softmax
    c.model.act = "tanh"           # tanh | relu | gelu (cell nonlinearity)

    c.optimizer = optimizer(learning_rate=3e-3, warmup_steps=100, grad_clip_norm=1.0)  # clipping on by default
    return c
