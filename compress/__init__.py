"""Model compression. So far: magnitude pruning as an optax wrapper (`compress.prune`) and
Winograd minimal filtering for 3x3 convolutions (`compress.winograd`); weight sharing,
quantization, low rank and binary/ternary nets come with their issue."""

from compress import prune
from compress.winograd import multiplications_per_output, transform_kernel, winograd_conv2d, winograd_matrices

__all__ = ["multiplications_per_output", "prune", "transform_kernel", "winograd_conv2d", "winograd_matrices"]
