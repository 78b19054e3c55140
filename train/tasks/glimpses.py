"""Classification by glimpses (`zoo.RecurrentAttentionModel`, Mnih et al. 2014), with the hybrid loss.

The hybrid loss — cross-entropy for the glimpse network, core and classifier; REINFORCE with a
learned baseline for the location network (reward 1 when the final guess is right); the baseline's
squared error — is taken in one jit-compiled step. The report draws the glimpse paths on test images.

Config: dataset (`cluttered_digits`, or any square-image dataset with labels), data_dir, model
(policy `learned` | `random`, glimpses, patch, scales, glimpse_hidden, features, std),
eval_samples, batch_size, eval_batch_size. Evaluation averages the log-probabilities of `1 +
eval_samples` glimpse paths per image (the location network's mean and `eval_samples` sampled
paths for the learned policy; that many fixed random paths for the random one), a Monte Carlo
estimate of the prediction under the policy that was trained; `single_path_accuracy` is the
first path's alone.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train import data
from train.errors import UserError
from train.state import TrainState, init_variables
from train.tasks.base import Task, cached


def glimpse_losses(model, params, images, labels, noise):
    """Per-example `(cross-entropy, REINFORCE loss, baseline loss, correct)` and the model output.

    Args:
        model: the `zoo.RecurrentAttentionModel`.
        params: its parameters.
        images: `(B, H, W, C)` images.
        labels: `(B,)` int classes.
        noise: location noise `(B, glimpses, 2)` (see `GlimpseClassification.noise`).

    Returns:
        Four `(B,)` float arrays and the model's output dict (`logits`, `log_probs`, `baselines`,
        `locations`).
    """
    out = model.apply({"params": params}, images, noise)
    ce = optax.softmax_cross_entropy_with_integer_labels(out["logits"].astype(jnp.float32), labels)
    reward = (jnp.argmax(out["logits"], -1) == labels).astype(jnp.float32)
    advantage = jax.lax.stop_gradient(reward[:, None] - out["baselines"])
    reinforce = -(out["log_probs"] * advantage).sum(1)
    baseline = ((out["baselines"] - reward[:, None]) ** 2).mean(1)
    return ce, reinforce, baseline, reward, out


class GlimpseClassification(Task):
    """Glimpse classification with the hybrid loss; see the module docstring."""

    primary_metric = "accuracy"

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        m = config.model
        if m.policy not in ("learned", "random"):
            raise UserError(f"unknown model.policy '{m.policy}'; choose learned or random")
        self.model = zoo.RecurrentAttentionModel(glimpses=m.glimpses, patch=m.patch, scales=m.scales,
                                                 glimpse_hidden=m.glimpse_hidden, features=m.features, std=m.std,
                                                 policy=m.policy)

    @cached
    def split(self, name: str) -> dict:
        """The arrays of split `name`, loaded once: `{"image": (N, H, W, C), "label": (N,) int}`."""
        arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
        if "image" not in arrays or "label" not in arrays or np.ndim(arrays["image"]) != 4:
            raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; glimpse "
                            f"classification needs square 'image's and a 'label' (cluttered_digits)")
        return {"image": arrays["image"], "label": arrays["label"]}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of the train split, from step `start_step`."""
        yield from data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over `split` in `config.eval_batch_size` batches."""
        yield from data.eval_batches(self.split(split), self.config.eval_batch_size)

    def noise(self, rng, batch: int, train: bool):
        """Location noise `(batch, model.glimpses, 2)` float for `batch` images.

        Standard normal (zeros when not `train`) for the learned policy, uniform locations in [-1, 1]
        for the random one.
        """
        shape = (batch, self.config.model.glimpses, 2)
        if self.config.model.policy == "random":
            return jax.random.uniform(rng, shape, minval=-1.0, maxval=1.0)
        return jax.random.normal(rng, shape) if train else jnp.zeros(shape)

    def create_state(self, rng, tx):
        """Initialize the model on one zero image and its optimizer state."""
        images = jnp.zeros((1, *self.feature_shape("image")))
        variables = init_variables(self.model, rng, images, self.noise(rng, 1, True))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx)

    def loss_fn(self, params, state, batch, rng):
        """The hybrid loss on sampled glimpse paths; metrics `cross_entropy`, `accuracy`, `baseline_error`."""
        noise = self.noise(rng, batch["image"].shape[0], True)
        ce, reinforce, baseline, reward, _ = glimpse_losses(self.model, params, batch["image"], batch["label"], noise)
        loss = jnp.mean(ce) + jnp.mean(reinforce) + jnp.mean(baseline)
        return loss, ({"cross_entropy": jnp.mean(ce), "accuracy": jnp.mean(reward),
                       "baseline_error": jnp.mean(baseline)}, {})

    def eval_metrics(self, state, batch):
        """Per-example `loss`, `accuracy` of the averaged prediction and `single_path_accuracy`, each `(batch,)`.

        The noise is drawn from `config.seed`, so every evaluation sees the same paths.
        """
        images, labels = batch["image"], batch["label"]
        paths = self.config.eval_samples + 1
        noise = self.noise(jax.random.key(self.config.seed), paths * images.shape[0], True)
        noise = noise.reshape(paths, images.shape[0], *noise.shape[1:])
        if self.config.model.policy == "learned":
            noise = noise.at[0].set(0.0)                                          # path 0 follows the mean
        log_probs = jax.lax.map(lambda n: jax.nn.log_softmax(
            self.model.apply({"params": state.params}, images, n)["logits"].astype(jnp.float32)), noise)
        averaged = jax.nn.log_softmax(log_probs.mean(0))
        return {"loss": optax.softmax_cross_entropy_with_integer_labels(averaged, labels),
                "accuracy": (jnp.argmax(averaged, -1) == labels).astype(jnp.float32),
                "single_path_accuracy": (jnp.argmax(log_probs[0], -1) == labels).astype(jnp.float32)}

    def report(self, state, workdir):
        """Draw the glimpse paths on 8 test images (`figures/glimpses.png`); the parameter count and a headline."""
        from train.figures import plot_glimpses

        split = self.split(self.config.test_split)
        images = jnp.asarray(split["image"][:8])
        out = self.model.apply({"params": state.params}, images,
                               self.noise(jax.random.key(self.config.seed), len(images), False))
        plot_glimpses(np.asarray(images), np.asarray(out["locations"]), np.asarray(jnp.argmax(out["logits"], -1)),
                      split["label"][:8], self.config.model.patch, self.config.model.scales,
                      os.path.join(workdir, "figures", "glimpses.png"))
        params = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(state.params))
        return {"parameters": params, "headline": f"{params:,} parameters, {self.config.model.glimpses} glimpses "
                                                  f"({self.config.model.policy} locations)"}
