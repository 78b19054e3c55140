"""PixelCNN, gated PixelCNN and PixelRNN as one task: exact NLL, sequential sampling."""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train.errors import UserError
from train.generative_eval import independent_pixels_nll, sample_quality, save_grids
from train.sampling import sample_pixels
from train.state import TrainState, init_variables
from train.tasks.images import ImageTask, model_fields


AUTOREGRESSIVE = {"pixelcnn": zoo.PixelCNN, "gated_pixelcnn": zoo.GatedPixelCNN, "pixelrnn": zoo.PixelRNN}


class AutoregressiveTask(ImageTask):
    """PixelCNN / gated PixelCNN / PixelRNN: per-pixel softmax over `model.levels` intensities.

    The loss is the NLL in nats per image. Report: test NLL and bits/dim, the independent-pixels
    baseline, samples (sequential, timed) and their quality.
    """

    primary_metric = "nll_nats"
    scores_samples = True

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        name = config.model.name
        if name not in AUTOREGRESSIVE:
            raise UserError(f"unknown model.name '{name}'; choose one of {', '.join(AUTOREGRESSIVE)}")
        self.levels = config.model.levels
        if config.binarize and self.levels != 2:
            raise UserError("binarized data needs model.levels = 2")
        self.model = AUTOREGRESSIVE[name](**model_fields(config))

    def create_state(self, rng, tx):
        """Initialize the `model.name` network on one zero image and its optimizer state."""
        params = init_variables(self.model, rng, jnp.zeros((1, *self.shape)))["params"]
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx)

    def nll(self, params, x, rng=None):
        """Per-image NLL in nats (with dropout when `rng` is given).

        Args:
            params: the model parameters.
            x: images `(B, H, W, C)` in [0, 1]; targets are `x` quantized to `model.levels` levels.
            rng: a `jax.random` key for dropout, or None for the deterministic model.

        Returns:
            `(B,)` float NLL, summed over pixels and channels.
        """
        logits = self.model.apply({"params": params}, x, train=rng is not None,
                                  rngs=None if rng is None else {"dropout": rng})
        targets = jnp.round(x * (self.levels - 1)).astype(jnp.int32)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
        return ce.reshape(ce.shape[0], -1).sum(-1)

    def loss_fn(self, params, state, batch, rng):
        """Mean per-image NLL of `batch["inputs"]` with dropout; no metrics, no updates."""
        return self.nll(params, batch["inputs"], rng).mean(), ({}, {})

    def eval_metrics(self, state, batch):
        """Per-image `nll_nats` and `bits_per_dim`, each of shape `(batch,)`."""
        nll = self.nll(state.params, batch["inputs"])
        return {"nll_nats": nll, "bits_per_dim": nll / (np.prod(self.shape) * np.log(2))}

    def report(self, state, workdir):
        """Sample `config.num_samples` images sequentially, timed, and score them.

        Writes `figures/samples.png` under `workdir`.

        Returns:
            `samples_per_s` (the compiled sampler's throughput), plus `independent_pixels_nll_nats`
            on binarized data and `sample_quality` on labelled data.
        """
        test, train = self.split(self.config.test_split), self.split("train")
        n = self.config.num_samples
        sampler = jax.jit(lambda params, key: sample_pixels(lambda x: self.model.apply({"params": params}, x), key, n,
                                                            self.shape, self.levels))
        compiled = sampler.lower(state.params, jax.random.key(0)).compile()
        start = time.perf_counter()
        samples = np.asarray(jax.block_until_ready(compiled(state.params, jax.random.key(1))))
        seconds = time.perf_counter() - start
        save_grids(os.path.join(workdir, "figures", "samples.png"), {"samples": samples[:100]})
        out = {"samples_per_s": self.config.num_samples / seconds}
        if self.config.binarize:
            out["independent_pixels_nll_nats"] = independent_pixels_nll(train["inputs"], test["inputs"])
        if "label" in test:
            out["sample_quality"] = sample_quality(self.classifier(), samples, test["inputs"])
        return out
