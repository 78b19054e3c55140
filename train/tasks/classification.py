"""Supervised classification: softmax cross-entropy on integer labels, accuracy.

Optionally adversarial training (Madry et al. 2018; the FGSM-with-random-start variant of Wong et
al. 2020).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

import zoo
from train import data
from train.augment import augment_images
from train.errors import UserError
from train.losses import cross_entropy_loss
from train.precision import compute_dtype, loss_scale
from train.state import TrainState, init_variables
from train.tasks.base import ACTIVATIONS, Task

MODELS = {"mlp": zoo.MLP, "cnn": zoo.CNN, "lenet5": zoo.LeNet5, "resnet": zoo.resnet_cifar, "rnn": zoo.ManyToOne, "rbf": zoo.RBFNetwork}
ADVERSARIAL = ("none", "pgd", "fgsm_rs")


def build_model(config, dtype=jnp.float32) -> nn.Module:
    """A zoo model from a config block.

    Args:
        config: the `model` block: `name` picks the class, `act` (if present) names the activation,
            every other field is passed to the constructor (lists become tuples).
        dtype: the compute dtype (parameters stay float32).
    """
    fields = dict(config, dtype=dtype)
    name, act = fields.pop("name"), fields.pop("act", None)
    if name not in MODELS:
        raise UserError(f"unknown model.name '{name}'; choose one of {', '.join(MODELS)}")
    if act is not None and act not in ACTIVATIONS:
        raise UserError(f"unknown model.act '{act}'; choose one of {', '.join(ACTIVATIONS)}")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    if act is not None:
        fields["act"] = ACTIVATIONS[act]
    try:
        return MODELS[name](**fields)
    except (TypeError, ValueError) as e:
        raise UserError(f"bad model config for '{name}': {e}") from None


class Classification(Task):
    """Supervised classification of `input_key` features by their `label`.

    Config: dataset, data_dir, input_key, batch_size, eval_batch_size, model, augment.
    """

    primary_metric = "accuracy"
    precisions = ("fp32", "bf16", "fp16")

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        self.model = build_model(config.model, compute_dtype(config.precision))
        self._splits = {}
        if config.adversarial.method not in ADVERSARIAL:
            raise UserError(f"unknown adversarial.method '{config.adversarial.method}'; choose one of "
                            f"{', '.join(ADVERSARIAL)}")
        # One stable function object, so the attack's jit cache is reused.
        self.logits = lambda variables, x: self.model.apply(variables, x, train=False)

    def split(self, name: str) -> dict:
        """The arrays of split `name`, loaded once: `{"inputs": (N, ...), "label": (N,) int}`."""
        if name not in self._splits:
            arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
            key = self.config.input_key
            if key not in arrays or "label" not in arrays:
                raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; "
                                f"set --config.input_key to the input feature (it needs a 'label' too)")
            self._splits[name] = {"inputs": arrays[key], "label": arrays["label"]}
        return self._splits[name]

    def create_state(self, rng, tx) -> TrainState:
        """Initialize the model on one zero example (with `batch_stats` if it has them) and the optimizer.

        The loss scale follows `config.precision`.
        """
        example = jnp.zeros((1, *self.feature_shape("inputs")))
        params_rng, dropout_rng = jax.random.split(rng)
        variables = init_variables(self.model, {"params": params_rng, "dropout": dropout_rng}, jnp.asarray(example))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx,
                                 batch_stats=variables.get("batch_stats"), loss_scale=loss_scale(self.config.precision))

    def loss_fn(self, params, state, batch, rng):
        """Cross-entropy (`train.losses.cross_entropy_loss`) on augmented, optionally adversarial inputs.

        Images (4-d inputs) are augmented per `config.augment`; then, unless `adversarial.method` is
        `"none"`, replaced by `adversarial_inputs`.
        """
        aug_rng, dropout_rng, attack_rng = jax.random.split(rng, 3)
        if batch["inputs"].ndim == 4:
            augmented = augment_images(aug_rng, batch["inputs"], self.config.augment.crop_padding,
                                       self.config.augment.flip)
            batch = dict(batch, inputs=augmented)
        if self.config.adversarial.method != "none":
            batch = dict(batch, inputs=self.adversarial_inputs(params, state, batch, attack_rng))
        return cross_entropy_loss(params, state, batch, dropout_rng)

    def adversarial_inputs(self, params, state, batch, rng):
        """The batch's inputs replaced by attacks on the current model (no gradient flows into the attack).

        The attack is PGD with a random start, or one FGSM step of 1.25 eps from a random start, per
        `config.adversarial` (method, eps, steps, step_size, norm).

        Args:
            params: the current parameters.
            state: the train state (for `batch_stats`).
            batch: the training batch, with `inputs` and `label`.
            rng: a `jax.random` key for the random start.

        Returns:
            Adversarial inputs of the shape of `batch["inputs"]`.
        """
        from interpret.adversarial import pgd  # the attacks live in interpret (DESIGN: interpret/adversarial.py)

        a = self.config.adversarial
        variables = jax.lax.stop_gradient(state.variables(params))
        if a.method == "pgd":
            steps, step_size = a.steps, a.step_size
        else:
            steps, step_size = 1, 1.25 * a.eps
        x_adv, _ = pgd(self.logits, variables, batch["inputs"], batch["label"], a.eps, step_size, steps, rng,
                       norm=a.norm)
        return jax.lax.stop_gradient(x_adv)

    def eval_metrics(self, state, batch):
        """Per-example cross-entropy `loss` and 0/1 `accuracy`, each `(batch,)` float32."""
        logits = state.apply_fn(state.variables(), batch["inputs"], train=False).astype(jnp.float32)
        return {"loss": optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"]),
                "accuracy": (jnp.argmax(logits, -1) == batch["label"]).astype(jnp.float32)}

    def train_batches(self, start_step):
        """Endless shuffled `config.batch_size` batches of the train split, from step `start_step`."""
        return data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        """One padded, masked pass over `split` in `config.eval_batch_size` batches."""
        return data.eval_batches(self.split(split), self.config.eval_batch_size)
