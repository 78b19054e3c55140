"""Bit packing and canonical Huffman coding of small-integer streams (numpy, host side).

Deep Compression (Han et al. 2016, section 4) Huffman-codes the two streams a pruned, shared
layer leaves: the codebook indices of the surviving weights and the gaps between their
positions. Both are skewed, so variable-length codes beat their fixed widths by 20-30%.

Codes are canonical: only the code length of each symbol is stored (one byte per symbol of
the alphabet), and codes are assigned in (length, symbol) order, which both sides can rebuild.
"""

import heapq
from typing import NamedTuple

import numpy as np


def pack_bits(values, width: int) -> bytes:
    """Pack unsigned integers `values: (n,)`, each in `width` bits, big-endian, into bytes.

    Raises:
        ValueError: if a value lies outside `[0, 2^width)`.
    """
    values = np.asarray(values, np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= 1 << width):
        raise ValueError(f"values must lie in [0, 2**{width}); got [{values.min()}, {values.max()}]")
    shifts = np.arange(width - 1, -1, -1)
    return np.packbits(((values[:, None] >> shifts) & 1).astype(np.uint8).ravel()).tobytes()


def unpack_bits(data: bytes, width: int, n: int) -> np.ndarray:
    """Unpack the `n` integers that `pack_bits(values, width)` packed into `data`, as `(n,)` int64."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8))[:n * width].reshape(n, width).astype(np.int64)
    return bits @ (1 << np.arange(width - 1, -1, -1))


def code_lengths(counts) -> np.ndarray:
    """Compute the Huffman code length of every symbol `0..len(counts)-1` from its count.

    Unused symbols get 0; a lone used symbol gets length 1.

    Returns:
        `(len(counts),)` int64 lengths.
    """
    counts = np.asarray(counts)
    used = [int(s) for s in np.flatnonzero(counts)]
    lengths = np.zeros(len(counts), np.int64)
    if len(used) == 1:
        lengths[used[0]] = 1
    # Heap of (weight, tie-breaker, symbols under this node); merging adds one bit to each.
    heap = [(int(counts[s]), s, [s]) for s in used]
    heapq.heapify(heap)
    while len(heap) > 1:
        w1, t1, s1 = heapq.heappop(heap)
        w2, t2, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (w1 + w2, min(t1, t2), s1 + s2))
    return lengths


def canonical_codes(lengths) -> np.ndarray:
    """Assign the canonical integer code of every symbol.

    Symbols sorted by (length, symbol) get consecutive codes, shifted left whenever the length grows.

    Returns:
        `(len(lengths),)` int64 codes.
    """
    lengths = np.asarray(lengths)
    codes = np.zeros(len(lengths), np.int64)
    code, previous = 0, 0
    for s in sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[s]) - previous
        codes[s], previous = code, int(lengths[s])
        code += 1
    return codes


class Huffman(NamedTuple):
    """A Huffman-coded stream.

    Attributes:
        lengths: `(alphabet,)` uint8 code lengths.
        data: the packed bits.
        n: the number of symbols.
    """

    lengths: np.ndarray
    data: bytes
    n: int

    @property
    def nbytes(self) -> int:
        """Stored size: the bit stream, one byte per code length, four for the count."""
        return len(self.data) + len(self.lengths) + 4


def huffman_encode(symbols, alphabet: int) -> Huffman:
    """Encode integers `symbols: (n,)` in `[0, alphabet)` by canonical Huffman coding.

    Raises:
        ValueError: if a symbol lies outside `[0, alphabet)`.
    """
    symbols = np.asarray(symbols, np.int64).ravel()
    if symbols.size and (symbols.min() < 0 or symbols.max() >= alphabet):
        raise ValueError(f"symbols must lie in [0, {alphabet}); got [{symbols.min()}, {symbols.max()}]")
    lengths = code_lengths(np.bincount(symbols, minlength=alphabet))
    codes = canonical_codes(lengths)
    n_bits = lengths[symbols]
    owner = np.repeat(np.arange(symbols.size), n_bits)              # symbol each output bit belongs to
    offset = np.arange(owner.size) - np.repeat(np.cumsum(n_bits) - n_bits, n_bits)
    bits = (codes[symbols][owner] >> (n_bits[owner] - 1 - offset)) & 1
    return Huffman(lengths.astype(np.uint8), np.packbits(bits.astype(np.uint8)).tobytes(), int(symbols.size))


def huffman_decode(coded: Huffman) -> np.ndarray:
    """Decode the symbols of a `Huffman` stream, by walking the canonical code table.

    Returns:
        `(n,)` int64 symbols.

    Raises:
        ValueError: if the stream ends before `n` symbols.
    """
    lengths = coded.lengths.astype(np.int64)
    codes = canonical_codes(lengths)
    table = {(int(lengths[s]), int(codes[s])): int(s) for s in np.flatnonzero(lengths)}
    bits = np.unpackbits(np.frombuffer(coded.data, np.uint8)).tolist()
    out, code, length = [], 0, 0
    for bit in bits:
        if len(out) == coded.n:
            break
        code, length = (code << 1) | bit, length + 1
        symbol = table.get((length, code))
        if symbol is not None:
            out.append(symbol)
            code, length = 0, 0
    if len(out) != coded.n:
        raise ValueError(f"Huffman stream ended after {len(out)} of {coded.n} symbols")
    return np.asarray(out, np.int64)
