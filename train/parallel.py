"""Data parallelism on JAX's own sharding (no `pmap`): one code path for 1 device, N local
devices and several processes.

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
    """A `(data, model)` mesh over `devices` (default: all devices of all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    if model < 1 or len(devices) % model:
        raise ValueError(f"model axis {model} must divide the {len(devices)} devices")
    return Mesh(np.array(devices).reshape(-1, model), ("data", "model"))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, batch=None):
    """Leading (batch) axis split over `data`, other axes whole; given a `batch`, the tree of
    shardings for it (scalars in a batch, such as flags, are replicated).
    """
    split = NamedSharding(mesh, PartitionSpec("data"))
    if batch is None:
        return split
    return jax.tree.map(lambda x: split if np.ndim(x) else replicated(mesh), batch)


def process_rows(batch: dict, process_index: int | None = None, process_count: int | None = None) -> dict:
    """This process's contiguous share of a global batch `{name: (global_batch, ...)}` (scalar
    entries are kept whole).
    """
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    n = max(len(v) for v in batch.values() if np.ndim(v))
    if n % count:
        raise ValueError(f"global batch {n} is not divisible by {count} processes")
    rows = slice(index * n // count, (index + 1) * n // count)
    return {k: np.asarray(v)[rows] if np.ndim(v) else v for k, v in batch.items()}


def shard_batch(local_batch: dict, mesh: Mesh) -> dict:
    """Global arrays sharded over `data` from this process's rows (`process_rows`)."""
    shardings = batch_sharding(mesh, local_batch)
    return {k: jax.make_array_from_process_local_data(shardings[k], np.asarray(v)) for k, v in local_batch.items()}


def replicate(tree, mesh: Mesh):
    """Every leaf of `tree` copied to every device of `mesh` (of every process: each process
    passes the same values, as after the same seeded initialization).
    """
    if jax.process_count() == 1:
        return jax.device_put(tree, replicated(mesh))

    def leaf(x):
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):  # keys: as raw data
            return jax.random.wrap_key_data(leaf(jax.random.key_data(x)), impl=jax.random.key_impl(x))
        return jax.make_array_from_process_local_data(replicated(mesh), np.asarray(x))

    return jax.tree.map(leaf, tree)


def model_sharding(mesh: Mesh, tree, min_size: int = 2 ** 14):
    """Tensor parallelism by annotation: every array leaf of `tree` with at least 2 dims and
    `min_size` elements whose last dim divides by the `model` axis is split along that dim
    over `model`; everything else is replicated. Applied to a whole train state it gives the
    optimizer moments the same layout as their parameters; XLA's SPMD partitioner inserts the
    collectives the sharded matmuls need.
    """
    parts = mesh.shape["model"]

    def leaf(x):
        shape = getattr(x, "shape", ())
        if parts > 1 and len(shape) >= 2 and np.prod(shape) >= min_size and shape[-1] % parts == 0:
            return NamedSharding(mesh, PartitionSpec(*([None] * (len(shape) - 1)), "model"))
        return replicated(mesh)

    return jax.tree.map(leaf, tree)


def place_state(state, mesh: Mesh):
    """The train state laid out for `data_parallel_step`: replicated, or split by
    `model_sharding` when the mesh has a `model` axis (single process only).
    """
    if mesh.shape["model"] == 1:
        return replicate(state, mesh)
    if jax.process_count() > 1:
        raise ValueError("a model axis is supported within one process only")
    return jax.device_put(state, model_sharding(mesh, state))


def data_parallel_step(train_step: Callable, mesh: Mesh, state, batch, donate: bool = True):
    """`jax.jit(train_step)` for `(state, batch, rng) -> (state, metrics)` with the key
    replicated, the batch (shaped like `batch`) sharded over `data`, and the state replicated
    or, on a mesh with a `model` axis larger than 1, laid out by `model_sharding`.
    """
    state_sharding = model_sharding(mesh, state)
    return jax.jit(train_step, in_shardings=(state_sharding, batch_sharding(mesh, batch), replicated(mesh)),
                   out_shardings=(state_sharding, replicated(mesh)), donate_argnums=0 if donate else ())
