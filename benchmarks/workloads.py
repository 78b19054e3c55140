"""Benchmark workloads: a JAX train step and, where one exists, its PyTorch twin.

Each workload builds its step on random data of fixed shape, so no dataset is needed (the
device image has no data stack). Later issues add entries to `WORKLOADS`.
"""

import dataclasses
from typing import Callable

import jax
import numpy as np
import optax

import zoo
from train.losses import cross_entropy_loss
from train.state import TrainState
from train.steps import make_train_step


@dataclasses.dataclass(frozen=True)
class Workload:
    """`jax_step()` returns `(step, carry)` with `carry = step(carry)`; `torch_step(device)`
    the same for the peer (None when there is none). `shape` is one example, NHWC."""

    name: str
    description: str
    batch_size: int
    shape: tuple
    jax_step: Callable
    torch_step: Callable | None = None


def _random_batch(batch_size, shape, num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return {"inputs": rng.random((batch_size, *shape), dtype=np.float32),
            "label": rng.integers(0, num_classes, batch_size).astype(np.int32)}


def _jax_classifier_step(model, tx, batch_size, shape):
    """Compiled `jit(make_train_step(cross_entropy_loss))` with the state donated."""
    batch = jax.device_put(_random_batch(batch_size, shape))
    variables = model.init(jax.random.key(0), batch["inputs"][:1])
    state = TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                              batch_stats=variables.get("batch_stats"))
    rng = jax.random.key(1)
    compiled = jax.jit(make_train_step(cross_entropy_loss), donate_argnums=0).lower(state, batch, rng).compile()

    def step(state):
        return compiled(state, batch, rng)[0]

    return step, state


def _torch_classifier_step(model, make_opt, batch_size, shape, device):
    import torch

    data = _random_batch(batch_size, shape)
    x = torch.from_numpy(data["inputs"]).permute(0, 3, 1, 2).contiguous().to(device)
    y = torch.from_numpy(data["label"]).long().to(device)
    model = model.to(device).train()
    opt = make_opt(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(_):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, None


def _digits_cnn(framework):
    batch, shape = 128, (8, 8, 1)
    if framework == "jax":
        return lambda: _jax_classifier_step(zoo.CNN(), optax.adam(1e-3), batch, shape)

    def torch_step(device):
        import torch

        from benchmarks.peers.torch_nets import TorchCNN

        return _torch_classifier_step(TorchCNN(), lambda p: torch.optim.Adam(p, 1e-3), batch, shape, device)

    return torch_step


def _resnet20(framework):
    batch, shape = 128, (32, 32, 3)
    if framework == "jax":
        tx = optax.chain(optax.add_decayed_weights(1e-4), optax.sgd(0.1, momentum=0.9, nesterov=True))
        return lambda: _jax_classifier_step(zoo.resnet_cifar(20), tx, batch, shape)

    def torch_step(device):
        import torch

        from benchmarks.peers.torch_nets import TorchResNet

        make_opt = lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
        return _torch_classifier_step(TorchResNet(20), make_opt, batch, shape, device)

    return torch_step


WORKLOADS = {
    w.name: w for w in (
        Workload("digits_cnn", "classify_digits CNN train step, Adam", 128, (8, 8, 1),
                 _digits_cnn("jax"), _digits_cnn("torch")),
        Workload("resnet20", "ResNet-20 train step at CIFAR shapes, SGD + momentum", 128, (32, 32, 3),
                 _resnet20("jax"), _resnet20("torch")),
    )
}

__all__ = ["WORKLOADS", "Workload"]
