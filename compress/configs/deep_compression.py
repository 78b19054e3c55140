"""Deep Compression of a trained classifier (default: the digits MLP 64-300-100-10)."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Return the default config of the `deep_compression` pipeline."""
    c = ml_collections.ConfigDict()
    c.recipe = "classify_digits_mlp"  # recipe trained in the workdir when it holds no run yet
    c.pretrained = ""                 # a shipped model (zoo.pretrained) compressed instead of the workdir's run
    c.sparsity = 0.92                 # fraction of prunable weights removed (Han et al.: 92% for LeNet-300-100)
    c.scope = "global"                # layer | global magnitude threshold
    c.ramp_steps = 600                # retraining steps over which sparsity rises to its target (Zhu & Gupta)
    c.prune_every = 50                # steps between mask updates while it rises
    c.retrain_steps = 1500            # retraining steps under the masks (ramp included)
    c.retrain_learning_rate = 1e-3    # Adam learning rate while retraining
    c.bits = 5                        # bits per shared-weight index (2**bits - 1 centroids and the zero)
    c.index_bits = 5                  # bits per relative position (gap) in the sparse encoding
    c.finetune_steps = 300            # codebook fine-tuning steps
    c.finetune_learning_rate = 1e-4   # Adam learning rate of the centroids
    c.batch_size = 64                 # examples per step
    c.seed = 0                        # batch order
    return c
