"""VGG-16 (Simonyan & Zisserman 2015, configuration D) and torchvision weight conversion.

The layers carry the paper's names (`conv1_1` ... `conv5_3`, `fc6`, `fc7`, `fc8`), so style
transfer, DeepDream and Grad-CAM can address them. `from_torchvision` turns a torchvision
`vgg16` state dict (a local `.pth` file; nothing is downloaded) into this module's variables.
"""

from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

# Channels per stage and convolutions per stage of configuration D.
STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
CONV_LAYERS = tuple(f"conv{s + 1}_{j + 1}" for s, (_, n) in enumerate(STAGES) for j in range(n))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def adaptive_avg_pool(x, size: int):
    """Pools `(B, H, W, C)` to `(B, size, size, C)` with PyTorch's `AdaptiveAvgPool2d` windows.

    Output cell `i` averages rows `floor(i H / size)` to `ceil((i + 1) H / size)`.
    """
    def windows(n):
        return [(i * n // size, -(-(i + 1) * n // size)) for i in range(size)]

    rows = [jnp.stack([x[:, a:b, c:d].mean(axis=(1, 2)) for c, d in windows(x.shape[2])], 1)
            for a, b in windows(x.shape[1])]
    return jnp.stack(rows, 1)


class VGG16(nn.Module):
    """VGG-16 (configuration D) on `(B, H, W, 3)` RGB images in [0, 1].

    Thirteen 3x3 convolutions in five stages, each stage ending in a 2x2 max pool; with
    `include_top` a 7x7 adaptive average pool, `fc6`, `fc7` (4096, with dropout) and `fc8`.

    Attributes:
      num_classes: the number of logits of `fc8`.
      include_top: add the classifier (else return the last pooled features).
      normalize: normalize the images with the ImageNet mean and std inside.
      dropout: the dropout rate after `fc6` and `fc7`.
      act: the activation.
      dtype: the compute dtype.
      param_dtype: the parameters' dtype.
    """

    num_classes: int = 1000
    include_top: bool = True
    normalize: bool = True
    dropout: float = 0.5
    act: Callable = nn.relu
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        """Applies VGG-16.

        Args:
          x: `(B, H, W, 3)` RGB images in [0, 1], at least 32x32.
          train: apply dropout.

        Returns:
          `(B, num_classes)` logits with `include_top`, otherwise the `(B, H/32, W/32, 512)` last
          pooled features.

        Raises:
          ValueError: if `x` is not `(B, H, W, 3)` or smaller than 32x32.
        """
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"VGG16 expects RGB images (B, H, W, 3); got shape {x.shape}")
        if min(x.shape[1:3]) < 32:
            raise ValueError(f"VGG16 pools five times and needs images of at least 32x32; got {x.shape[1:3]}")
        if self.normalize:
            x = (x - jnp.asarray(IMAGENET_MEAN).reshape(1, 1, 1, 3)) / jnp.asarray(IMAGENET_STD).reshape(1, 1, 1, 3)
        x = x.astype(self.dtype)
        for s, (width, n) in enumerate(STAGES):
            for j in range(n):
                x = self.act(nn.Conv(width, (3, 3), padding=1, dtype=self.dtype, param_dtype=self.param_dtype,
                                     name=f"conv{s + 1}_{j + 1}")(x))
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
        if not self.include_top:
            return x
        x = adaptive_avg_pool(x, 7).reshape(x.shape[0], -1)
        for name in ("fc6", "fc7"):
            x = self.act(nn.Dense(4096, dtype=self.dtype, param_dtype=self.param_dtype, name=name)(x))
            x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="fc8")(x)


def from_torchvision(state_dict) -> dict:
    """Converts a torchvision `vgg16` state dict into `VGG16` variables.

    Conv kernels go from `(out, in, kh, kw)` to `(kh, kw, in, out)`; `fc6` is re-ordered from
    torchvision's channel-major flattening `(C, 7, 7)` to ours `(7, 7, C)`; dense weights are
    transposed.

    Args:
      state_dict: tensors or arrays under `features.{i}.weight`, `classifier.{0,3,6}.weight` and
        their biases.

    Returns:
      The variables dict (a `"params"` collection) for `VGG16`, as float32 numpy arrays.

    Raises:
      ValueError: naming any missing or misshapen entry.
    """
    arrays = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, np.float32)
              for k, v in state_dict.items()}

    def take(key, shape):
        if key not in arrays:
            raise ValueError(f"state dict has no {key!r}; is it a torchvision vgg16 (not vgg16_bn)?")
        if arrays[key].shape != shape:
            raise ValueError(f"{key} has shape {arrays[key].shape}, expected {shape}")
        return arrays[key]

    params, index, channels = {}, 0, 3
    for s, (width, n) in enumerate(STAGES):
        for j in range(n):
            kernel = take(f"features.{index}.weight", (width, channels, 3, 3))
            params[f"conv{s + 1}_{j + 1}"] = {"kernel": kernel.transpose(2, 3, 1, 0),
                                              "bias": take(f"features.{index}.bias", (width,))}
            index, channels = index + 2, width  # each conv is followed by a ReLU
        index += 1  # the stage's max pool
    fc6 = take("classifier.0.weight", (4096, 512 * 49)).reshape(4096, 512, 7, 7).transpose(2, 3, 1, 0)
    params["fc6"] = {"kernel": fc6.reshape(512 * 49, 4096), "bias": take("classifier.0.bias", (4096,))}
    params["fc7"] = {"kernel": take("classifier.3.weight", (4096, 4096)).T, "bias": take("classifier.3.bias", (4096,))}
    classes = arrays.get("classifier.6.weight", np.zeros((0, 4096))).shape[0]
    params["fc8"] = {"kernel": take("classifier.6.weight", (classes, 4096)).T,
                     "bias": take("classifier.6.bias", (classes,))}
    return {"params": params}


def load_torchvision_vgg16(path: str) -> dict:
    """Loads `VGG16` variables from a local torchvision `vgg16-*.pth` file (needs torch).

    Raises:
      ImportError: if torch is not installed.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("reading a .pth file needs torch: pip install torch==2.13.0 (the CPU build)") from None
    return from_torchvision(torch.load(path, map_location="cpu", weights_only=True))
