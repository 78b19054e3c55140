"""Supervised classification: softmax cross-entropy on integer labels, accuracy."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

import zoo
from train import data
from train.augment import augment_images
from train.errors import UserError
from train.losses import cross_entropy_loss
from train.state import TrainState
from train.tasks.base import Task

MODELS = {"mlp": zoo.MLP, "cnn": zoo.CNN, "resnet": zoo.resnet_cifar, "rnn": zoo.ManyToOne}
ACTIVATIONS = {"relu": nn.relu, "gelu": nn.gelu, "silu": nn.silu, "tanh": nn.tanh, "elu": nn.elu}


def build_model(config) -> nn.Module:
    """A zoo model from a config block: `name` picks the class, `act` names the activation,
    every other field is passed to the constructor (tuples stay tuples)."""
    fields = dict(config)
    name, act = fields.pop("name"), fields.pop("act", "relu")
    if name not in MODELS:
        raise UserError(f"unknown model.name '{name}'; choose one of {', '.join(MODELS)}")
    if act not in ACTIVATIONS:
        raise UserError(f"unknown model.act '{act}'; choose one of {', '.join(ACTIVATIONS)}")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    try:
        return MODELS[name](act=ACTIVATIONS[act], **fields)
    except (TypeError, ValueError) as e:
        raise UserError(f"bad model config for '{name}': {e}") from None


class Classification(Task):
    """Config: dataset, data_dir, input_key, batch_size, eval_batch_size, model, augment."""

    primary_metric = "accuracy"

    def __init__(self, config):
        super().__init__(config)
        self.model = build_model(config.model)
        self._splits = {}

    def split(self, name: str) -> dict:
        if name not in self._splits:
            arrays = data.load(self.config.dataset, name, self.config.data_dir or None)
            key = self.config.input_key
            if key not in arrays or "label" not in arrays:
                raise UserError(f"dataset '{self.config.dataset}' has features {', '.join(arrays)}; "
                                f"set --config.input_key to the input feature (it needs a 'label' too)")
            self._splits[name] = {"inputs": arrays[key], "label": arrays["label"]}
        return self._splits[name]

    def create_state(self, rng, tx) -> TrainState:
        example = self.split("train")["inputs"][:1]
        params_rng, dropout_rng = jax.random.split(rng)
        variables = self.model.init({"params": params_rng, "dropout": dropout_rng}, jnp.asarray(example))
        return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=tx,
                                 batch_stats=variables.get("batch_stats"))

    def loss_fn(self, params, state, batch, rng):
        aug_rng, dropout_rng = jax.random.split(rng)
        if batch["inputs"].ndim == 4:
            augmented = augment_images(aug_rng, batch["inputs"], self.config.augment.crop_padding,
                                       self.config.augment.flip)
            batch = dict(batch, inputs=augmented)
        return cross_entropy_loss(params, state, batch, dropout_rng)

    def eval_metrics(self, state, batch):
        logits = state.apply_fn(state.variables(), batch["inputs"], train=False).astype(jnp.float32)
        return {"loss": optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"]),
                "accuracy": (jnp.argmax(logits, -1) == batch["label"]).astype(jnp.float32)}

    def train_batches(self, start_step):
        return data.train_batches(self.split("train"), self.config.batch_size, self.config.seed, start_step)

    def eval_batches(self, split):
        return data.eval_batches(self.split(split), self.config.eval_batch_size)
