"""Sizes of a parameter tree at every Deep Compression stage, from real encodings.

Each prunable array is encoded four ways and decoded again (the round trip is asserted):

- `dense`: float32 values, `4 n` bytes;
- `sparse`: relative-index encoding of the flattened array, as Han et al. (2016, figure 3)
  store CSR columns: for each nonzero, the number of zeros since the previous one in
  `index_bits` bits, and its float32 value; a gap longer than `2**index_bits - 1` inserts a
  filler zero entry (on a row-major flattening the row pointers of CSR are implied);
- `shared`: the same gaps, the values replaced by `bits`-bit codebook indices
  (`compress.share`: `2**bits - 1` centroids plus the zero index), and the float32 codebook;
- `huffman`: gaps and indices Huffman-coded (`compress.huffman`), and the codebook.

Arrays with fewer than `min_ndim` dims (biases) are stored as float32 at every stage and
counted in every total.
"""

from typing import NamedTuple

import jax
import numpy as np

from compress.huffman import Huffman, huffman_decode, huffman_encode, pack_bits, unpack_bits
from compress.share import Shared

STAGES = ("dense", "sparse", "shared", "huffman")


class Gaps(NamedTuple):
    """Relative positions of the stored entries.

    Attributes:
        gaps: `(entries,)` int64: `gaps[i]` zeros precede entry `i`.
        filler: `(entries,)` bool, marking the filler entries (value zero).
    """

    gaps: np.ndarray
    filler: np.ndarray


def relative_index(flat, index_bits: int) -> tuple[Gaps, np.ndarray]:
    """Encode the positions of the nonzeros of `flat` as gaps, with fillers for long gaps.

    Args:
        flat: an `(n,)` array.
        index_bits: the width of a gap; longer gaps insert filler entries.

    Returns:
        `(gaps, positions)`: the `Gaps`, and `(entries,)` int64 `positions` indexing `flat` per
        stored entry (-1 for fillers).
    """
    top = (1 << index_bits) - 1
    gaps, positions, last = [], [], -1
    for p in np.flatnonzero(flat):
        gap = p - last - 1
        while gap > top:  # a filler stands for `top` zeros plus itself, a stored zero
            gaps.append(top)
            positions.append(-1)
            gap -= top + 1
        gaps.append(gap)
        positions.append(p)
        last = p
    positions = np.asarray(positions, np.int64)
    return Gaps(np.asarray(gaps, np.int64), positions < 0), positions


