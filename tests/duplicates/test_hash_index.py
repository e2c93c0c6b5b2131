"""The multi-index over 64-bit hashes answers exactly what a scan of every hash answers."""

import numpy as np
import pytest

from duplicates.hash_index import HashIndex, scan_within


def random_hashes(rng, count: int) -> np.ndarray:
    high = rng.integers(0, 2 ** 32, count, dtype=np.uint64) << np.uint64(32)
    return high | rng.integers(0, 2 ** 32, count, dtype=np.uint64)


def near(rng, value: int, bits: int) -> int:
    for bit in rng.choice(64, size=bits, replace=False):
        value ^= 1 << int(bit)
    return value


@pytest.mark.parametrize("distance", [0, 3, 4, 7, 8, 12])
def test_the_multi_index_finds_exactly_what_a_scan_of_every_hash_finds(distance):
    rng = np.random.default_rng(distance)
    hashes = random_hashes(rng, 5000)
    queries = [int(value) for value in random_hashes(rng, 40)]
    # Each query has neighbours at every distance from 0 to 14 bits.
    planted = [near(rng, query, bits) for query in queries for bits in range(15)]
    hashes = np.concatenate([hashes, np.array(planted, dtype=np.uint64)])
    keys = np.arange(10_000, 10_000 + len(hashes))
    index = HashIndex(keys[:3000], hashes[:3000])
    for key, value in zip(keys[3000:], hashes[3000:]):  # the rest added one at a time
        index.add(int(key), int(value))

    for query in queries:
        found = sorted(index.within(query, distance))
        assert found == sorted(scan_within(keys, hashes, query, distance))
        assert len(found) >= distance + 1, "every planted neighbour that close is found"


def test_an_empty_index_finds_nothing():
    assert HashIndex().within(12345, 8) == []
