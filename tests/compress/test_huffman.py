"""Huffman coding and bit packing: known code lengths, the prefix property, the entropy bound,
and exact round trips."""

import numpy as np
import pytest

from compress.huffman import (canonical_codes, code_lengths, huffman_decode, huffman_encode, pack_bits,
                              unpack_bits)


def test_pack_bits_round_trips_and_rejects_values_that_do_not_fit():
    values = np.array([0, 31, 7, 16, 1])
    data = pack_bits(values, 5)
    assert len(data) == 4  # 25 bits
    np.testing.assert_array_equal(unpack_bits(data, 5, 5), values)
    with pytest.raises(ValueError, match="2\\*\\*5"):
        pack_bits([32], 5)


def test_code_lengths_of_a_textbook_example_and_canonical_codes_are_prefix_free():
    # Counts 45, 13, 12, 16, 9, 5 (CLRS, figure 16.5): lengths 1, 3, 3, 3, 4, 4.
    lengths = code_lengths([45, 13, 12, 16, 9, 5])
    np.testing.assert_array_equal(lengths, [1, 3, 3, 3, 4, 4])
    codes = canonical_codes(lengths)
    words = [format(int(c), f"0{int(n)}b") for c, n in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    assert code_lengths([0, 7, 0])[1] == 1  # a lone symbol still takes one bit


def test_huffman_round_trip_and_size_within_one_bit_of_the_entropy():
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.02])
    symbols = rng.choice(len(p), size=5000, p=p)
    coded = huffman_encode(symbols, alphabet=8)
    np.testing.assert_array_equal(huffman_decode(coded), symbols)
    freq = np.bincount(symbols, minlength=8) / symbols.size
    entropy = -sum(f * np.log2(f) for f in freq if f > 0)
    bits_per_symbol = len(coded.data) * 8 / symbols.size
    assert entropy <= bits_per_symbol <= entropy + 1 + 8 / symbols.size
    assert bits_per_symbol < 3  # the fixed-width code needs 3 bits
    with pytest.raises(ValueError, match="\\[0, 8\\)"):
        huffman_encode([8], alphabet=8)


def _optimal_cost_by_search(counts, longest=6):
    """The least total bits `sum c_i l_i` over every length vector (1..longest per used symbol) that satisfies
    Kraft's inequality `sum 2^-l_i <= 1`: the cost of an optimal prefix code, by exhaustive search."""
    used = np.asarray([c for c in counts if c > 0], np.float64)
    grids = np.stack(np.meshgrid(*[np.arange(1, longest + 1)] * len(used), indexing="ij"), -1).reshape(-1, len(used))
    feasible = (2.0 ** -grids).sum(1) <= 1
    return (grids[feasible] @ used).min()


@pytest.mark.parametrize("counts", [[45, 13, 12, 16, 9, 5], [1, 1, 1, 1], [10, 0, 1, 2, 0, 3, 30], [5, 5, 1, 1, 1]])
def test_code_lengths_are_optimal_against_an_exhaustive_search_of_prefix_codes(counts):
    lengths = code_lengths(counts)
    assert np.all((lengths > 0) == (np.asarray(counts) > 0))
    assert (2.0 ** -lengths[lengths > 0]).sum() <= 1  # a prefix code exists (Kraft)
    assert lengths @ np.asarray(counts) == _optimal_cost_by_search(counts)


def test_canonical_codes_and_the_bit_stream_of_a_hand_example():
    """DEFLATE's canonical codes for lengths (1, 3, 3, 3, 4, 4): 0, 100, 101, 110, 1110, 1111. Symbols 0, 0, 1, 5
    force lengths 1, 2, 2, so codes 0, 10, 11 and the bits 0 0 10 11 (padded: 0x2C); stored size 1 byte of bits,
    one length byte per symbol of the alphabet and 4 for the count."""
    np.testing.assert_array_equal(canonical_codes([1, 3, 3, 3, 4, 4]), [0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111])
    counts = [45, 13, 12, 16, 9, 5]
    symbols = np.repeat(np.arange(6), counts)
    coded = huffman_encode(symbols, alphabet=6)
    np.testing.assert_array_equal(coded.lengths, [1, 3, 3, 3, 4, 4])
    assert len(coded.data) == -(-(45 + 3 * (13 + 12 + 16) + 4 * (9 + 5)) // 8)  # 224 bits
    hand = huffman_encode(np.array([0, 0, 1, 5]), alphabet=6)
    assert hand.data == bytes([0b00101100]) and hand.nbytes == 1 + 6 + 4
    padded = huffman_encode(np.array([0, 0, 1, 5]), alphabet=9)  # unused symbols still take a length byte
    assert len(padded.lengths) == 9 and padded.nbytes == 1 + 9 + 4
    np.testing.assert_array_equal(huffman_decode(padded), [0, 0, 1, 5])
