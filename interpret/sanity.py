"""Sanity checks for saliency methods (Adebayo et al. 2018): does a map depend on the model?

A `method(apply_fn, params, x, labels) -> (B, H, W)` map (e.g. `interpret.saliency`) is
recomputed on a model whose weights are re-drawn, and compared with the original maps by
Spearman rank correlation per image. A method that explains the model decorrelates; one that
mostly shows the input (an edge detector would) does not.

- `model_randomization_test`: cascading re-initialization from the top layer down, one layer
  more at each stage; returns the mean rank correlation after each stage.
- `data_randomization_test`: the same comparison between a model trained on the real labels
  and one trained on permuted labels (the caller trains both).
"""

import jax
import jax.numpy as jnp

from train import draws


def spearman(a, b):
    """Compute the Spearman rank correlation between maps, per example (ties broken by order).

    Args:
        a: `(B, ...)` maps.
        b: `(B, ...)` maps of the same shape.

    Returns:
        `(B,)` float32 correlations.
    """
    def ranks(m):
        flat = m.reshape(m.shape[0], -1)
        return jnp.argsort(jnp.argsort(flat, axis=1), axis=1).astype(jnp.float32)

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(1, keepdims=True), rb - rb.mean(1, keepdims=True)
    return jnp.sum(ra * rb, 1) / jnp.sqrt(jnp.sum(ra ** 2, 1) * jnp.sum(rb ** 2, 1))


def reinitialize(layer_params, rng):
    """Re-draw every array of one layer from a normal with that array's own standard deviation.

    Biases, with zero spread, are set to zero.

    Args:
        layer_params: the layer's pytree of arrays.
        rng: a PRNG key.

    Returns:
        A pytree of the structure, shapes and dtypes of `layer_params`.
    """
    leaves, treedef = jax.tree.flatten(layer_params)
    keys = jax.random.split(rng, len(leaves))
    return jax.tree.unflatten(treedef, [jnp.std(w) * draws.normal(k, w.shape, w.dtype)
                                        for w, k in zip(leaves, keys)])


def model_randomization_test(method, apply_fn, variables, x, labels, layers, rng) -> dict:
    """Run the cascading model randomization test: re-initialize `layers` cumulatively, compare maps.

    Args:
        method: `method(apply_fn, variables, x, labels) -> (B, H, W)` maps, e.g. `interpret.saliency`.
        apply_fn: `apply_fn(variables, x) -> logits`.
        variables: the model's variables, holding `{"params": ...}`.
        x: `(B, H, W, C)` images.
        labels: `(B,)` integer labels.
        layers: top-level parameter names, given top first.
        rng: a PRNG key for the re-initialization.

    Returns:
        A dict of floats,
        `{layer: mean Spearman correlation}` of `|maps|` with the original ones after
        re-initializing that layer and all before it.

    Raises:
        ValueError: if a name in `layers` is not a top-level parameter name.
    """
    original = jnp.abs(method(apply_fn, variables, x, labels))
    params = dict(variables["params"])
    missing = [name for name in layers if name not in params]
    if missing:
        raise ValueError(f"no parameters named {missing}; top-level names are {sorted(params)}")
    out = {}
    for i, name in enumerate(layers):
        params[name] = reinitialize(params[name], jax.random.fold_in(rng, i))
        maps = jnp.abs(method(apply_fn, dict(variables, params=params), x, labels))
        out[name] = float(jnp.mean(spearman(original, maps)))
    return out


def data_randomization_test(method, apply_fn, variables, random_label_variables, x, labels) -> float:
    """Run the data randomization test: compare maps of models trained on true and permuted labels.

    Args:
        method: `method(apply_fn, variables, x, labels) -> (B, H, W)` maps, e.g. `interpret.saliency`.
        apply_fn: `apply_fn(variables, x) -> logits`.
        variables: the variables of the model trained on true labels.
        random_label_variables: the variables of the model trained on randomly permuted labels.
        x: `(B, H, W, C)` images.
        labels: `(B,)` integer labels.

    Returns:
        The mean Spearman correlation of `|maps|` between the two models.
    """
    a = jnp.abs(method(apply_fn, variables, x, labels))
    b = jnp.abs(method(apply_fn, random_label_variables, x, labels))
    return float(jnp.mean(spearman(a, b)))
