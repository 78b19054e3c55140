"""Model compression. So far: magnitude pruning as an optax wrapper (`compress.prune`), weight
sharing by per-layer k-means with codebook fine-tuning (`compress.share`), symmetric integer
quantization (post-training and quantization-aware, `compress.quantize`), and Winograd minimal
filtering for 3x3 convolutions (`compress.winograd`); low rank, binary/ternary nets, Huffman
coding and DSD come with their issue."""

from compress import prune, quantize, share
from compress.winograd import multiplications_per_output, transform_kernel, winograd_conv2d, winograd_matrices

__all__ = ["multiplications_per_output", "prune", "quantize", "share", "transform_kernel", "winograd_conv2d",
           "winograd_matrices"]
