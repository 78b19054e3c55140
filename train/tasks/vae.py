"""The variational autoencoder task: negative ELBO loss, importance-weighted NLL, figures."""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

import zoo
from train.errors import UserError
from train.generative_eval import (bernoulli_nll, bits_per_dim, importance_weighted_nll, independent_pixels_nll,
                                  sample_quality, save_grids)
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.images import ImageTask, model_fields


class VAETask(ImageTask):
    """VAE with the negative ELBO as loss (nats/image).

    The loss is `BCE(x, decoder(z)) + KL(q(z|x) || N(0, I))` with `model.likelihood = "bernoulli"`,
    or a Gaussian with fixed `model.sigma` on sigmoid means (`"gaussian"`, continuous data).
    Report: importance-weighted NLL (Burda et al. 2016) with `iwae_samples` samples per image, the
    independent-pixels baseline, samples, reconstructions and the latent manifold (2-d latents) or
    a traversal of two latent axes.
    """

    primary_metric = "negative_elbo"
    scores_samples = True
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        fields = model_fields(config, ("name", "likelihood", "sigma"))
        self.likelihood, self.sigma = config.model.likelihood, config.model.sigma
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise UserError(f"model.likelihood must be bernoulli or gaussian; got {self.likelihood!r}")
        self.model = zoo.VAE(self.shape, dtype=compute_dtype(config.precision), **fields)

    def create_state(self, rng, tx):
        """Initialize `zoo.VAE` on one zero image, with the loss scale of `config.precision`."""
        x = jnp.zeros((1, *self.shape))
        params = init_variables(self.model, rng, x, jax.random.key(0))["params"]
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx,
                                 loss_scale=loss_scale(self.config.precision))

    def log_likelihood(self, logits, x):
        """`log p(x|z)` per image.

        Args:
            logits: decoder outputs, float32 of the shape of `x`.
            x: images `(B, H, W, C)`.

        Returns:
            `(B,)` log-likelihoods in nats under `model.likelihood`.
        """
        if self.likelihood == "bernoulli":
            return -bernoulli_nll(logits, x)
        mean = jax.nn.sigmoid(logits)
        per = -0.5 * ((x - mean) / self.sigma) ** 2 - jnp.log(self.sigma) - 0.5 * jnp.log(2 * jnp.pi)
        return per.reshape(per.shape[0], -1).sum(-1)

    def elbo_terms(self, params, x, rng):
        """Per image `(reconstruction nats, KL nats)`, each `(B,)` float32; their sum is the negative ELBO.

        Args:
            params: the model parameters.
            x: images `(B, H, W, C)`.
            rng: a `jax.random` key for the posterior sample.
        """
        logits, mu, logvar = (y.astype(jnp.float32) for y in self.model.apply({"params": params}, x, rng))
        kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)
        return -self.log_likelihood(logits, x), kl

    def loss_fn(self, params, state, batch, rng):
        """Mean negative ELBO; metrics `reconstruction` and `kl` (batch means); no updates."""
        recon, kl = self.elbo_terms(params, batch["inputs"], rng)
        return (recon + kl).mean(), ({"reconstruction": recon.mean(), "kl": kl.mean()}, {})

    def eval_metrics(self, state, batch):
        """Per-image `negative_elbo` and `kl` (nats, shape `(batch,)`), with a fixed posterior key."""
        recon, kl = self.elbo_terms(state.params, batch["inputs"], jax.random.key(0))
        return {"negative_elbo": recon + kl, "kl": kl}

    def iwae_nll(self, params, x, rng, k: int):
        """Importance-weighted NLL per image with `k` posterior samples (`importance_weighted_nll`).

        Args:
            params: the model parameters.
            x: images `(B, H, W, C)`.
            rng: a `jax.random` key for the posterior samples.
            k: posterior samples per image.

        Returns:
            `(B,)` NLL in nats.
        """
        encode = lambda x: self.model.apply({"params": params}, x, method=zoo.VAE.encode)
        decode = lambda z: self.model.apply({"params": params}, z, method=zoo.VAE.decode).astype(jnp.float32)
        return importance_weighted_nll(encode, lambda z, x: self.log_likelihood(decode(z), x), x, rng, k)

    def report(self, state, workdir):
        """IWAE NLL on `config.test_split`, samples and the figure `figures/vae.png`.

        Returns:
            `iwae_nll_nats`, `iwae_samples` and `iwae_bits_per_dim`, plus `independent_pixels_nll_nats`
            (binarized data, Bernoulli likelihood) and `sample_quality` (labelled data).
        """
        test, train = self.split(self.config.test_split), self.split("train")
        iwae = jax.jit(functools.partial(self.iwae_nll, k=self.config.iwae_samples))
        nll = np.concatenate([np.asarray(iwae(state.params, jnp.asarray(test["inputs"][i:i + 100]),
                                               jax.random.key(i)))
                              for i in range(0, len(test["inputs"]), 100)])
        decode = jax.jit(lambda z: jax.nn.sigmoid(self.model.apply(state.variables(), z, method=zoo.VAE.decode)))
        latent = self.model.latent
        samples = np.asarray(decode(jax.random.normal(jax.random.key(1), (self.config.num_samples, latent))))
        logits, _, _ = self.model.apply(state.variables(), test["inputs"][:32], jax.random.key(2))
        grid = np.linspace(-2.5, 2.5, 10)
        z = np.zeros((100, latent), np.float32)
        z[:, 0], z[:, 1 % latent] = np.repeat(grid, 10), np.tile(grid, 10)
        save_grids(os.path.join(workdir, "figures", "vae.png"),
                   {"samples": samples[:64], "test images": test["inputs"][:32],
                    "reconstructions": jax.nn.sigmoid(logits),
                    ("latent manifold" if latent == 2 else "latent axes 0 and 1"): decode(z)}, rows=None)
        out = {"iwae_nll_nats": float(nll.mean()), "iwae_samples": self.config.iwae_samples,
               "iwae_bits_per_dim": bits_per_dim(float(nll.mean()), int(np.prod(self.shape)))}
        if self.config.binarize and self.likelihood == "bernoulli":
            out["independent_pixels_nll_nats"] = independent_pixels_nll(train["inputs"], test["inputs"])
        if "label" in test:
            out["sample_quality"] = sample_quality(self.classifier(), samples, test["inputs"])
        return out
