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
