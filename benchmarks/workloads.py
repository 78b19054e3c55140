"""Benchmark workloads: a JAX train step and, where one exists, its PyTorch twin.

Each workload builds its step on random data of fixed shape, so no dataset is needed (the
device image has no data stack). Later issues add entries to `WORKLOADS`.
"""

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

import zoo
from train.losses import cross_entropy_loss
from train.state import TrainState
from train.steps import make_train_step


@dataclasses.dataclass(frozen=True)
class Workload:
    """`jax_step()` returns `(step, carry, compiled, lowered)` with `carry = step(carry)`, the
    compiled XLA executable and its lowering (for their cost analyses: model FLOPs come from the
    lowering, before XLA hides convolutions in cuDNN calls); `torch_step(device)` returns `(step,
    carry)` for the peer (None when there is none). One step processes `items` `unit`s
    (images, tokens). `cost` divides the harness's step counts for slow workloads."""

    name: str
    description: str
    items: int
    unit: str
    jax_step: Callable
    torch_step: Callable | None = None
    cost: int = 1


def _random_batch(batch_size, shape, num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return {"inputs": rng.random((batch_size, *shape), dtype=np.float32),
            "label": rng.integers(0, num_classes, batch_size).astype(np.int32)}


def _jax_step(model, tx, loss_fn, batch, loss_scale=None):
    """Compiled `jit(make_train_step(loss_fn))` on a fixed device batch, state donated."""
    batch = jax.device_put(batch)
    variables = model.init(jax.random.key(0), batch["inputs"][:1])
    state = TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                              batch_stats=variables.get("batch_stats"), loss_scale=loss_scale)
    rng = jax.random.key(1)
    lowered = jax.jit(make_train_step(loss_fn), donate_argnums=0).lower(state, batch, rng)
    compiled = lowered.compile()

    def step(state):
        return compiled(state, batch, rng)[0]

    return step, state, compiled, lowered


def _torch_step(model, make_opt, inputs, targets, device, autocast_dtype=None, grad_scaler=False):
    """A PyTorch train step on fixed tensors; `autocast_dtype` runs the forward pass in it,
    `grad_scaler` adds `torch.amp.GradScaler` (float16)."""
    import contextlib

    import torch

    x, y = inputs.to(device), targets.to(device)
    model = model.to(device).train()
    opt = make_opt(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    precision = (lambda: torch.autocast(device, dtype=autocast_dtype)) if autocast_dtype else contextlib.nullcontext

    scaler = torch.amp.GradScaler(device) if grad_scaler else None

    def step(_):
        opt.zero_grad(set_to_none=True)
        with precision():
            logits = model(x)
        loss = loss_fn(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return loss

    return step, None


def _digits_cnn():
    batch = _random_batch(128, (8, 8, 1))

    def torch_step(device):
        import torch

        from benchmarks.peers.torch_nets import TorchCNN

        x = torch.from_numpy(batch["inputs"]).permute(0, 3, 1, 2).contiguous()
        return _torch_step(TorchCNN(), lambda p: torch.optim.Adam(p, 1e-3), x,
                           torch.from_numpy(batch["label"]).long(), device)

    return Workload("digits_cnn", "classify_digits CNN train step, Adam, batch 128", 128, "images",
                    lambda: _jax_step(zoo.CNN(), optax.adam(1e-3), cross_entropy_loss, batch), torch_step)


def _resnet(depth: int = 20, precision: str = "fp32"):
    """ResNet-`depth` at CIFAR shapes; bf16/fp16 follow `train.precision` (float32 master weights,
    fp16 with dynamic loss scaling), the peer uses `torch.autocast` (+ `GradScaler` for fp16)."""
    from train.precision import compute_dtype, loss_scale

    batch = _random_batch(128, (32, 32, 3))
    tx = optax.chain(optax.add_decayed_weights(1e-4), optax.sgd(0.1, momentum=0.9, nesterov=True))
    model = zoo.resnet_cifar(depth, dtype=compute_dtype(precision))

    def torch_step(device):
        import torch

        from benchmarks.peers.torch_nets import TorchResNet

        x = torch.from_numpy(batch["inputs"]).permute(0, 3, 1, 2).contiguous()
        make_opt = lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
        autocast = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        return _torch_step(TorchResNet(depth), make_opt, x, torch.from_numpy(batch["label"]).long(), device,
                           autocast, grad_scaler=precision == "fp16")

    suffix = "" if precision == "fp32" else f"_{precision}"
    return Workload(f"resnet{depth}{suffix}", f"ResNet-{depth} train step at CIFAR shapes, SGD + momentum, batch 128, "
                    f"{precision}", 128, "images",
                    lambda: _jax_step(model, tx, cross_entropy_loss, batch, loss_scale(precision)), torch_step,
                    cost=depth // 20)


LM_SHAPE = dict(batch=64, seq=128, embed=128, hidden=512, vocab=96)


def _lm_loss(params, state, batch, rng):
    _, logits = state.apply_fn({"params": params}, batch["inputs"])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), batch["label"]).mean()
    return loss, ({}, {})


def _lstm_lm(precision: str, hoist: bool = True):
    """The char-LSTM LM train step; `hoist=False` (no PyTorch twin) forces the per-step scan, the
    recurrent layers' path before `zoo.recurrence.scan_cell`, for a before/after in one process."""
    s = LM_SHAPE
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, s["vocab"], (s["batch"], s["seq"] + 1)).astype(np.int32)
    batch = {"inputs": tokens[:, :-1], "label": tokens[:, 1:]}
    dtype = jnp.bfloat16 if precision == "bf16" else jnp.float32
    model = zoo.ManyToMany(s["vocab"], "lstm", s["hidden"], vocab_size=s["vocab"], embed_dim=s["embed"], dtype=dtype,
                           hoist=hoist)

    def torch_step(device):
        import torch

        from benchmarks.peers.torch_nets import TorchCharLSTM

        autocast = torch.bfloat16 if precision == "bf16" else None
        return _torch_step(TorchCharLSTM(s["vocab"], s["embed"], s["hidden"]), lambda p: torch.optim.Adam(p, 1e-3),
                           torch.from_numpy(batch["inputs"]).long(), torch.from_numpy(batch["label"]).long(), device,
                           autocast)

    name = f"lstm_lm_{precision}" if hoist else f"lstm_lm_per_step_{precision}"
    return Workload(name, f"char LSTM LM step (batch 64, seq 128, embed 128, hidden 512, vocab 96), "
                    f"{precision} compute, Adam{'' if hoist else ', per-step scan'}", s["batch"] * s["seq"], "tokens",
                    lambda: _jax_step(model, optax.adam(1e-3), _lm_loss, batch), torch_step if hoist else None, cost=5)


