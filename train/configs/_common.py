"""Config blocks shared by recipes (a module starting with `_` is not a recipe)."""

import ml_collections


def optimizer(**overrides) -> ml_collections.ConfigDict:
    """The `optimizer` block read by `train.optim.make_optimizer`, with `overrides` applied."""
    c = ml_collections.ConfigDict()
    c.name = "adam"           # adam | adamw | sgd
    c.learning_rate = 1e-3    # peak learning rate
    c.schedule = "cosine"     # constant | cosine (decays to 0 at num_steps)
    c.warmup_steps = 0        # linear warm-up from 0
    c.weight_decay = 0.0      # adamw / sgd decoupled weight decay
    c.b1 = 0.9                # adam / adamw first-moment decay (GANs use 0.5)
    c.b2 = 0.999              # adam / adamw second-moment decay
    c.momentum = 0.9          # sgd (Nesterov) momentum
    c.grad_clip_norm = 0.0    # clip gradients to this global norm; 0 = off
    c.accumulate_steps = 1    # gradient accumulation: update every k steps (effective batch k x batch_size)
    c.update(overrides)
    return c


def generative(task: str, **model) -> ml_collections.ConfigDict:
    """The fields every generative recipe shares (`train.tasks.generative`), with a `model` block."""
    c = ml_collections.ConfigDict()
    c.task = task                  # train.tasks.TASKS key
    c.dataset = "digits"           # bundled name or TFDS catalog name (e.g. mnist)
    c.data_dir = ""                # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.input_key = "image"          # image feature
    c.binarize = True              # threshold pixels at 0.5 (binary images, Bernoulli likelihoods)
    c.eval_split = "test"          # split evaluated every eval_every steps
    c.test_split = "test"          # split of the final evaluation and report
    c.seed = 0                     # initialization, shuffling, sampling
    c.precision = "fp32"           # compute precision (these models run in float32)
    c.batch_size = 64              # training batch
    c.eval_batch_size = 512        # evaluation batch (last one padded and masked)
    c.num_steps = 3000             # optimizer steps
    c.log_every = 100              # steps per metrics.jsonl line
    c.eval_every = 1000            # steps per evaluation on eval_split (0: only at the end)
    c.checkpoint_every = 1000      # steps per checkpoint (the last step is always saved)
    c.num_samples = 1000           # samples drawn for the report (sample quality, figures)
    c.eval_classifier = ""         # classifier (workdir or shipped name) scoring samples; "" = a first stage in <workdir>/eval_classifier
    c.model = ml_collections.ConfigDict(model)
    c.optimizer = optimizer(learning_rate=1e-3, schedule="cosine")
    return c
