"""The GAN task: non-saturating, least-squares or WGAN-GP losses.

Both players live in one state and one jit-compiled step; the report gives sample quality and
sample grids over training.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train.data import split_name
from train.errors import UserError
from train.generative_eval import sample_quality, save_grids
from train.state import TrainState, init_variables
from train.tasks.images import ImageTask


def gradient_penalty(critic, real, fake, rng):
    """The WGAN-GP penalty (Gulrajani et al. 2017): `E[(||grad_x critic(x_hat)|| - 1)^2]`.

    It is taken on random interpolates `x_hat` of `real` and `fake`; the gradient is taken inside the
    loss (nested `grad`).

    Args:
        critic: images `(B, H, W, C)` to scores `(B, ...)`; it must treat examples independently (no
            BatchNorm), so summing gives per-example gradients.
        real: real images `(B, H, W, C)`.
        fake: generated images of the same shape.
        rng: a `jax.random` key for the interpolation weights.

    Returns:
        The scalar penalty.
    """
    t = jax.random.uniform(rng, (real.shape[0],) + (1,) * (real.ndim - 1))
    x_hat = t * real + (1 - t) * fake
    grads = jax.grad(lambda x: critic(x).sum())(x_hat)
    norms = jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, -1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)


def gan_losses(kind: str, d_real, d_fake):
    """`(discriminator loss, generator loss)`, scalars, from discriminator outputs on real and generated images.

    Args:
        kind: `ns` (non-saturating), `lsgan` or `wgan_gp` (without its penalty).
        d_real: discriminator outputs on real images.
        d_fake: discriminator outputs on generated images.
    """
    if kind == "ns":
        return jnp.mean(jax.nn.softplus(-d_real) + jax.nn.softplus(d_fake)), jnp.mean(jax.nn.softplus(-d_fake))
    if kind == "lsgan":
        return 0.5 * jnp.mean((d_real - 1) ** 2 + d_fake ** 2), 0.5 * jnp.mean((d_fake - 1) ** 2)
    if kind == "wgan_gp":
        return jnp.mean(d_fake) - jnp.mean(d_real), -jnp.mean(d_fake)
    raise UserError(f"unknown gan loss {kind!r}; choose ns, lsgan or wgan_gp")


#: `<workdir>/samples_over_training/<step>.npy`: the fixed noise batch's samples at each evaluation
SNAPSHOTS = "samples_over_training"


def save_snapshot(workdir: str, step: int, samples: np.ndarray) -> None:
    """Keep `samples: (64, H, W, C)` of evaluation step `step` in the workdir.

    The file is written through a rename (never half-written), where a resumed run's report finds it.
    """
    directory = os.path.join(workdir, SNAPSHOTS)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{step}.npy")
    with open(f"{path}.tmp", "wb") as f:
        np.save(f, samples)
    os.replace(f"{path}.tmp", path)


def snapshot_history(workdir: str, upto: int) -> dict:
    """`{step: samples}` saved by `save_snapshot` at steps up to `upto`.

    A resume from an earlier checkpoint leaves later ones behind; they are overwritten when those
    steps come again.
    """
    directory = os.path.join(workdir, SNAPSHOTS)
    steps = sorted(int(n[:-4]) for n in os.listdir(directory) if n.endswith(".npy") and n[:-4].isdigit()) \
        if os.path.isdir(directory) else []
    return {s: np.load(os.path.join(directory, f"{s}.npy")) for s in steps if s <= upto}


class GANTask(ImageTask):
    """DCGAN with two optimizers in one state.

    Params `{"generator", "discriminator"}` are under `optax.multi_transform` (the loop's optimizer
    for the generator, `discriminator_optimizer` for the discriminator). One jit-compiled step
    updates both simultaneously: the loss `L_D(D, stop_grad(G)) + L_G(stop_grad(D), G)` has exactly
    each player's gradient in its own parameters. The generator's BatchNorm statistics are carried in `batch_stats`.

    Config: gan.loss (ns | lsgan | wgan_gp), gan.penalty (WGAN-GP weight), gan.latent,
    gan.conditional; discriminator_optimizer (an optimizer block).
    """

    scores_samples = True

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        g = config.gan
        gan_losses(g.loss, jnp.zeros(1), jnp.zeros(1))  # validates the name
        classes = config.model.num_classes if g.conditional else 0
        self.generator = zoo.Generator(self.shape, features=config.model.features, num_classes=classes)
        self.discriminator = zoo.Discriminator(features=config.model.features, num_classes=classes)
        self._fixed_z = jax.random.normal(jax.random.key(1234), (64, g.latent))
        self._fixed_labels = jnp.arange(64) % max(classes, 1)

    def stages(self) -> dict:
        """The evaluation classifier (`ImageTask.stages`), after checking a conditional GAN has labels."""
        if self.config.gan.conditional and "label" not in self.split("train"):  # before any training
            raise UserError(f"gan.conditional needs labels; '{self.config.dataset}' has none")
        return super().stages()

    card_headline = "frechet_distance"

    def shipped(self, state):
        """The generator and its variables (`params`, `batch_stats`): what a model card ships."""
        return self.generator, {"params": state.params["generator"], "batch_stats": state.batch_stats}

    def card_inputs(self):
        """Latents for the model card's Use snippet."""
        return f"inputs = jax.random.normal(jax.random.key(0), (16, {self.config.gan.latent}))  # latents z"

    def create_state(self, rng, tx):
        """Both players' parameters, `tx` for the generator and `discriminator_optimizer` for the discriminator.

        The generator's BatchNorm statistics go in `batch_stats`.
        """
        from train.optim import make_optimizer

        g_rng, d_rng = jax.random.split(rng)
        z = jnp.zeros((1, self.config.gan.latent))
        labels = jnp.zeros((1,), jnp.int32)
        g_vars = init_variables(self.generator, g_rng, z, labels, train=False)
        d_vars = init_variables(self.discriminator, d_rng, jnp.zeros((1, *self.shape)), labels)
        tx_d, _ = make_optimizer(self.config.discriminator_optimizer, self.config.num_steps)
        params = {"generator": g_vars["params"], "discriminator": d_vars["params"]}
        both = optax.multi_transform({"generator": tx, "discriminator": tx_d},
                                     {"generator": "generator", "discriminator": "discriminator"})
        return TrainState.create(apply_fn=self.generator.apply, params=params, tx=both,
                                 batch_stats=g_vars["batch_stats"])

    def generate(self, params, batch_stats, z, labels, train: bool):
        """Generator images from latents `z: (n, gan.latent)` and class `labels: (n,)` int.

        Args:
            params: both players' parameters; only `params["generator"]` is used.
            batch_stats: the generator's BatchNorm statistics.
            z: latents `(n, gan.latent)`.
            labels: classes `(n,)` int (ignored by an unconditional generator).
            train: whether BatchNorm uses and updates batch statistics.

        Returns:
            `(images (n, H, W, C), updates)`: `updates` holds the new `batch_stats` when `train`, else
            it is None.
        """
        variables = {"params": params["generator"], "batch_stats": batch_stats}
        if train:
            return self.generator.apply(variables, z, labels, train=True, mutable=["batch_stats"])
        return self.generator.apply(variables, z, labels, train=False), None

    def loss_fn(self, params, state, batch, rng):
        """`L_D(D, stop_grad(G)) + L_G(stop_grad(D), G)` on one batch (plus the penalty for `wgan_gp`).

        Returns:
            The summed loss, metrics `d_loss`, `g_loss`, `d_real`, `d_fake`, and the generator's new
            `batch_stats`.
        """
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
        """Mean discriminator outputs on up to 512 images of `split` and on the fixed noise batch's samples.

        Those 64 samples are also saved as this step's snapshot when `workdir` is set.

        Returns:
            `{split}_d_real` and `{split}_d_fake`, floats.
        """
        x = jnp.asarray(self.split(split)["inputs"][:512])
        labels = jnp.asarray(self.split(split).get("label", np.zeros(len(x), np.int32))[:512])
        fake, _ = self.generate(state.params, state.batch_stats, self._fixed_z, self._fixed_labels, train=False)
        if self.workdir is not None:
            save_snapshot(self.workdir, int(state.step), np.asarray(fake))
        critic = lambda x, y: self.discriminator.apply({"params": state.params["discriminator"]}, x, y)
        return {f"{split_name(split)}_d_real": float(critic(x, labels).mean()),
                f"{split_name(split)}_d_fake": float(critic(fake, self._fixed_labels).mean())}

    def samples(self, state, n: int, seed: int = 0):
        """`n` generated images `(n, H, W, C)` (classes cycled when conditional), from noise seeded by `seed`."""
        z = jax.random.normal(jax.random.key(seed), (n, self.config.gan.latent))
        labels = jnp.arange(n) % max(self.generator.num_classes, 1)
        return np.asarray(jax.jit(lambda z, y: self.generate(state.params, state.batch_stats, z, y, False)[0])(z, labels))

    def report(self, state, workdir):
        """Sample quality of `config.num_samples` samples, and the figures of samples over training.

        Writes `figures/samples_over_training.png` (the last four snapshots) and `figures/samples.png`.
        """
        samples = self.samples(state, self.config.num_samples)
        test = self.split(self.config.test_split)
        panels = {f"step {s}": imgs for s, imgs in sorted(snapshot_history(workdir, int(state.step)).items())[-4:]}
        save_grids(os.path.join(workdir, "figures", "samples_over_training.png"),
                   panels or {"samples": samples[:64]})
        save_grids(os.path.join(workdir, "figures", "samples.png"), {"samples": samples[:100]},
                   rows=10 if self.generator.num_classes else None)
        classes = self.generator.num_classes
        labels = np.arange(len(samples)) % classes if classes else None  # `samples` cycles the classes
        return {"sample_quality": sample_quality(self.classifier(), samples, test["inputs"], labels=labels)}