def _conv3x3(method: str):
    """One stride-1 3x3 convolution, batch 128 of 32x32x64 -> 64 channels (a ResNet-56 stage-3
    shape): `lax.conv` or `compress.winograd` F(2x2,3x3) / F(4x4,3x3); forward only."""
    def jax_step():
        from compress.winograd import winograd_conv2d

        rng = np.random.default_rng(0)
        x = jax.device_put(rng.standard_normal((128, 32, 32, 64), dtype=np.float32))
        w = jax.device_put(rng.standard_normal((3, 3, 64, 64), dtype=np.float32) / 24)
        if method == "lax":
            fn = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                                           dimension_numbers=("NHWC", "HWIO", "NHWC"))
        else:
            fn = functools.partial(winograd_conv2d, m=int(method[-1]))
        lowered = jax.jit(fn).lower(x, w)
        compiled = lowered.compile()
        return (lambda _: compiled(x, w)), None, compiled, lowered

    return Workload(f"conv3x3_{method}", f"3x3 conv forward, 128x32x32x64 -> 64 channels, {method}", 128, "images",
                    jax_step)


MATMUL = 4096  # square matmul side


def _matmul(kind: str):
    """One 4096 x 4096 x 4096 matmul: float32, bfloat16, `compress.quantize.int8_matmul` (both
    operands quantized in the call, int32 accumulation), the int8 x int8 -> int32 product alone
    (`int8_prequantized`), or a naive int8 `dot` with int8 output."""
    def jax_step():
        from compress.quantize import int8_matmul, symmetric_scale

        rng = np.random.default_rng(0)
        x = jax.device_put(rng.standard_normal((MATMUL, MATMUL), dtype=np.float32))
        w = jax.device_put(rng.standard_normal((MATMUL, MATMUL), dtype=np.float32))
        if kind == "int8":
            args = (x, w, symmetric_scale(x, 8), symmetric_scale(w, 8, axis=-1))
            fn = int8_matmul
        elif kind == "int8_naive":
            args, fn = (x.astype(jnp.int8), w.astype(jnp.int8)), jnp.dot
        elif kind == "int8_prequantized":  # operands already int8 (weights quantized once, offline)
            args = (x.astype(jnp.int8), w.astype(jnp.int8))
            fn = functools.partial(jnp.dot, preferred_element_type=jnp.int32)
        else:
            args, fn = (x.astype(kind), w.astype(kind)), jnp.dot
        lowered = jax.jit(fn).lower(*args)
        compiled = lowered.compile()
        return (lambda _: compiled(*args)), None, compiled, lowered

    return Workload(f"matmul_{kind}", f"{MATMUL}^3 matmul, {kind}", MATMUL, "rows", jax_step, cost=2)


