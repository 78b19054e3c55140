"""Convolutional autoencoder with a Bernoulli reconstruction loss.

Its report compares linear probes on the codes, on PCA codes of the same size and on raw pixels.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np

import zoo
from train.generative_eval import bernoulli_nll, save_grids
from train.state import TrainState, init_variables
from train.tasks.images import ImageTask, model_fields


class AutoencoderTask(ImageTask):
    """Convolutional autoencoder, Bernoulli reconstruction loss (nats/image).

    Report: linear probes (logistic regression) on its codes, on raw pixels and on PCA codes of the
    same size.
    """

    primary_metric = "reconstruction_nats"

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        self.model = zoo.Autoencoder(self.shape, **model_fields(config))

    def create_state(self, rng, tx):
        """Initialize `zoo.Autoencoder` on one zero image and its optimizer state."""
        variables = init_variables(self.model, rng, jnp.zeros((1, *self.shape)))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx)

    def loss_fn(self, params, state, batch, rng):
        """Mean Bernoulli reconstruction NLL (nats/image) of `batch["inputs"]`; no metrics, no updates."""
        logits, _ = self.model.apply({"params": params}, batch["inputs"])
        loss = bernoulli_nll(logits, batch["inputs"]).mean()
        return loss, ({}, {})

    def eval_metrics(self, state, batch):
        """Per-image `reconstruction_nats`, shape `(batch,)`."""
        logits, _ = self.model.apply(state.variables(), batch["inputs"])
        return {"reconstruction_nats": bernoulli_nll(logits, batch["inputs"])}

    def report(self, state, workdir):
        """Linear-probe test accuracies on codes, PCA codes and pixels, and a reconstruction figure.

        Needs labels (else `{}`). Each probe is a logistic regression on standardized features of
        the train split, scored on `config.test_split`; PCA keeps as many components as the code has.

        Returns:
            `probe_accuracy` (a float per feature set: `autoencoder`, `pca`, `pixels`), `code_size`
            and `probe_margin_over_pca`; `figures/reconstructions.png` is written under `workdir`.
        """
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
