"""ResNet-20 on TFDS cifar10 (needs the `tf` extra and a network, or a prepared data_dir)."""

import ml_collections

from train.configs import classify_digits


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.dataset = "cifar10"
    c.batch_size = 128
    c.num_steps = 64000            # ~164 epochs, as in He et al. (2016)
    c.log_every = 100
    c.eval_every = 2000
    c.checkpoint_every = 2000
    c.model = ml_collections.ConfigDict()
    c.model.name = "resnet"        # resnet_cifar(depth): 20 | 32 | 44 | 56 | 110
    c.model.depth = 20             # 6n + 2 layers
    c.model.width = 16             # channels of the first stage (then 2x, 4x)
    c.model.num_classes = 10       # logits per example
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu
    c.model.remat = False          # recompute block activations in the backward pass (less memory)
    c.optimizer.name = "sgd"
    c.optimizer.learning_rate = 0.1
    c.optimizer.warmup_steps = 400
    c.optimizer.weight_decay = 1e-4
    c.augment.crop_padding = 4
    c.augment.flip = True
    return c