def _saliency(mode: str):
    """Saliency maps of the digits CNN for 256 images of 8x8: `interpret.saliency` (vmapped, one
    call) or a Python loop calling a jitted single-image gradient 256 times."""
    def jax_step():
        from interpret.attribution import class_score, saliency

        model = zoo.CNN()
        x = jax.device_put(np.random.default_rng(0).random((256, 8, 8, 1), dtype=np.float32))
        labels = jnp.arange(256) % 10
        variables = model.init(jax.random.key(0), x[:1])
        apply = lambda v, x: model.apply(v, x)
        if mode == "vmap":
            lowered = jax.jit(lambda v, x, y: saliency(apply, v, x, y)).lower(variables, x, labels)
            compiled = lowered.compile()
            return (lambda _: compiled(variables, x, labels)), None, compiled, lowered
        one = jax.jit(lambda v, x, y: jnp.max(jnp.abs(jax.grad(class_score(apply, v))(x, y)), -1))
        lowered = one.lower(variables, x[0], labels[0])
        compiled = lowered.compile()
        rows, ys = list(x), list(labels)

        def loop(_):
            return [compiled(variables, xi, yi) for xi, yi in zip(rows, ys)][-1]

        return loop, None, compiled, lowered

    return Workload(f"saliency_{mode}_256", f"saliency maps of the digits CNN, 256 images, "
                    f"{'vmap in one call' if mode == 'vmap' else 'Python loop over images'}", 256, "maps", jax_step)


def _pixelcnn(mode: str, side: int = 8):
    """The `pixelcnn_digits` gated PixelCNN (48 features, 6 layers) on 100 binary `side x side`
    images: one parallel pass (what a likelihood costs) or sequential sampling (`side^2`
    passes, `train.sampling.sample_pixels`), to show why autoregressive generation is slow."""
    def jax_step():
        from train.sampling import sample_pixels

        model = zoo.GatedPixelCNN(levels=2, features=48, layers=6)
        x = jnp.zeros((100, side, side, 1))
        params = model.init(jax.random.key(0), x)["params"]
        apply = lambda params, x: model.apply({"params": params}, x)
        if mode == "forward":
            lowered = jax.jit(apply).lower(params, x)
            compiled = lowered.compile()
            return (lambda _: compiled(params, x)), None, compiled, lowered
        sample = lambda params, key: sample_pixels(lambda x: apply(params, x), key, 100, (side, side, 1), 2)
        key = jax.random.key(1)
        lowered = jax.jit(sample).lower(params, key)
        compiled = lowered.compile()
        return (lambda _: compiled(params, key)), None, compiled, lowered

    what = "one parallel pass (likelihood)" if mode == "forward" else f"sequential sampling ({side * side} passes)"
    return Workload(f"pixelcnn_{mode}_{side}", f"gated PixelCNN on 100 {side}x{side} binary images, {what}", 100,
                    "images", jax_step, cost=1 if mode == "forward" else 10)


def _loss_step(model, params, loss_fn, batch, batch_stats=None):
    """`(step, state, compiled)` for `loss_fn(params, state, batch, rng)` on a fixed device batch (Adam)."""
    state = TrainState.create(apply_fn=model.apply, params=params, tx=optax.adam(1e-3), batch_stats=batch_stats)
    key = jax.random.key(1)
    lowered = jax.jit(make_train_step(loss_fn), donate_argnums=0).lower(state, batch, key)
    compiled = lowered.compile()
    return (lambda state: compiled(state, batch, key)[0]), state, compiled, lowered


def _captioning(name: str):
    """A `caption_shapes` (LSTM) or `caption_shapes_attention` train step with the recipes' default
    sizes on 64 random 64x64 images and 20-word captions over a 40-word vocabulary."""
    def jax_step():
        from train.tasks.captioning import caption_losses

        vocab = 40
        model = (zoo.AttentionCaptioner(vocab) if name == "attention" else zoo.CaptioningRNN(vocab, cell=name))
        rng = np.random.default_rng(0)
        batch = jax.device_put({"image": rng.random((64, 64, 64, 3), dtype=np.float32),
                                "tokens": rng.integers(1, vocab, (64, 21)).astype(np.int32)})
        variables = model.init(jax.random.key(0), batch["image"][:1], batch["tokens"][:1, :-1])

        def loss_fn(params, state, batch, rng):
            ce, penalty, _, batch_stats = caption_losses(model, state.variables(params), batch, 0, name == "attention",
                                                         train=True)
            return jnp.mean(ce) + jnp.mean(penalty), ({}, {"batch_stats": batch_stats} if batch_stats is not None else {})

        return _loss_step(model, variables["params"], loss_fn, batch, variables.get("batch_stats"))

    return Workload(f"caption_{name}", f"captioning train step ({name} decoder), 64 images of 64x64, 20 words",
                    64, "images", jax_step)


