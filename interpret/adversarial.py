"""Adversarial examples on any classifier `apply_fn(params, x) -> logits`.

FGSM and the fast gradient method (Goodfellow et al. 2015), and projected gradient descent
with random starts and restarts (Madry et al. 2018), in the L-infinity and L2 norms,
untargeted or targeted. Losses are always taken on logits (softmax cross-entropy), never on
probabilities. Gradients are per example (`vmap` of `grad`), so models whose outputs couple
examples are attacked correctly too. Every attack returns `(x_adv, success)`: `x_adv` stays
in `[lo, hi]` and in the epsilon ball around `x`, and `success` is what the model says on
`x_adv` (a wrong label when untargeted, the target when targeted).

`fgsm` and `pgd` are each one `jax.jit` program, compiled once per shapes, norm, iteration counts
and `apply_fn`, where `apply_fn` is keyed by what it computes (`train.keyed_jit`): a fresh inline
lambda over the same model reuses the compiled program. `input_gradients` and `success_flags` are
building blocks to trace inside a caller's `jit`.
"""

import functools
import inspect
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from interpret.inputs import BATCH, checked_batch
from train.keyed_jit import keyed_jit

NORMS = ("linf", "l2")


def _check(norm: str, eps) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm '{norm}'; choose one of {', '.join(NORMS)}")
    if not isinstance(eps, jax.core.Tracer) and np.any(np.asarray(eps) < 0):
        raise ValueError(f"eps must be >= 0; got {eps}")


def _checked_budget(fn):
    """Check `norm` and a concrete `eps` at the call, before `jit` turns `eps` into a tracer."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        _check(bound.arguments["norm"], bound.arguments["eps"])
        return fn(*args, **kwargs)

    return checked


def input_gradients(apply_fn, params, x, labels, targeted: bool = False):
    """`(B, ...)` gradient w.r.t. each input of its ascent objective: the cross-entropy of its
    label on the logits (untargeted, to be increased) or minus that of its target (targeted).
    """
    sign = -1.0 if targeted else 1.0

    def objective(xi, yi):
        logits = apply_fn(params, xi[None])[0].astype(jnp.float32)
        return sign * optax.softmax_cross_entropy_with_integer_labels(logits, yi)

    return jax.vmap(jax.grad(objective))(x, labels)


def _flat_norm(v):
    return jnp.sqrt(jnp.sum(v.reshape(v.shape[0], -1) ** 2, axis=1)).reshape((-1,) + (1,) * (v.ndim - 1))


def _steepest(g, norm: str):
    """The unit-norm ascent direction for gradient `g` in `norm`."""
    return jnp.sign(g) if norm == "linf" else g / jnp.maximum(_flat_norm(g), 1e-12)


def project(delta, eps, norm: str):
    """Project perturbations `delta: (B, ...)` onto the `norm` ball of radius `eps`."""
    if norm == "linf":
        return jnp.clip(delta, -eps, eps)
    return delta * jnp.minimum(1.0, eps / jnp.maximum(_flat_norm(delta), 1e-12))


def success_flags(apply_fn, params, x_adv, labels, targeted: bool = False):
    """`(B,)` bool: the model's prediction on `x_adv` differs from `labels` (untargeted) or
    equals them (targeted, `labels` = targets).
    """
    pred = jnp.argmax(apply_fn(params, x_adv), axis=-1)
    return pred == labels if targeted else pred != labels


@_checked_budget
@checked_batch(BATCH)
@keyed_jit("apply_fn", static_argnames=("norm", "targeted", "lo", "hi"))
def fgsm(apply_fn: Callable, params, x, labels, eps, norm: str = "linf", targeted: bool = False,
         lo: float = 0.0, hi: float = 1.0):
    """One gradient step of size `eps`: the sign of the gradient for L-infinity (FGSM), the
    normalized gradient for L2 (fast gradient method). `labels` are the true labels, or the
    targets when `targeted`. Returns `(x_adv, success)`, `x_adv` clipped to `[lo, hi]`.
    """
    g = input_gradients(apply_fn, params, x, labels, targeted)
    x_adv = jnp.clip(x + eps * _steepest(g, norm), lo, hi)
    return x_adv, success_flags(apply_fn, params, x_adv, labels, targeted)


@_checked_budget
@checked_batch(BATCH)
@keyed_jit("apply_fn", static_argnames=("steps", "restarts", "norm", "targeted", "random_start", "lo", "hi", "unroll"))
def pgd(apply_fn: Callable, params, x, labels, eps, step_size, steps: int, rng, restarts: int = 1,
        norm: str = "linf", targeted: bool = False, random_start: bool = True, lo: float = 0.0, hi: float = 1.0,
        unroll: int | bool = True):
    """Projected gradient descent: `steps` steepest-ascent steps of `step_size` in `norm`,
    each followed by projection onto the `eps` ball around `x` and clipping to `[lo, hi]`,
    from a uniform random start in the ball (`random_start`). The `restarts` independent runs
    are vmapped; each example keeps a successful one if any (else the one of highest loss).
    Returns `(x_adv, success)`.

    The steps are a `lax.scan`, fully unrolled by default: XLA's CPU backend runs a
    convolution inside a loop body about 4x slower than unrolled. Pass `unroll=1` to bound
    compile time for hundreds of steps.
    """
    sign = -1.0 if targeted else 1.0

    def one_run(key):
        if random_start and norm == "linf":
            delta = jax.random.uniform(key, x.shape, x.dtype, -eps, eps)
        elif random_start:
            direction = jax.random.normal(key, x.shape, x.dtype)
            radius = eps * jax.random.uniform(jax.random.fold_in(key, 1), (x.shape[0],) + (1,) * (x.ndim - 1))
            delta = radius * direction / jnp.maximum(_flat_norm(direction), 1e-12)
        else:
            delta = jnp.zeros_like(x)
        x_adv = jnp.clip(x + delta, lo, hi)

        def step(x_adv, _):
            g = input_gradients(apply_fn, params, x_adv, labels, targeted)
            x_adv = x_adv + step_size * _steepest(g, norm)
            return jnp.clip(x + project(x_adv - x, eps, norm), lo, hi), None

        x_adv, _ = jax.lax.scan(step, x_adv, None, length=steps, unroll=unroll)
        logits = apply_fn(params, x_adv).astype(jnp.float32)
        loss = sign * optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        return x_adv, success_flags(apply_fn, params, x_adv, labels, targeted), loss

    candidates, successes, losses = jax.vmap(one_run)(jax.random.split(rng, restarts))    # (R, B, ...)
    score = jnp.where(successes, jnp.inf, losses)
    best = jnp.argmax(score, axis=0)                                                          # (B,)
    x_adv = jnp.take_along_axis(candidates, best.reshape((1, -1) + (1,) * (x.ndim - 1)), axis=0)[0]
    return x_adv, success_flags(apply_fn, params, x_adv, labels, targeted)
