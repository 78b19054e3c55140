"""Kinds of training, each plugged into the shared loop through `train.tasks.base.Task`."""

from train.errors import UserError
from train.tasks.autoencoder import AutoencoderTask
from train.tasks.autoregressive import AutoregressiveTask
from train.tasks.base import Task
from train.tasks.captioning import Captioning
from train.tasks.classification import Classification
from train.tasks.distillation import Distillation
from train.tasks.draw import DRAWTask
from train.tasks.gan import GANTask
from train.tasks.glimpses import GlimpseClassification
from train.tasks.language_model import LanguageModel
from train.tasks.scene_objects import SceneObjects
from train.tasks.translation import Translation
from train.tasks.vae import VAETask
from train.tasks.video import FrameClassification

TASKS = {"classification": Classification, "distillation": Distillation, "language_model": LanguageModel,
         "autoencoder": AutoencoderTask, "vae": VAETask, "gan": GANTask, "autoregressive": AutoregressiveTask,
         "captioning": Captioning, "translation": Translation,
         "frame_classification": FrameClassification, "glimpses": GlimpseClassification,
         "draw": DRAWTask, "scene_objects": SceneObjects}


def make_task(config) -> Task:
    """The task named by `config.task`, built from the recipe config."""
    if config.task not in TASKS:
        raise UserError(f"unknown task '{config.task}'; choose one of {', '.join(TASKS)}")
    return TASKS[config.task](config)


__all__ = ["TASKS", "Task", "make_task"]
