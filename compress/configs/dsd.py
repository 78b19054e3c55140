"""Dense-sparse-dense training of the digits MLP against a dense baseline of the same steps."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Return the default config of the `dsd` study."""
    c = ml_collections.ConfigDict()
    c.recipe = "classify_digits_mlp"  # train recipe whose model and dataset are used
    c.seeds = (0, 1, 2)               # seeds (initialization and batch order), each trained both ways
    c.dense_steps = 1000              # phase 1: dense training
    c.sparse_steps = 500              # phase 2: training under the magnitude mask
    c.redense_steps = 500             # phase 3: mask removed, pruned weights restart at zero
    c.sparsity = 0.5                  # fraction of each layer pruned in phase 2 (the paper: 30-50%)
    c.learning_rate = 1e-3            # Adam learning rate of phases 1-2
    c.redense_scale = 0.1             # learning-rate factor from phase 3 on (the baseline gets it too)
    c.batch_size = 64                 # examples per step
    return c
