"""Size accounting from real encodings: relative indices with filler zeros, every stage decodes
to the same weights, and sizes shrink in the order of the paper."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from compress import deep_compression, prune, share
from compress import report as report_module
from compress.configs.deep_compression import get_config as dc_config
from compress.deep_compression import compress_params
from compress.huffman import Huffman
from compress.report import encode_and_decode, expand, markdown_table, relative_index, size_report
from train.state import init_variables


def test_relative_index_inserts_fillers_for_long_gaps_and_expands_back():
    flat = np.zeros(40, np.float32)
    flat[[2, 3, 30, 39]] = [1.0, -2.0, 3.0, 4.0]
    gaps, positions = relative_index(flat, index_bits=3)  # gaps up to 7
    # A filler covers 7 zeros and is itself a stored zero: 26 zeros = 3 fillers + 2, 8 zeros = 1 filler + 0.
    np.testing.assert_array_equal(gaps.gaps, [2, 0, 7, 7, 7, 2, 7, 0])
    np.testing.assert_array_equal(gaps.filler, [0, 0, 1, 1, 1, 0, 1, 0])
    values = np.where(positions >= 0, flat[np.maximum(positions, 0)], 0)
    np.testing.assert_array_equal(expand(gaps.gaps, values, 40), flat)
    edge = np.zeros(17, np.float32)
    edge[[7, 16]] = 1.0  # gaps of exactly 7 (the largest that fits 3 bits) and then 8
    gaps, _ = relative_index(edge, index_bits=3)
    np.testing.assert_array_equal(gaps.gaps, [7, 7, 0])
    np.testing.assert_array_equal(gaps.filler, [0, 1, 0])


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


def _hand_case():
    """A 4x4 kernel with nonzeros at flat positions 0, 1, 2, 12 (values 0.5, 0.5, -1, 0.5) sharing the codebook
    (0.5, -1, 2), and a bias of 3."""
    kernel = np.zeros(16, np.float32)
    kernel[[0, 1, 2, 12]] = [0.5, 0.5, -1.0, 0.5]
    indices = np.full(16, 3, np.int32)
    indices[[0, 1, 2, 12]] = [0, 0, 1, 0]
    params = {"bias": jnp.ones(3), "kernel": jnp.asarray(kernel.reshape(4, 4))}
    shared = {"bias": jnp.ones(3), "kernel": share.Shared(jnp.array([0.5, -1.0, 2.0]), jnp.asarray(indices.reshape(4, 4)))}
    return params, shared


def test_size_report_bytes_of_a_tiny_layer_by_hand():
    """Every stage's bytes counted by hand with index_bits=3, bits=2 (see the comments), ratios dense / stage.

    Entries: positions 0, 1, 2, then 9 zeros (> 7): a filler for 7 zeros + itself, gap 1, position 12; so gaps
    (0, 0, 0, 7, 1) and symbols (0, 0, 1, 3, 0), 5 entries. Huffman of gaps {0: 3, 7: 1, 1: 1}: lengths 1, 2, 2,
    7 bits; of symbols {0: 3, 1: 1, 3: 1}: also 7 bits."""
    params, shared = _hand_case()
    report = size_report(params, shared, index_bits=3, bits=2)
    kernel = next(r for r in report["layers"] if r["name"] == "kernel")
    assert kernel["dense"] == 16 * 4
    assert kernel["sparse"] == 2 + 5 * 4 + 4          # 15 gap bits -> 2 bytes, float32 values, the count
    assert kernel["shared"] == 2 + 2 + 3 * 4 + 4      # 10 index bits -> 2 bytes, a 3-float codebook, the count
    # Huffman streams: 1 byte of bits + one length byte per symbol of the alphabet (8 gaps, 4 indices) + a count
    assert kernel["huffman"] == (1 + 8 + 4) + (1 + 4 + 4) + 3 * 4 + 4
    bias = next(r for r in report["layers"] if r["name"] == "bias")
    assert all(bias[stage] == 12 for stage in ("dense", "sparse", "shared", "huffman"))  # float32 throughout
    assert report["total"] == {"dense": 76, "sparse": 38, "shared": 32, "huffman": 50}
    assert report["ratio"] == pytest.approx({"dense": 1.0, "sparse": 2.0, "shared": 76 / 32, "huffman": 76 / 50})
    assert (kernel["weights"], kernel["nonzero"]) == (16, 4)
    table = markdown_table(report)
    assert "| kernel | 4x4 | 25.0% | 64 | 26 | 20 | 38 |" in table and "**76**" in table and "2.0x" in table
    # min_ndim=3: the kernel is not prunable and stays float32 at every stage
    assert size_report(params, shared, index_bits=3, bits=2, min_ndim=3)["total"] == dict.fromkeys(
        ("dense", "sparse", "shared", "huffman"), 76)
    with pytest.raises(ValueError, match="3 centroids plus zero does not fit 1-bit"):
        size_report(params, shared, index_bits=3, bits=1)
    four = {"bias": shared["bias"], "kernel": shared["kernel"]._replace(codebook=jnp.array([0.5, -1.0, 2.0, 3.0]))}
    with pytest.raises(ValueError, match="4 centroids plus zero does not fit 2-bit"):
        size_report(params, four, index_bits=3, bits=2)


def _pruned_and_shared():
    params = {"dense0": {"kernel": jax.random.normal(jax.random.key(0), (64, 32)), "bias": jnp.ones(32)},
              "head": {"kernel": jax.random.normal(jax.random.key(1), (32, 10)), "bias": jnp.zeros(10)}}
    masks = prune.magnitude_masks(params, 0.8)
    shared = share.share(jax.tree.map(lambda p, m: p if m is None else p * m, params, masks,
                                      is_leaf=lambda x: x is None), bits=4)
    return share.reconstruct(shared), shared


def test_the_decoded_tree_is_the_weights_the_bytes_hold():
    weights, shared = _pruned_and_shared()
    _, decoded = encode_and_decode(weights, shared, index_bits=4, bits=4)
    chex.assert_trees_all_equal(decoded, jax.tree.map(np.asarray, weights))


def _corrupt_one_byte(encode):
    """`encode`, with one byte of each stream it returns flipped (the middle one)."""
    def corrupted(*args, **kwargs):
        out = encode(*args, **kwargs)
        data = out.data if isinstance(out, Huffman) else out
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0xFF
        return out._replace(data=bytes(flipped)) if isinstance(out, Huffman) else bytes(flipped)
    return corrupted


@pytest.mark.parametrize("stream", ["pack_bits", "huffman_encode"])
def test_a_corrupted_byte_in_an_encoded_stream_fails_the_decode_check(stream, monkeypatch):
    weights, shared = _pruned_and_shared()
    monkeypatch.setattr(report_module, stream, _corrupt_one_byte(getattr(report_module, stream)))
    with pytest.raises((AssertionError, ValueError), match="did not decode to the same weights|stream ended|encoding is damaged"):
        encode_and_decode(weights, shared, index_bits=4, bits=4)


def test_deep_compression_scores_the_huffman_stage_on_the_decoded_weights(monkeypatch):
    rng = np.random.default_rng(0)
    inputs = rng.uniform(size=(256, 8, 8, 1)).astype(np.float32)
    labels = (inputs[:, :4].mean((1, 2, 3)) > inputs[:, 4:].mean((1, 2, 3))).astype(np.int32)
    splits = {name: {"inputs": inputs, "label": labels} for name in ("train", "test")}
    model = zoo.MLP(features=(32,), num_classes=2)
    variables = init_variables(model, jax.random.key(0), inputs[:1])
    config = dc_config()
    config.retrain_steps, config.ramp_steps, config.prune_every, config.finetune_steps = 4, 2, 1, 2
    _, acc, _ = compress_params(model.apply, variables, splits, config, progress=False)
    assert acc["huffman"] == acc["fine_tuned"]  # exact decoding: the same model
    # decoded weights that differ from the fine-tuned ones must show in the Huffman row
    zeros = lambda *args, **kwargs: (lambda r, d: (r, jax.tree.map(np.zeros_like, d)))(*encode_and_decode(*args, **kwargs))
    monkeypatch.setattr(deep_compression, "encode_and_decode", zeros)
    _, acc, _ = compress_params(model.apply, variables, splits, config, progress=False)
    assert acc["huffman"] == pytest.approx(1 - labels.mean())  # all-zero logits predict class 0
