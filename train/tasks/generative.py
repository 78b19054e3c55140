"""Generative and unsupervised image models on (binarized) images: the autoencoder, the VAE,
the GAN and the autoregressive models (PixelCNN, gated PixelCNN, PixelRNN).

Each is a `Task` for the shared loop; `report(state, workdir)` (called by the loop after
training) adds what `summary.json` needs beyond the test loss: likelihood comparisons, sample
quality in the features of the zoo's digits classifier, linear probes, and figures.

Config fields shared by all: dataset, data_dir, input_key, binarize (threshold 0.5), batch_size,
eval_batch_size, model (name + constructor fields), eval_classifier (workdir of the
classifier used for sample quality; "" = `<workdir>/eval_classifier`, trained if missing),
num_samples.
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
from train.generative_eval import (FeatureClassifier, bernoulli_nll, bits_per_dim, independent_pixels_nll,
                                   sample_quality, save_grids)
from train.state import TrainState
from train.sampling import sample_pixels
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
        path = self.config.eval_classifier or os.path.join(workdir, "eval_classifier")
        return FeatureClassifier(path, self.config.dataset, progress=progress)

    def report(self, state, workdir: str) -> dict:
        return {}


def _model_fields(config, exclude=("name",)) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.model.items() if k not in exclude}


# ----------------------------------------------------------------------------- autoencoder


class AutoencoderTask(ImageTask):
    """Convolutional autoencoder, Bernoulli reconstruction loss (nats/image). Report: linear
    probes (logistic regression) on its codes, on raw pixels and on PCA codes of the same size."""

    def __init__(self, config):
        super().__init__(config)
        self.model = zoo.Autoencoder(self.shape, **_model_fields(config))

    def create_state(self, rng, tx):
        variables = self.model.init(rng, jnp.asarray(self.split("train")["inputs"][:1]))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx)

    def loss_fn(self, params, state, batch, rng):
        logits, _ = self.model.apply({"params": params}, batch["inputs"])
        loss = bernoulli_nll(logits, batch["inputs"]).mean()
        return loss, ({}, {})

    def eval_metrics(self, state, batch):
        logits, _ = self.model.apply(state.variables(), batch["inputs"])
        return {"reconstruction_nats": bernoulli_nll(logits, batch["inputs"])}

    def report(self, state, workdir):
        from sklearn.linear_model import LogisticRegression

        from train.unsupervised import pca_fit, pca_transform

        train, test = self.split("train"), self.split(self.config.test_split)
        if "label" not in train:
            return {}
        encode = jax.jit(lambda x: self.model.apply(state.variables(), x, method=zoo.Autoencoder.encode))
        flat = lambda s: s["inputs"].reshape(len(s["inputs"]), -1)
        pca = pca_fit(flat(train))
        dims = self.model.code
        features = {"autoencoder": (np.asarray(encode(train["inputs"])), np.asarray(encode(test["inputs"]))),
                    "pca": (np.asarray(pca_transform(pca, flat(train), dims)), np.asarray(pca_transform(pca, flat(test), dims))),
                    "pixels": (flat(train), flat(test))}
        probes = {}
        for name, (a, b) in features.items():
            mean, std = a.mean(0), a.std(0) + 1e-6
            clf = LogisticRegression(max_iter=3000).fit((a - mean) / std, train["label"])
            probes[name] = float(clf.score((b - mean) / std, test["label"]))
        logits, _ = self.model.apply(state.variables(), test["inputs"][:32])
        save_grids(os.path.join(workdir, "figures", "reconstructions.png"),
                   {"test images": test["inputs"][:32], "reconstructions": jax.nn.sigmoid(logits)})
        return {"probe_accuracy": probes, "code_size": dims,
                "probe_margin_over_pca": probes["autoencoder"] - probes["pca"]}


# ----------------------------------------------------------------------------- VAE


class VAETask(ImageTask):
    """VAE with the negative ELBO as loss (nats/image): `BCE(x, decoder(z)) + KL(q(z|x) || N(0, I))`
    with `model.likelihood = "bernoulli"`, or a Gaussian with fixed `model.sigma` on sigmoid
    means (`"gaussian"`, continuous data). Report: importance-weighted NLL (Burda et al. 2016)
    with `iwae_samples` samples per image, the independent-pixels baseline, samples,
    reconstructions and the latent manifold (2-d latents) or a traversal of two latent axes."""

    def __init__(self, config):
        super().__init__(config)
        fields = _model_fields(config, ("name", "likelihood", "sigma"))
        self.likelihood, self.sigma = config.model.likelihood, config.model.sigma
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise UserError(f"model.likelihood must be bernoulli or gaussian; got {self.likelihood!r}")
        self.model = zoo.VAE(self.shape, **fields)

    def create_state(self, rng, tx):
        x = jnp.asarray(self.split("train")["inputs"][:1])
        params = self.model.init(rng, x, jax.random.key(0))["params"]
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx)

    def log_likelihood(self, logits, x):
        """`log p(x|z)` per image."""
        if self.likelihood == "bernoulli":
            return -bernoulli_nll(logits, x)
        mean = jax.nn.sigmoid(logits)
        per = -0.5 * ((x - mean) / self.sigma) ** 2 - jnp.log(self.sigma) - 0.5 * jnp.log(2 * jnp.pi)
        return per.reshape(per.shape[0], -1).sum(-1)

    def elbo_terms(self, params, x, rng):
        logits, mu, logvar = self.model.apply({"params": params}, x, rng)
        kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)
        return -self.log_likelihood(logits, x), kl

    def loss_fn(self, params, state, batch, rng):
        recon, kl = self.elbo_terms(params, batch["inputs"], rng)
        return (recon + kl).mean(), ({"reconstruction": recon.mean(), "kl": kl.mean()}, {})

    def eval_metrics(self, state, batch):
        recon, kl = self.elbo_terms(state.params, batch["inputs"], jax.random.key(0))
        return {"negative_elbo": recon + kl, "kl": kl}

    def iwae_nll(self, params, x, rng, k: int):
        """`-log (1/k) sum_i p(x, z_i) / q(z_i | x)` per image, `z_i ~ q(z | x)`, the k samples vmapped."""
        mu, logvar = self.model.apply({"params": params}, x, method=zoo.VAE.encode)
        std = jnp.exp(0.5 * logvar)

        def log_weight(key):
            eps = jax.random.normal(key, mu.shape)
            z = mu + std * eps
            logits = self.model.apply({"params": params}, z, method=zoo.VAE.decode)
            log_prior = -0.5 * jnp.sum(z ** 2 + jnp.log(2 * jnp.pi), -1)
            log_q = -0.5 * jnp.sum(eps ** 2 + logvar + jnp.log(2 * jnp.pi), -1)
            return self.log_likelihood(logits, x) + log_prior - log_q

        w = jax.vmap(log_weight)(jax.random.split(rng, k))  # (k, B)
        return -(jax.scipy.special.logsumexp(w, axis=0) - jnp.log(k))

    def report(self, state, workdir):
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
            out["sample_quality"] = sample_quality(self.classifier(workdir), samples, test["inputs"])
        return out


# ----------------------------------------------------------------------------- GAN


def gradient_penalty(critic, real, fake, rng):
    """WGAN-GP (Gulrajani et al. 2017): `E[(||grad_x critic(x_hat)|| - 1)^2]` on random
    interpolates `x_hat`; the gradient is taken inside the loss (nested `grad`). `critic`
    must treat examples independently (no BatchNorm), so summing gives per-example gradients."""
    t = jax.random.uniform(rng, (real.shape[0],) + (1,) * (real.ndim - 1))
    x_hat = t * real + (1 - t) * fake
    grads = jax.grad(lambda x: critic(x).sum())(x_hat)
    norms = jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, -1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)


def gan_losses(kind: str, d_real, d_fake):
    """`(discriminator loss, generator loss)` for `ns` (non-saturating), `lsgan` or `wgan_gp`
    (without its penalty) from discriminator outputs on real and generated images."""
    if kind == "ns":
        return jnp.mean(jax.nn.softplus(-d_real) + jax.nn.softplus(d_fake)), jnp.mean(jax.nn.softplus(-d_fake))
    if kind == "lsgan":
        return 0.5 * jnp.mean((d_real - 1) ** 2 + d_fake ** 2), 0.5 * jnp.mean((d_fake - 1) ** 2)
    if kind == "wgan_gp":
        return jnp.mean(d_fake) - jnp.mean(d_real), -jnp.mean(d_fake)
    raise UserError(f"unknown gan loss {kind!r}; choose ns, lsgan or wgan_gp")


class GANTask(ImageTask):
    """DCGAN with two optimizers in one state: params `{"generator", "discriminator"}` under
    `optax.multi_transform` (the loop's optimizer for the generator, `discriminator_optimizer`
    for the discriminator). One jit-compiled step updates both simultaneously: the loss
    `L_D(D, stop_grad(G)) + L_G(stop_grad(D), G)` has exactly each player's gradient in its own
    parameters. The generator's BatchNorm statistics are carried in `batch_stats`.

    Config: gan.loss (ns | lsgan | wgan_gp), gan.penalty (WGAN-GP weight), gan.latent,
    gan.conditional; discriminator_optimizer (an optimizer block)."""

    def __init__(self, config):
        super().__init__(config)
        g = config.gan
        gan_losses(g.loss, jnp.zeros(1), jnp.zeros(1))  # validates the name
        classes = config.model.num_classes if g.conditional else 0
        if g.conditional and "label" not in self.split("train"):
            raise UserError(f"gan.conditional needs labels; '{config.dataset}' has none")
        self.generator = zoo.Generator(self.shape, features=config.model.features, num_classes=classes)
        self.discriminator = zoo.Discriminator(features=config.model.features, num_classes=classes)
        self.snapshots = {}  # step -> samples from a fixed noise batch, taken at every evaluation
        self._fixed_z = jax.random.normal(jax.random.key(1234), (64, g.latent))
        self._fixed_labels = jnp.arange(64) % max(classes, 1)

    def create_state(self, rng, tx):
        from train.optim import make_optimizer

        g_rng, d_rng = jax.random.split(rng)
        z = jnp.zeros((1, self.config.gan.latent))
        labels = jnp.zeros((1,), jnp.int32)
        g_vars = self.generator.init(g_rng, z, labels, train=False)
        d_vars = self.discriminator.init(d_rng, jnp.zeros((1, *self.shape)), labels)
        tx_d, _ = make_optimizer(self.config.discriminator_optimizer, self.config.num_steps)
        params = {"generator": g_vars["params"], "discriminator": d_vars["params"]}
        both = optax.multi_transform({"generator": tx, "discriminator": tx_d},
                                     {"generator": "generator", "discriminator": "discriminator"})
        return TrainState.create(apply_fn=self.generator.apply, params=params, tx=both,
                                 batch_stats=g_vars["batch_stats"])

    def generate(self, params, batch_stats, z, labels, train: bool):
        variables = {"params": params["generator"], "batch_stats": batch_stats}
        if train:
            return self.generator.apply(variables, z, labels, train=True, mutable=["batch_stats"])
        return self.generator.apply(variables, z, labels, train=False), None

    def loss_fn(self, params, state, batch, rng):
        g = self.config.gan
        z_rng, label_rng, gp_rng = jax.random.split(rng, 3)
        real = batch["inputs"]
        n = real.shape[0]
        labels = batch.get("label", jnp.zeros((n,), jnp.int32))
        fake_labels = jax.random.randint(label_rng, (n,), 0, max(self.generator.num_classes, 1))
        fake, updates = self.generate(params, state.batch_stats, jax.random.normal(z_rng, (n, g.latent)), fake_labels,
                                      train=True)
        frozen = jax.lax.stop_gradient(params)
        critic = lambda p, x, y: self.discriminator.apply({"params": p}, x, y)
        d_real = critic(params["discriminator"], real, labels)
        d_fake = critic(params["discriminator"], jax.lax.stop_gradient(fake), fake_labels)
        d_loss, _ = gan_losses(g.loss, d_real, d_fake)
        if g.loss == "wgan_gp":
            d_loss = d_loss + g.penalty * gradient_penalty(
                lambda x: critic(params["discriminator"], x, fake_labels), real, jax.lax.stop_gradient(fake), gp_rng)
        _, g_loss = gan_losses(g.loss, d_real, critic(frozen["discriminator"], fake, fake_labels))
        metrics = {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real.mean(), "d_fake": d_fake.mean()}
        return d_loss + g_loss, (metrics, {"batch_stats": updates["batch_stats"]})

    def evaluate(self, state, split):
        x = jnp.asarray(self.split(split)["inputs"][:512])
        labels = jnp.asarray(self.split(split).get("label", np.zeros(len(x), np.int32))[:512])
        fake, _ = self.generate(state.params, state.batch_stats, self._fixed_z, self._fixed_labels, train=False)
        self.snapshots[int(state.step)] = np.asarray(fake)
        critic = lambda x, y: self.discriminator.apply({"params": state.params["discriminator"]}, x, y)
        return {f"{split}_d_real": float(critic(x, labels).mean()),
                f"{split}_d_fake": float(critic(fake, self._fixed_labels).mean())}

    def samples(self, state, n: int, seed: int = 0):
        """`n` generated images (classes cycled when conditional)."""
        z = jax.random.normal(jax.random.key(seed), (n, self.config.gan.latent))
        labels = jnp.arange(n) % max(self.generator.num_classes, 1)
        return np.asarray(jax.jit(lambda z, y: self.generate(state.params, state.batch_stats, z, y, False)[0])(z, labels))

    def report(self, state, workdir):
        samples = self.samples(state, self.config.num_samples)
        test = self.split(self.config.test_split)
        panels = {f"step {s}": imgs for s, imgs in sorted(self.snapshots.items())[-4:]}
        save_grids(os.path.join(workdir, "figures", "samples_over_training.png"),
                   panels or {"samples": samples[:64]})
        save_grids(os.path.join(workdir, "figures", "samples.png"), {"samples": samples[:100]},
                   rows=10 if self.generator.num_classes else None)
        return {"sample_quality": sample_quality(self.classifier(workdir), samples, test["inputs"])}


# ----------------------------------------------------------------------------- autoregressive


AUTOREGRESSIVE = {"pixelcnn": zoo.PixelCNN, "gated_pixelcnn": zoo.GatedPixelCNN, "pixelrnn": zoo.PixelRNN}


class AutoregressiveTask(ImageTask):
    """PixelCNN / gated PixelCNN / PixelRNN: per-pixel softmax over `model.levels` intensities,
    the loss is the NLL in nats per image. Report: test NLL and bits/dim, the independent-pixels
    baseline, samples (sequential, timed) and their quality."""

    def __init__(self, config):
        super().__init__(config)
        name = config.model.name
        if name not in AUTOREGRESSIVE:
            raise UserError(f"unknown model.name '{name}'; choose one of {', '.join(AUTOREGRESSIVE)}")
        self.levels = config.model.levels
        if config.binarize and self.levels != 2:
            raise UserError("binarized data needs model.levels = 2")
        self.model = AUTOREGRESSIVE[name](**_model_fields(config))

    def create_state(self, rng, tx):
        params = self.model.init(rng, jnp.asarray(self.split("train")["inputs"][:1]))["params"]
        return TrainState.create(apply_fn=self.model.apply, params=params, tx=tx)

    def nll(self, params, x, rng=None):
        """Per-image NLL in nats (with dropout when `rng` is given)."""
        logits = self.model.apply({"params": params}, x, train=rng is not None,
                                  rngs=None if rng is None else {"dropout": rng})
        targets = jnp.round(x * (self.levels - 1)).astype(jnp.int32)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
        return ce.reshape(ce.shape[0], -1).sum(-1)

    def loss_fn(self, params, state, batch, rng):
        return self.nll(params, batch["inputs"], rng).mean(), ({}, {})

    def eval_metrics(self, state, batch):
        nll = self.nll(state.params, batch["inputs"])
        return {"nll_nats": nll, "bits_per_dim": nll / (np.prod(self.shape) * np.log(2))}

    def report(self, state, workdir):
        import time

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
            out["sample_quality"] = sample_quality(self.classifier(workdir), samples, test["inputs"])
        return out
