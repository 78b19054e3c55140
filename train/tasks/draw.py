"""The DRAW task (`zoo.DRAW`): the negative variational bound in nats as the loss.

The bound is the reconstruction `-log p(x | sigmoid(c_T))` plus the steps' summed KL. The report has
the test bound, the independent-pixels baseline and a figure of canvases being drawn step by step
(samples from the prior and reconstructions of test images).
"""

import os

import jax
import jax.numpy as jnp
import numpy as np

import zoo
from train.errors import UserError
from train.generative_eval import bernoulli_nll, independent_pixels_nll
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.images import ImageTask, model_fields


class DRAWTask(ImageTask):
    """DRAW on binarized images (Bernoulli likelihood).

    Config (beyond `train.tasks.images`): model (steps, read_n, write_n, encoder_features,
    decoder_features, latent, attention).
    """

    primary_metric = "negative_bound"
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        if self.shape[-1] != 1:
            raise UserError(f"DRAW draws one-channel images; '{config.dataset}' images have shape {self.shape}")
        self.model = zoo.DRAW(self.shape, dtype=compute_dtype(config.precision), **model_fields(config))

    def create_state(self, rng, tx):
        """Initialize `zoo.DRAW` on one zero image, with the loss scale of `config.precision`."""
        x = jnp.zeros((1, *self.shape))
        params = init_variables(self.model, rng, x, jax.random.key(0))["params"]
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx,
                                 loss_scale=loss_scale(self.config.precision))

    def bound_terms(self, params, x, rng):
        """Per image `(reconstruction nats, KL nats)`; their sum is the negative variational bound.

        Args:
            params: the model parameters.
            x: binarized images `(B, H, W, 1)`.
            rng: a `jax.random` key for the latent samples.

        Returns:
            Two float32 arrays of shape `(B,)`.
        """
        logits, kl, _ = self.model.apply({"params": params}, x, rng)
        return bernoulli_nll(logits.astype(jnp.float32), x), kl.astype(jnp.float32)

    def loss_fn(self, params, state, batch, rng):
        """Mean negative bound; metrics `reconstruction` and `kl` (batch means); no updates."""
        recon, kl = self.bound_terms(params, batch["inputs"], rng)
        return (recon + kl).mean(), ({"reconstruction": recon.mean(), "kl": kl.mean()}, {})

    def eval_metrics(self, state, batch):
        """Per-image `negative_bound` and `kl` (nats, shape `(batch,)`), with a fixed latent key."""
        recon, kl = self.bound_terms(state.params, batch["inputs"], jax.random.key(0))
        return {"negative_bound": recon + kl, "kl": kl}

    def report(self, state, workdir):
        """Write the canvases figure `figures/draw.png` (8 prior samples, 8 test reconstructions).

        Returns:
            `independent_pixels_nll_nats` and a `headline` naming it and the figure.
        """
        from train.figures import plot_canvases

        test, train = self.split(self.config.test_split), self.split("train")
        samples = self.model.apply({"params": state.params}, jax.random.key(1), 8, method="generate")
        _, _, canvases = self.model.apply({"params": state.params}, jnp.asarray(test["inputs"][:8]), jax.random.key(2))
        plot_canvases({"samples": np.asarray(samples), "reconstructions": np.asarray(jax.nn.sigmoid(canvases))},
                      os.path.join(workdir, "figures", "draw.png"))
        baseline = independent_pixels_nll(train["inputs"], test["inputs"])
        return {"independent_pixels_nll_nats": baseline,
                "headline": f"independent-pixels baseline {baseline:.2f} nats; figure: figures/draw.png"}
