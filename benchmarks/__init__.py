"""Throughput harness (`python -m benchmarks`) and the PyTorch peer references.

Imports neither the data stack nor TensorFlow, so it runs on a bare accelerator image.
"""
