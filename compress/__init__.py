"""Pruning, weight sharing, quantization, low rank, binary/ternary nets, Winograd (see the open issues)."""