def _seq2seq(attention: bool):
    """A `translate_dates` / `translate_dates_attention` train step with the recipes' default sizes:
    128 random pairs of 33 source and 11 target characters (vocabularies of 60 and 14)."""
    def jax_step():
        from train.tasks.translation import translation_losses

        model = zoo.Seq2Seq(60, 14, attention=attention)
        rng = np.random.default_rng(0)
        batch = jax.device_put({"source": rng.integers(1, 60, (128, 33)).astype(np.int32),
                                "target": rng.integers(1, 14, (128, 12)).astype(np.int32)})
        params = model.init(jax.random.key(0), batch["source"][:1], batch["target"][:1, :-1])["params"]

        def loss_fn(params, state, batch, rng):
            return jnp.mean(translation_losses(model, params, batch, 0)[0]), ({}, {})

        return _loss_step(model, params, loss_fn, batch)

    name = "attention" if attention else "plain"
    return Workload(f"seq2seq_{name}", f"seq2seq GRU train step ({'with' if attention else 'without'} attention), "
                    f"128 pairs, 33 -> 11 characters", 128, "pairs", jax_step)


def _ram(policy: str):
    """A `ram_cluttered` train step (hybrid loss: cross-entropy + REINFORCE + baseline) with the recipe's
    default sizes, 6 glimpses, on 64 random 40x40 canvases."""
    def jax_step():
        from train.tasks.glimpses import glimpse_losses

        model = zoo.RecurrentAttentionModel(policy=policy)
        batch = jax.device_put(_random_batch(64, (40, 40, 1)))
        noise = lambda rng: (jax.random.uniform(rng, (64, 6, 2), minval=-1, maxval=1) if policy == "random"
                             else jax.random.normal(rng, (64, 6, 2)))
        params = model.init(jax.random.key(0), batch["inputs"][:1], noise(jax.random.key(0))[:1])["params"]

        def loss_fn(params, state, batch, rng):
            ce, reinforce, baseline, _, _ = glimpse_losses(model, params, batch["inputs"], batch["label"], noise(rng))
            return jnp.mean(ce + reinforce + baseline), ({}, {})

        return _loss_step(model, params, loss_fn, batch)

    return Workload(f"ram_{policy}", f"recurrent attention model train step ({policy} locations), 64 canvases "
                    f"of 40x40, 6 glimpses", 64, "images", jax_step)


PPO_STEPS_PER_SEED = 32_768  # 64 PPO updates of 4 environments x 128 steps


def _ppo_cartpole(seeds: int):
    """Whole PPO training calls (`rl.ppo`, default config) on CartPole-v1, `seeds` seeds vmapped;
    gymnax is imported only when the workload runs. 1,024 seeds are a GPU workload (minutes per
    call on a 2-core CPU)."""
    def jax_step():
        from rl.configs.ppo import get_config
        from rl.ppo import make_train

        config = get_config()
        config.total_steps = PPO_STEPS_PER_SEED
        keys = jax.random.split(jax.random.key(0), seeds)
        lowered = jax.jit(jax.vmap(make_train(config))).lower(keys)
        compiled = lowered.compile()
        return (lambda _: compiled(keys)), None, compiled, lowered

    return Workload(f"ppo_cartpole_{seeds}", f"PPO on CartPole-v1, {PPO_STEPS_PER_SEED} env steps per seed, "
                    f"{seeds} seed(s) vmapped in one jit call", seeds * PPO_STEPS_PER_SEED, "steps", jax_step,
                    cost=20)


WORKLOADS = {w.name: w for w in (_digits_cnn(), *(_resnet(d, p) for d in (20, 56) for p in ("fp32", "bf16", "fp16")),
                                 _lstm_lm("f32"), _lstm_lm("bf16"), _lstm_lm("bf16", hoist=False),
                                 *(_ppo_cartpole(n) for n in (1, 64, 1024)),
                                 *(_conv3x3(m) for m in ("lax", "winograd2", "winograd4")),
                                 *(_matmul(k) for k in ("float32", "bfloat16", "int8", "int8_prequantized", "int8_naive")),
                                 *(_pixelcnn(m, s) for m in ("forward", "sample") for s in (8, 28)),
                                 _saliency("vmap"), _saliency("loop"), _captioning("lstm"), _captioning("attention"),
                                 _seq2seq(False), _seq2seq(True), _ram("learned"), _ram("random"))}
