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
    """Compute the per-example gradient of the attack's ascent objective with respect to each input.

    The objective is the cross-entropy of the example's label on the logits (untargeted, to be
    increased) or minus that of its target (targeted).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, ...)` inputs.
        labels: `(B,)` integer labels, or targets when `targeted`.
        targeted: whether `labels` are targets.

    Returns:
        `(B, ...)` gradients, the shape and dtype of `x`.
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
    """Project perturbations onto the `norm` ball of radius `eps`.

    Args:
        delta: `(B, ...)` perturbations.
        eps: the radius of the ball.
        norm: `"linf"` or `"l2"` (per example, over all non-batch axes).

    Returns:
        `(B, ...)` projected perturbations, the shape of `delta`.
    """
    if norm == "linf":
        return jnp.clip(delta, -eps, eps)
    return delta * jnp.minimum(1.0, eps / jnp.maximum(_flat_norm(delta), 1e-12))


def success_flags(apply_fn, params, x_adv, labels, targeted: bool = False):
    """Tell, per example, whether an attack succeeded.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`.
        params: the model's parameters.
        x_adv: `(B, ...)` adversarial inputs.
        labels: `(B,)` integer labels, or targets when `targeted`.
        targeted: whether `labels` are targets.

    Returns:
        `(B,)` bool: the model's prediction on `x_adv` differs from `labels` (untargeted) or
        equals them (targeted, `labels` = targets).
    """
    pred = jnp.argmax(apply_fn(params, x_adv), axis=-1)
    return pred == labels if targeted else pred != labels


@_checked_budget
@checked_batch(BATCH)
@keyed_jit("apply_fn", static_argnames=("norm", "targeted", "lo", "hi"))
def fgsm(apply_fn: Callable, params, x, labels, eps, norm: str = "linf", targeted: bool = False,
         lo: float = 0.0, hi: float = 1.0):
    """Take one gradient step of size `eps` (FGSM, Goodfellow et al. 2015).

    The step follows the sign of the gradient for L-infinity (FGSM), the normalized gradient for
    L2 (fast gradient method).

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, ...)` float inputs in `[lo, hi]`.
        labels: `(B,)` integer true labels, or the targets when `targeted`.
        eps: the step size, the radius of the perturbation (>= 0).
        norm: `"linf"` or `"l2"`.
        targeted: whether to move towards `labels` instead of away from them.
        lo: the lowest valid input value.
        hi: the highest valid input value.

    Returns:
        `(x_adv, success)`: `(B, ...)` adversarial inputs clipped to `[lo, hi]`, and `(B,)` bool
        flags (see `success_flags`).

    Raises:
        ValueError: on an unknown `norm`, a negative `eps`, a bad rank of `x`, bad `labels` or
            non-finite `x`.
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
    """Attack with projected gradient descent (PGD, Madry et al. 2018).

    Takes `steps` steepest-ascent steps of `step_size` in `norm`, each followed by projection
    onto the `eps` ball around `x` and clipping to `[lo, hi]`, from a uniform random start in
    the ball (`random_start`). The `restarts` independent runs are vmapped; each example keeps a
    successful one if any (else the one of highest loss).

    The steps are a `lax.scan`, fully unrolled by default: XLA's CPU backend runs a
    convolution inside a loop body slower than unrolled. Pass `unroll=1` to bound
    compile time for hundreds of steps.

    Args:
        apply_fn: `apply_fn(params, x) -> logits`, logits `(B, K)`.
        params: the model's parameters.
        x: `(B, ...)` float inputs in `[lo, hi]`.
        labels: `(B,)` integer true labels, or the targets when `targeted`.
        eps: the radius of the `norm` ball (>= 0).
        step_size: the length of each ascent step.
        steps: the number of steps.
        rng: a PRNG key for the random starts.
        restarts: the number of independent runs.
        norm: `"linf"` or `"l2"`.
        targeted: whether to move towards `labels` instead of away from them.
        random_start: start from a uniform random point in the ball instead of `x`.
        lo: the lowest valid input value.
        hi: the highest valid input value.
        unroll: the `lax.scan` unroll of the steps.

    Returns:
        `(x_adv, success)`: `(B, ...)` adversarial inputs, and `(B,)` bool flags (see
        `success_flags`).

    Raises:
        ValueError: on an unknown `norm`, a negative `eps`, a bad rank of `x`, bad `labels` or
            non-finite `x`.
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
