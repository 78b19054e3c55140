"""Distillation on MNIST-1D: a 1-d CNN teacher, a 40-256-256-10 MLP student alone vs distilled (3 seeds).

On MNIST-1D an MLP alone is weak (68% in Greydanus 2020).
"""

import ml_collections

from train.configs import distill_digits


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = distill_digits.get_config()
    c.dataset = "mnist1d"
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.input_key = "signal"
    c.teacher = ml_collections.ConfigDict({"name": "cnn", "num_classes": 10, "features": (32, 64, 128),
                                           "kernel_size": (5,), "convs_per_stage": 2, "hidden": 128,
                                           "norm": False, "dropout": 0.0, "act": "relu"})
    c.teacher_steps = 3000
    # the student gains from distillation only with long training (results: docs/results.md)
    c.student_steps = 10000
    c.temperature = 8.0
    c.alpha = 0.9
    return c
