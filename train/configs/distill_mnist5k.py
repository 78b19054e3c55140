"""Distillation on mnist5k after Hinton et al. 2015: LeNet-5 teacher, 784-800-800-10 student alone vs distilled.

As in Section 3 of the paper, the student is distilled at temperature 20; 3 seeds.
"""

import ml_collections

from train.configs import distill_digits


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = distill_digits.get_config()
    c.dataset = "mnist5k"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.teacher = ml_collections.ConfigDict({"name": "lenet5", "num_classes": 10, "features": (20, 50), "kernel_size": 5,
                                           "hidden": 500, "dropout": 0.0, "act": "relu"})
    c.teacher_steps = 2000
    c.teacher_learning_rate = 2e-3
    c.student = ml_collections.ConfigDict({"name": "mlp", "num_classes": 10, "features": (800, 800),
                                           "dropout": 0.0, "act": "relu"})
    c.student_steps = 1500
    c.student_learning_rate = 1e-3
    c.temperature = 20.0               # the paper's MNIST temperature
    c.alpha = 0.9                      # soft targets dominate: "a considerably lower weight on the second objective"
    return c
