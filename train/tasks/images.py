"""The base of the generative and unsupervised image tasks: images only (`{"inputs": (B, H, W, C)}`
batches, binarized at 0.5 when `config.binarize`), and the evaluation classifier they share.

Config fields shared by these tasks: dataset, data_dir, input_key, binarize, batch_size,
eval_batch_size, model (name + constructor fields), eval_classifier (workdir of the classifier
used for sample quality; "" = `<workdir>/eval_classifier`, trained there if missing),
num_samples. Each task's `report(state, workdir)` (called by the loop after training) adds what
`summary.json` needs beyond the test loss: likelihood comparisons, sample quality, probes, figures.
"""

import os

import numpy as np

from train import data
from train.errors import UserError
from train.generative_eval import FeatureClassifier
from train.tasks.base import Task


class ImageTask(Task):
    """Images only: `{"inputs": (B, H, W, C)}` batches, binarized when `config.binarize`."""

    def __init__(self, config):
        super().__init__(config)
        self._splits = {}
        self.shape = tuple(self.split("train")["inputs"].shape[1:])
        if len(self.shape) != 3:
            raise UserError(f"{config.task} needs images (H, W, C); '{config.dataset}' feature "
                            f"'{config.input_key}' has shape {self.shape}")

    def split(self, name: str) -> dict:
        if name not in self._splits:
            arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
            if self.config.input_key not in arrays:
                raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; "
                                f"set --config.input_key to the image feature")
            x = np.asarray(arrays[self.config.input_key], np.float32)
            if self.config.binarize:
                x = (x > 0.5).astype(np.float32)
            self._splits[name] = {"inputs": x, **({"label": arrays["label"]} if "label" in arrays else {})}
        return self._splits[name]

    def train_batches(self, start_step):
        return data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        return data.eval_batches(self.split(split), self.config.eval_batch_size)

    def classifier(self, workdir: str, progress: bool = False) -> FeatureClassifier:
        """The sample-quality classifier: `config.eval_classifier`, or one trained in `workdir`."""
        path = self.config.eval_classifier or os.path.join(workdir, "eval_classifier")
        return FeatureClassifier(path, self.config.dataset, progress=progress)


def model_fields(config, exclude=("name",)) -> dict:
    """Constructor arguments from the `model` block (lists become tuples), without `exclude`."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.model.items() if k not in exclude}
