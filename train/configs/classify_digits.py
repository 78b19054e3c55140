"""CNN on the bundled 8x8 handwritten digits (the default recipe)."""

import ml_collections

from train.configs._common import optimizer


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.task = "classification"      # train.tasks.TASKS key
    c.dataset = "digits"           # bundled name or TFDS catalog name
    c.data_dir = ""                # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.input_key = "image"          # feature fed to the model
    c.eval_split = "test"          # split evaluated every eval_every steps
    c.test_split = "test"          # split of the final evaluation in summary.json
    c.seed = 0                     # initialization, shuffling and dropout
    c.precision = "fp32"           # fp32 | bf16 | fp16 (float32 params; fp16 adds dynamic loss scaling)
    c.data_parallel = False        # shard each batch over all devices (of all processes), state replicated
    c.model_parallel = 1           # with data_parallel: devices per model replica (big weights split over them)
    c.batch_size = 64              # training batch (remainder of each epoch dropped)
    c.eval_batch_size = 512        # evaluation batch (last one padded and masked)
    c.num_steps = 1200             # optimizer steps
    c.log_every = 50               # steps per metrics.jsonl line
    c.eval_every = 400             # steps per evaluation on eval_split (0: only at the end)
    c.checkpoint_every = 400       # steps per checkpoint (the last step is always saved)

    c.model = ml_collections.ConfigDict()
    c.model.name = "cnn"           # a key of train.tasks.classification.MODELS (mlp, cnn, lenet5, ...)
    c.model.num_classes = 10       # logits per example
    c.model.features = (32, 64)    # channels per conv stage
    c.model.kernel_size = (3, 3)   # conv kernel; its length is the number of spatial dims
    c.model.convs_per_stage = 2    # convolutions before each pooling
    c.model.hidden = 128           # width of the dense layer before the head
    c.model.norm = False           # BatchNorm after every conv
    c.model.dropout = 0.0          # dropout before the head
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu

    c.optimizer = optimizer(learning_rate=2e-3, warmup_steps=50)  # see train/configs/_common.py

    c.augment = ml_collections.ConfigDict()
    c.augment.crop_padding = 1     # random translation by up to this many pixels (images only)
    c.augment.flip = False         # random left-right mirror (wrong for digits)

    c.adversarial = ml_collections.ConfigDict()
    c.adversarial.method = "none"  # none | pgd (Madry et al.) | fgsm_rs (FGSM from a random start)
    c.adversarial.eps = 0.2        # perturbation budget in the norm below (pixels in [0, 1])
    c.adversarial.norm = "linf"    # linf | l2
    c.adversarial.steps = 7        # PGD steps per training batch
    c.adversarial.step_size = 0.05 # PGD step size
    return c
