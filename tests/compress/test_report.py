"""Size accounting from real encodings: relative indices with filler zeros, every stage decodes
to the same weights, and sizes shrink in the order of the paper."""

import jax
import jax.numpy as jnp
import numpy as np

from compress import prune, share
from compress.report import expand, markdown_table, relative_index, size_report


def test_relative_index_inserts_fillers_for_long_gaps_and_expands_back():
    flat = np.zeros(40, np.float32)
    flat[[2, 3, 30, 39]] = [1.0, -2.0, 3.0, 4.0]
    gaps, positions = relative_index(flat, index_bits=3)  # gaps up to 7
    # A filler covers 7 zeros and is itself a stored zero: 26 zeros = 3 fillers + 2, 8 zeros = 1 filler + 0.
    np.testing.assert_array_equal(gaps.gaps, [2, 0, 7, 7, 7, 2, 7, 0])
    np.testing.assert_array_equal(gaps.filler, [0, 0, 1, 1, 1, 0, 1, 0])
    values = np.where(positions >= 0, flat[np.maximum(positions, 0)], 0)
    np.testing.assert_array_equal(expand(gaps.gaps, values, 40), flat)


def test_size_report_decodes_every_stage_and_sizes_shrink_stage_by_stage():
    params = {"dense0": {"kernel": jax.random.normal(jax.random.key(0), (64, 128)), "bias": jnp.ones(128)},
              "head": {"kernel": jax.random.normal(jax.random.key(1), (128, 10)), "bias": jnp.zeros(10)}}
    masks = prune.magnitude_masks(params, 0.9)
    pruned = jax.tree.map(lambda p, m: p if m is None else p * m, params, masks, is_leaf=lambda x: x is None)
    shared = share.share(pruned, bits=4)
    report = size_report(share.reconstruct(shared), shared, index_bits=4, bits=4)
    total = report["total"]
    assert total["dense"] == 4 * (64 * 128 + 128 + 128 * 10 + 10)
    assert total["dense"] > total["sparse"] > total["shared"] > total["huffman"]
    kernel = next(r for r in report["layers"] if r["name"] == "dense0/kernel")
    # Sparse: >= 819 nonzeros x (32 + 4 bits); shared: x (4 + 4 bits) plus a 15-entry codebook.
    assert kernel["sparse"] >= 819 * 36 // 8 and kernel["shared"] >= 819 * 8 // 8 + 15 * 4
    assert "**total**" in markdown_table(report)
    no_sharing = size_report(pruned, index_bits=4)
    assert set(no_sharing["total"]) == {"dense", "sparse"}
