"""Model compression: magnitude pruning as an optax wrapper (`compress.prune`), weight sharing
by per-layer k-means with codebook fine-tuning (`compress.share`), symmetric integer
quantization with an int8 matmul path (`compress.quantize`), low-rank factors (`compress.lowrank`),
binary and ternary weights (`compress.binary`), Winograd minimal filtering for 3x3 convolutions
(`compress.winograd`), Huffman coding and size accounting (`compress.huffman`, `compress.report`),
the Deep Compression pipeline (`compress.deep_compression`) and DSD training (`compress.dsd`).
`python -m compress --list` lists the pipelines."""

from compress import binary, dsd, huffman, lowrank, prune, quantize, report, share
from compress.winograd import multiplications_per_output, transform_kernel, winograd_conv2d, winograd_matrices

__all__ = ["binary", "dsd", "huffman", "lowrank", "multiplications_per_output", "prune", "quantize", "report", "share",
           "transform_kernel", "winograd_conv2d", "winograd_matrices"]
