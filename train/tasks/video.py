"""Frame-level video classification (`zoo.FrameLabeller`): a cross-entropy per frame.

The report gives per-frame test accuracy on clean, occluded and noised frames, with a figure of
labelled frames.

Config: dataset (`moving_digits`, or any dataset with `video: (N, T, H, W, C)` and per-frame
`label: (N, T)`), data_dir, model (cell `none` | `gru` | `lstm` | `rnn`, bidirectional, features,
hidden, act), batch_size (videos), eval_batch_size.
"""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train import data
from train.errors import UserError
from train.state import TrainState, init_variables
from train.tasks.base import ACTIVATIONS, Task, cached

CELLS = ("none", "gru", "lstm", "rnn")
CORRUPTIONS = ("clean", "occluded", "noised")        # `corruption` codes 0, 1, 2 of moving_digits


class FrameClassification(Task):
    """Label every frame of a video; see the module docstring."""

    primary_metric = "accuracy"

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        m = config.model
        if m.cell not in CELLS:
            raise UserError(f"unknown model.cell '{m.cell}'; choose one of {', '.join(CELLS)}")
        self.model = zoo.FrameLabeller(features=tuple(m.features), hidden=m.hidden,
                                       cell=None if m.cell == "none" else m.cell, bidirectional=m.bidirectional,
                                       act=ACTIVATIONS[m.act])

    @cached
    def split(self, name: str) -> dict:
        """The arrays of split `name`, loaded once.

        Returns:
            `{"video": (N, T, H, W, C) float32 in [0, 1] for uint8 data, "label": (N, T)}`, plus the
            `corruption` code per frame when the dataset has one.
        """
        arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
        if "video" not in arrays or "label" not in arrays or arrays["label"].ndim != 2:
            raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; frame "
                            f"classification needs 'video' (N, T, H, W, C) and a 'label' per frame (moving_digits)")
        video = arrays["video"]
        video = video.astype(np.float32) / 255.0 if video.dtype == np.uint8 else video.astype(np.float32)
        return {"video": video, "label": arrays["label"],
                **({"corruption": arrays["corruption"]} if "corruption" in arrays else {})}

    def _arrays(self, name):
        return {k: v for k, v in self.split(name).items() if k in ("video", "label")}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of videos and labels, from step `start_step`."""
        yield from data.train_batches(self._arrays("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over the videos and labels of `split` in `config.eval_batch_size` batches."""
        yield from data.eval_batches(self._arrays(split), self.config.eval_batch_size)

    def create_state(self, rng, tx):
        """Initialize `zoo.FrameLabeller` on one zero video and its optimizer state."""
        variables = init_variables(self.model, rng, jnp.zeros((1, *self.feature_shape("video"))))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx)

    def _frame_losses(self, params, batch):
        logits = self.model.apply({"params": params}, batch["video"])
        ce = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), batch["label"])
        return ce.mean(1), (jnp.argmax(logits, -1) == batch["label"]).mean(1)

    def loss_fn(self, params, state, batch, rng):
        """Cross-entropy averaged over frames and videos; metric per-frame `accuracy`; no updates."""
        ce, accuracy = self._frame_losses(params, batch)
        return jnp.mean(ce), ({"accuracy": jnp.mean(accuracy)}, {})

    def eval_metrics(self, state, batch):
        """Per-video `loss` and `accuracy`, each averaged over its frames, shape `(batch,)`."""
        ce, accuracy = self._frame_losses(state.params, batch)
        return {"loss": ce, "accuracy": accuracy}

    @functools.cached_property
    def _predict(self):
        return jax.jit(lambda params, video: jnp.argmax(self.model.apply({"params": params}, video), -1))

    def predict(self, params, video, batch: int = 100) -> np.ndarray:
        """`(N, T)` predicted label of every frame of `video: (N, T, H, W, C)`."""
        return np.concatenate([np.asarray(self._predict(params, jnp.asarray(video[i:i + batch])))
                               for i in range(0, len(video), batch)])

    def report(self, state, workdir):
        """Per-frame accuracy on `config.test_split`, by corruption when the dataset records it.

        Three test videos' labelled frames are drawn in `figures/frames.png`.

        Returns:
            `frame_accuracy`, plus `clean_accuracy`, `occluded_accuracy`, `noised_accuracy` and
            `corrupted_accuracy` with corruption codes, and a `headline`.
        """
        from train.figures import plot_frame_labels

        split = self.split(self.config.test_split)
        predicted = self.predict(state.params, split["video"])
        right = predicted == split["label"]
        result = {"frame_accuracy": float(right.mean())}
        if "corruption" in split:
            kind = split["corruption"]
            for code, name in enumerate(CORRUPTIONS):
                result[f"{name}_accuracy"] = float(right[kind == code].mean())
            result["corrupted_accuracy"] = float(right[kind > 0].mean())
        result["headline"] = f"{self.config.test_split} per-frame accuracy " + ", ".join(
            f"{k.removesuffix('_accuracy').replace('frame', 'all')} {v:.4f}" for k, v in result.items())
        plot_frame_labels(split["video"][:3], split["label"][:3], predicted[:3],
                          os.path.join(workdir, "figures", "frames.png"))
        return result
