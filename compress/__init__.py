"""Model compression: pruning, weight sharing, quantization, low-rank, binary and Winograd methods.

Magnitude pruning as an optax wrapper (`compress.prune`), weight sharing
by per-layer k-means with codebook fine-tuning (`compress.share`), symmetric integer
quantization with an int8 matmul path (`compress.quantize`), low-rank factors (`compress.lowrank`),
binary and ternary weights (`compress.binary`), Winograd minimal filtering for 3x3 convolutions
(`compress.winograd`), Huffman coding and size accounting (`compress.huffman`, `compress.report`),
the Deep Compression pipeline (`compress.deep_compression`) and DSD training (`compress.dsd`).
`python -m compress --list` lists the pipelines.

Compilation: functions that transform a model's call (`quantize.quantized_apply`,
`quantize.fake_quant_apply`, `quantize.integer_apply`, `lowrank.lowrank_apply`) and optax wrappers
are traced inside the caller's `jit`; `winograd_conv2d` is jitted on its static options; the
shared fine-tuning loop (`compress.fit`) compiles its step once per shapes, loss and optimizer,
both keyed by what they compute (`train.keyed_jit`), so a rerun with an equal new loss or
optimizer does not compile again.
"""

from compress import binary, dsd, huffman, lowrank, prune, quantize, report, share
from compress.winograd import multiplications_per_output, transform_kernel, winograd_conv2d, winograd_matrices

__all__ = ["binary", "dsd", "huffman", "lowrank", "multiplications_per_output", "prune", "quantize", "report", "share",
           "transform_kernel", "winograd_conv2d", "winograd_matrices"]
