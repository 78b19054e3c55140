"""Data parallelism on JAX's own sharding (no `pmap`).

One code path for 1 device, N local devices and several processes.

A `Mesh` over all devices has a `data` axis (and a `model` axis, size 1 unless asked for).
The global batch is sharded over `data`, the train state is replicated, and the train step is
`jax.jit` with those shardings: XLA inserts the gradient all-reduce itself, and BatchNorm
statistics are those of the global batch, so the result equals one device stepping on the
whole batch (up to floating-point summation order). With several processes
(`jax.distributed.initialize`, one per host) every process draws the same global batch from
its copy of the data (the same shuffle by seed), keeps its contiguous rows (`process_rows`) and
transfers only those to its devices; `shard_batch` assembles the global array from them.
"""

from typing import Callable

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def make_mesh(model: int = 1, devices=None) -> Mesh:
    """Build a `(data, model)` mesh over `devices`.

    Args:
        model: Size of the `model` axis; the `data` axis takes the rest.
        devices: The devices to use (default: all devices of all processes).

    Returns:
        A `Mesh` with axes `("data", "model")` of shape `(len(devices) // model, model)`.

    Raises:
        ValueError: If `model` is below 1 or does not divide the number of devices.
    """
    devices = jax.devices() if devices is None else list(devices)
    if model < 1 or len(devices) % model:
        raise ValueError(f"model axis {model} must divide the {len(devices)} devices")
    return Mesh(np.array(devices).reshape(-1, model), ("data", "model"))


def replicated(mesh: Mesh) -> NamedSharding:
    """Return the sharding that keeps a whole copy of an array on every device of `mesh`."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, batch=None):
    """Return the sharding that splits the leading (batch) axis over `data`, other axes whole.

    Args:
        mesh: A mesh from `make_mesh`.
        batch: Optional tree of arrays shaped `(B, ...)`.

    Returns:
        A `NamedSharding` when `batch` is None; otherwise the tree of shardings for `batch`
        (scalars in a batch, such as flags, are replicated).
    """
    split = NamedSharding(mesh, PartitionSpec("data"))
    if batch is None:
        return split
    return jax.tree.map(lambda x: split if np.ndim(x) else replicated(mesh), batch)


def process_rows(batch: dict, process_index: int | None = None, process_count: int | None = None) -> dict:
    """Return this process's contiguous share of a global batch.

    Args:
        batch: `{name: array}` with arrays of shape `(global_batch, ...)`; scalar entries are kept
            whole.
        process_index: This process's index (default `jax.process_index()`).
        process_count: The number of processes (default `jax.process_count()`).

    Returns:
        `{name: array}` with arrays of shape `(global_batch // process_count, ...)`.

    Raises:
        ValueError: If the global batch size is not divisible by the number of processes.
    """
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    n = max(len(v) for v in batch.values() if np.ndim(v))
    if n % count:
        raise ValueError(f"global batch {n} is not divisible by {count} processes")
    rows = slice(index * n // count, (index + 1) * n // count)
    return {k: np.asarray(v)[rows] if np.ndim(v) else v for k, v in batch.items()}


def shard_batch(local_batch: dict, mesh: Mesh) -> dict:
    """Assemble global arrays sharded over `data` from this process's rows (`process_rows`).

    Args:
        local_batch: `{name: array}`, this process's rows, shaped `(local_batch, ...)`.
        mesh: A mesh from `make_mesh`.

    Returns:
        `{name: jax.Array}` of global shape `(global_batch, ...)`, sharded over `data`.
    """
    shardings = batch_sharding(mesh, local_batch)
    return {k: jax.make_array_from_process_local_data(shardings[k], np.asarray(v)) for k, v in local_batch.items()}


def replicate(tree, mesh: Mesh):
    """Copy every leaf of `tree` to every device of `mesh`, of every process.

    Each process passes the same values, as after the same seeded initialization. PRNG key
    leaves are replicated as their raw key data.

    Returns:
        `tree` with each leaf a replicated `jax.Array`.
    """
    if jax.process_count() == 1:
        return jax.device_put(tree, replicated(mesh))

    def leaf(x):
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):  # keys: as raw data
            return jax.random.wrap_key_data(leaf(jax.random.key_data(x)), impl=jax.random.key_impl(x))
        return jax.make_array_from_process_local_data(replicated(mesh), np.asarray(x))

    return jax.tree.map(leaf, tree)


def model_sharding(mesh: Mesh, tree, min_size: int = 2 ** 14):
    """Shardings for tensor parallelism by annotation: split large matrices' last dim over `model`.

    Every array leaf of `tree` with at least 2 dims and `min_size` elements whose last dim
    divides by the `model` axis is split along that dim over `model`; everything else is
    replicated. Applied to a whole train state it gives the optimizer moments the same layout as
    their parameters; XLA's SPMD partitioner inserts the collectives the sharded matmuls need.

    Args:
        mesh: A mesh from `make_mesh`.
        tree: A tree of arrays (or shape-carrying leaves), e.g. a train state.
        min_size: The fewest elements a leaf needs to be split.

    Returns:
        A tree of `NamedSharding`s with the structure of `tree`.
    """
    parts = mesh.shape["model"]

    def leaf(x):
        shape = getattr(x, "shape", ())
        if parts > 1 and len(shape) >= 2 and np.prod(shape) >= min_size and shape[-1] % parts == 0:
            return NamedSharding(mesh, PartitionSpec(*([None] * (len(shape) - 1)), "model"))
        return replicated(mesh)

    return jax.tree.map(leaf, tree)


def place_state(state, mesh: Mesh):
    """Lay out the train state for `data_parallel_step`.

    The state is replicated, or split by `model_sharding` when the mesh has a `model` axis
    (single process only).

    Returns:
        `state` placed on the devices of `mesh`.

    Raises:
        ValueError: If the mesh has a `model` axis larger than 1 and there are several processes.
    """
    if mesh.shape["model"] == 1:
        return replicate(state, mesh)
    if jax.process_count() > 1:
        raise ValueError("a model axis is supported within one process only")
    return jax.device_put(state, model_sharding(mesh, state))


def data_parallel_step(train_step: Callable, mesh: Mesh, state, batch, donate: bool = True):
    """Jit `train_step` with data-parallel (and optionally model-parallel) shardings.

    The key is replicated, the batch (shaped like `batch`) sharded over `data`, and the state
    replicated or, on a mesh with a `model` axis larger than 1, laid out by `model_sharding`.

    Args:
        train_step: `(state, batch, rng) -> (state, metrics)`, e.g. from `make_train_step`.
        mesh: A mesh from `make_mesh`.
        state: An example train state, for its layout.
        batch: An example global batch, for its shardings.
        donate: Whether to donate the input state's buffers.

    Returns:
        The jitted step; its metrics are replicated.
    """
    state_sharding = model_sharding(mesh, state)
    return jax.jit(train_step, in_shardings=(state_sharding, batch_sharding(mesh, batch), replicated(mesh)),
                   out_shardings=(state_sharding, replicated(mesh)), donate_argnums=0 if donate else ())
