"""Model compression. So far: Winograd minimal filtering for 3x3 convolutions
(`compress.winograd`); pruning, weight sharing, quantization, low rank and binary/ternary nets
come with their issue."""

from compress.winograd import multiplications_per_output, transform_kernel, winograd_conv2d, winograd_matrices

__all__ = ["multiplications_per_output", "transform_kernel", "winograd_conv2d", "winograd_matrices"]