def expand(gaps: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Invert `relative_index`: a flat `(n,)` array with `values` at the encoded positions.

    Raises:
        ValueError: if the gaps point past the end of the array (a damaged encoding).
    """
    positions = np.cumsum(gaps + 1) - 1
    if positions.size and positions[-1] >= n:
        raise ValueError(f"the gaps point to position {positions[-1]} of an array of {n}: the encoding is damaged")
    flat = np.zeros(n, values.dtype)
    flat[positions] = values
    return flat


def _encode_layer(w: np.ndarray, shared: Shared | None, index_bits: int, bits: int) -> tuple[dict, np.ndarray]:
    """Encode one array at each stage, decode each and check it against the weights.

    Returns the encoded bytes per stage, and the array decoded from the last stage's bytes (`w`'s shape).
    """
    flat = w.ravel().astype(np.float32)
    sizes = {"dense": len(flat.tobytes())}
    gaps, pos = relative_index(flat, index_bits)
    values = np.where(pos >= 0, flat[np.maximum(pos, 0)], 0.0).astype(np.float32)
    gap_bytes = pack_bits(gaps.gaps, index_bits)
    value_bytes = values.tobytes()
    rebuilt = expand(unpack_bits(gap_bytes, index_bits, len(values)), np.frombuffer(value_bytes, np.float32), flat.size)
    _check(rebuilt, flat, "sparse")
    sizes["sparse"] = len(gap_bytes) + len(value_bytes) + 4
    if shared is None:
        return sizes, rebuilt.reshape(w.shape)
    codebook = np.asarray(shared.codebook, np.float32)
    k = codebook.size
    if k + 1 > 1 << bits:
        raise ValueError(f"a codebook of {k} centroids plus zero does not fit {bits}-bit indices")
    table = np.concatenate([codebook, np.zeros(1, np.float32)])
    indices = np.asarray(shared.indices).ravel()
    symbols = np.where(pos >= 0, indices[np.maximum(pos, 0)], k)
    index_bytes = pack_bits(symbols, bits)
    decoded = table[unpack_bits(index_bytes, bits, len(symbols))]
    _check(expand(unpack_bits(gap_bytes, index_bits, len(symbols)), decoded, flat.size), flat, "shared")
    sizes["shared"] = len(gap_bytes) + len(index_bytes) + codebook.nbytes + 4
    coded_gaps, coded_symbols = huffman_encode(gaps.gaps, 1 << index_bits), huffman_encode(symbols, 1 << bits)
    decoded = table[huffman_decode(coded_symbols)]
    rebuilt = expand(huffman_decode(coded_gaps), decoded, flat.size)
    _check(rebuilt, flat, "huffman")
    sizes["huffman"] = coded_gaps.nbytes + coded_symbols.nbytes + codebook.nbytes + 4
    return sizes, rebuilt.reshape(w.shape)


def _check(rebuilt: np.ndarray, flat: np.ndarray, stage: str) -> None:
    if not np.array_equal(rebuilt, flat):
        raise AssertionError(f"the {stage} encoding did not decode to the same weights")


def size_report(params, shared=None, index_bits: int = 5, bits: int = 5, min_ndim: int = 2) -> dict:
    """Measure the per-layer and total bytes of `params` at each stage (see `encode_and_decode`)."""
    return encode_and_decode(params, shared, index_bits, bits, min_ndim)[0]


def encode_and_decode(params, shared=None, index_bits: int = 5, bits: int = 5, min_ndim: int = 2):
    """Encode `params` at each stage and decode the last stage's bytes again.

    The decoded tree (from Huffman, or sparse without `shared`) is for evaluating the model the
    compressed bytes hold.

    Args:
        params: the (pruned) weights as they will be used.
        shared: the same tree from `compress.share.share` (its reconstruction must equal
            `params`), or None to stop after the sparse stage.
        index_bits: the width of a gap.
        bits: the width of a codebook index.
        min_ndim: arrays with fewer dims are stored as float32.

    Returns:
        `(report, decoded)`: the per-layer and total bytes of `params` at each stage (see the
        module docstring), `{"layers": [{name, shape, weights, nonzero, <stage>: bytes}],
        "total": {<stage>: bytes}, "ratio": {<stage>: dense / stage}, "index_bits", "bits"}`,
        and the decoded parameter tree, float32 leaves of the shapes of `params`.

    Raises:
        ValueError: if `shared` does not have the structure of `params`, or a codebook does not
            fit `bits`-bit indices.
    """
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    shared_leaves = ([None] * len(flat) if shared is None else
                     jax.tree.leaves(shared, is_leaf=lambda x: isinstance(x, Shared)))
    if len(shared_leaves) != len(flat):
        raise ValueError("`shared` does not have the structure of `params`")
    stages = STAGES if shared is not None else STAGES[:2]
    layers, total, decoded = [], dict.fromkeys(stages, 0), []
    for (path, w), s in zip(flat, shared_leaves):
        w = np.asarray(w)
        name = "/".join(str(getattr(p, "key", p)) for p in path)
        row = {"name": name, "shape": list(w.shape), "weights": int(w.size), "nonzero": int(np.count_nonzero(w))}
        if w.ndim >= min_ndim:
            sizes, rebuilt = _encode_layer(w, s if isinstance(s, Shared) else None, index_bits, bits)
        else:  # biases and norms stay float32
            sizes, rebuilt = dict.fromkeys(stages, int(w.size) * 4), w.astype(np.float32)
        row.update(sizes)
        decoded.append(rebuilt)
        layers.append(row)
        for stage in stages:
            total[stage] += row[stage]
    report = {"layers": layers, "total": total, "ratio": {s: total["dense"] / total[s] for s in stages},
              "index_bits": index_bits, "bits": bits}
    return report, jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(params), decoded)


def markdown_table(report: dict) -> str:
    """Format the per-layer table of `size_report` in markdown (bytes per stage, density)."""
    stages = [s for s in STAGES if s in report["total"]]
    head = "| layer | shape | nonzero | " + " | ".join(f"{s} (B)" for s in stages) + " |\n"
    rows = [f"| {r['name']} | {'x'.join(map(str, r['shape']))} | {r['nonzero'] / max(r['weights'], 1):.1%} | "
            + " | ".join(f"{r[s]:,}" for s in stages) + " |" for r in report["layers"]]
    weights = sum(r["weights"] for r in report["layers"])
    nonzero = sum(r["nonzero"] for r in report["layers"])
    rows.append(f"| **total** | {weights:,} | {nonzero / weights:.1%} | "
                + " | ".join(f"**{report['total'][s]:,}**" for s in stages) + " |")
    rows.append("| **vs dense** | | | " + " | ".join(f"{report['ratio'][s]:.1f}x" for s in stages) + " |")
    return head + "|" + " --- |" * (3 + len(stages)) + "\n" + "\n".join(rows) + "\n"


__all__ = ["Huffman", "STAGES", "expand", "markdown_table", "relative_index", "size_report"]
