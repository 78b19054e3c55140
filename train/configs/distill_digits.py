"""Distillation study on digits: a CNN teacher, an MLP student alone vs distilled (3 seeds)."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.study = "train.distill_study"    # module whose run_study() runs this recipe
    c.dataset = "digits"               # bundled image dataset with labels
    c.data_dir = ""                    # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.input_key = "image"              # feature fed to the models ("signal" for mnist1d)
    c.eval_split = "test"              # split monitored while training (digits has no validation split)
    c.test_split = "test"              # split every model is scored on
    c.precision = "fp32"               # fp32 | bf16 | fp16 compute of every model
    c.teachers = ()                    # workdirs of trained classifiers to distil from; () = train them here
    c.num_teachers = 1                 # teachers trained when `teachers` is empty (their logits are averaged)
    c.teacher = ml_collections.ConfigDict({"name": "cnn", "num_classes": 10, "features": (32, 64),
                                           "kernel_size": (3, 3), "convs_per_stage": 2, "hidden": 128,
                                           "norm": False, "dropout": 0.0, "act": "relu"})
    c.teacher_steps = 1200             # teacher training steps
    c.teacher_learning_rate = 2e-3     # teacher Adam peak learning rate
    c.student = ml_collections.ConfigDict({"name": "mlp", "num_classes": 10, "features": (256, 256),
                                           "dropout": 0.0, "act": "relu"})
    c.student_steps = 600              # student training steps (alone and distilled alike)
    c.student_learning_rate = 2e-3     # student Adam peak learning rate
    c.seeds = (0, 1, 2)                # student seeds (initialization and batch order)
    c.temperature = 2.0                # softmax temperature of the soft targets
    c.alpha = 0.5                      # weight of the soft-target term (1 - alpha on the labels)
    c.cache_teacher = True             # teacher logits computed once for the whole training split
    return c
