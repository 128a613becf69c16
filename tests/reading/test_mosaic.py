import numpy as np

from napari_lightmic.reading.mosaic import TileMosaic
from napari_lightmic.scene.axes import ChunkOrigin


class CountingTiles:
    """Tile stack that records which tiles were read."""

    def __init__(self, array):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key[0])
        return self.array[key]


def test_tiles_land_at_their_offsets_with_overlap():
    tiles = np.stack([np.full((2, 10, 10), i + 1, np.uint16) for i in range(4)])
    # A 2x2 grid of 10 px tiles overlapping by 3 px, as stage positions record it.
    offsets = [(100, 200), (100, 207), (107, 200), (107, 207)]
    mosaic = TileMosaic(tiles, offsets)
    assert mosaic.shape == (2, 17, 17)
    out = np.asarray(mosaic.pixels(ChunkOrigin("mosaic", "ZYX")))
    assert out[0, 0, 0] == 1 and out[1, 0, 16] == 2 and out[0, 16, 0] == 3
    assert out[0, 8, 8] == 4  # the overlap shows the last tile drawn


def test_a_region_reads_only_the_tiles_it_covers():
    tiles = CountingTiles(np.zeros((9, 1, 64, 64), np.uint8))
    offsets = [(64 * (i // 3), 64 * (i % 3)) for i in range(9)]
    mosaic = TileMosaic(tiles, offsets)
    mosaic[0, 10:20, 10:20]
    assert tiles.read == {0}
    mosaic[0, 60:70, 60:70]
    assert tiles.read == {0, 1, 3, 4}


def test_rgb_tiles_keep_their_samples():
    tiles = np.zeros((2, 1, 10, 12, 3), np.uint8)
    tiles[1, ..., 2] = 200
    mosaic = TileMosaic(tiles, [(0, 0), (0, 12)], samples=True)
    assert mosaic.shape == (1, 10, 24, 3)
    out = np.asarray(mosaic.pixels(ChunkOrigin("mosaic", "ZYXS")))
    assert out[0, 5, 20].tolist() == [0, 0, 200] and out[0, 5, 2].tolist() == [0, 0, 0]
