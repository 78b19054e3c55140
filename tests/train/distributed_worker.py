"""One process of the two-process data-parallel test: `WORKER PROCESS_ID NUM_PROCESSES PORT OUT.npz`.

Each process has 2 CPU devices, builds every global batch of 32, keeps its rows of it and
transfers only those to its devices (it prints which rows its devices hold, read off the
sharded array), trains 4 steps with the same code as one process would, and saves the final
parameters."""

import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import numpy as np  # noqa: E402

process_id, num_processes, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
if num_processes > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=num_processes,
                               process_id=process_id)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.train.test_parallel import small_problem  # noqa: E402
from train.losses import cross_entropy_loss  # noqa: E402
from train.parallel import data_parallel_step, make_mesh, process_rows, replicate, shard_batch  # noqa: E402
from train.steps import make_train_step  # noqa: E402

state, batches = small_problem()
mesh = make_mesh()
state, rng = replicate(state, mesh), replicate(jax.random.key(1), mesh)
local = [process_rows(b) for b in batches]
# which rows of the global batch this process's devices hold, read off the sharded array itself
shards = shard_batch(local[0], mesh)["inputs"].addressable_shards
for shard in shards:
    np.testing.assert_array_equal(np.asarray(shard.data), batches[0]["inputs"][shard.index])
starts, stops = zip(*((shard.index[0].start, shard.index[0].stop) for shard in shards))
print(f"process {jax.process_index()} of {jax.process_count()}, {jax.device_count()} devices, "
      f"rows {min(starts)}:{max(stops)}", flush=True)
step = data_parallel_step(make_train_step(cross_entropy_loss), mesh, state, shard_batch(local[0], mesh))
for b in local:
    state, _ = step(state, shard_batch(b, mesh), rng)
leaves = jax.tree.leaves((state.params, state.batch_stats))
np.savez(out, **{str(i): np.asarray(jax.device_get(x.addressable_data(0))) for i, x in enumerate(leaves)})
