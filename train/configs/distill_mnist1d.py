"""Distillation on MNIST-1D, where an MLP alone is weak (68% in Greydanus 2020): a 1-d CNN teacher, a 40-256-256-10 MLP student alone vs distilled (3 seeds)."""

import ml_collections

from train.configs import distill_digits


def get_config() -> ml_collections.ConfigDict:
    c = distill_digits.get_config()
    c.dataset = "mnist1d"
    c.input_key = "signal"
    c.teacher = ml_collections.ConfigDict({"name": "cnn", "num_classes": 10, "features": (32, 64, 128),
                                           "kernel_size": (5,), "convs_per_stage": 2, "hidden": 128,
                                           "norm": False, "dropout": 0.0, "act": "relu"})
    c.teacher_steps = 3000
    c.student_steps = 1500
    c.temperature = 4.0
    c.alpha = 0.9
    return c
