"""The base of the generative and unsupervised image tasks, and the evaluation classifier they share.

Their batches are images only (`{"inputs": (B, H, W, C)}`), binarized at 0.5 when `config.binarize`.

Config fields shared by these tasks: dataset, data_dir, input_key, binarize, batch_size,
eval_batch_size, model (name + constructor fields), eval_classifier (the workdir or shipped model
name of the classifier used for sample quality; "" = `classify_digits` trained first in
`<workdir>/eval_classifier`),
num_samples. Each task's `report(state, workdir)` (called by the loop after training) adds what
`summary.json` needs beyond the test loss: likelihood comparisons, sample quality, probes, figures.
"""

import numpy as np

from train import data
from train.errors import UserError
from train.generative_eval import FeatureClassifier
from train.tasks.base import Task


class ImageTask(Task):
    """Images only: `{"inputs": (B, H, W, C)}` batches, binarized when `config.binarize`."""

    #: whether `report` scores samples with the evaluation classifier (on labelled datasets)
    scores_samples = False

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        self._splits = {}
        self._classifier = None
        self.shape = self.feature_shape("inputs")
        if len(self.shape) != 3:
            raise UserError(f"{config.task} needs images (H, W, C); '{config.dataset}' feature "
                            f"'{config.input_key}' has shape {self.shape}")

    def split(self, name: str) -> dict:
        """The arrays of split `name`, loaded once.

        Returns:
            `{"inputs": (N, H, W, C) float32}`, binarized when `config.binarize`, plus the dataset's
            `label` when it has one.
        """
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
        """Endless shuffled `config.batch_size` batches of the train split, from step `start_step`."""
        return data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over `split` in `config.eval_batch_size` batches."""
        return data.eval_batches(self.split(split), self.config.eval_batch_size)

    def stages(self) -> dict:
        """The sample-quality classifier, where `report` scores samples of a labelled dataset.

        It is the finished run or shipped model `config.eval_classifier` (e.g. `cnn_digits`), or
        `classify_digits` on this dataset trained first in `<workdir>/eval_classifier`.
        """
        if not self.scores_samples or "label" not in self.split("train"):
            return {}
        if self.config.eval_classifier:
            return {"eval_classifier": self.config.eval_classifier}
        from train import configs

        c = configs.get_config("classify_digits")
        c.dataset, c.data_dir = self.config.dataset, self.config.data_dir
        return {"eval_classifier": ("classify_digits", c)}

    def start_from(self, runs: dict) -> None:
        """Keep the `eval_classifier` stage's run (it must be a classification run) for `classifier`."""
        task, state = runs["eval_classifier"]
        if task.config.task != "classification":
            raise UserError(f"--config.eval_classifier must be a classification run; "
                            f"{self.config.eval_classifier} holds a '{task.config.task}' run")
        self._classifier = FeatureClassifier(task, state.variables())

    def classifier(self) -> FeatureClassifier:
        """The classifier `start_from` received (the loop runs `stages` before training)."""
        if self._classifier is None:
            raise RuntimeError("no evaluation classifier: train.loop.run provides it from stages()")
        return self._classifier


def model_fields(config, exclude=("name",)) -> dict:
    """Constructor arguments from the `model` block (lists become tuples), without `exclude`."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.model.items() if k not in exclude}
