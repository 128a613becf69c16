"""OME-TIFF tiles: TIFF's predictor computed in one pass, into the encoder's own buffer."""

import numpy as np
import pytest


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "uint32", "int32"])
def test_the_predictor_differences_a_view_into_one_reused_buffer(dtype):
    """TIFF's horizontal differencing (wrapping around) of a tile that is a view into the band
    read, written straight into the encoding thread's own buffer: no copy of the tile, no new
    array per tile."""
    import imagecodecs

    from napari_lightmic.writing.ome_tiff import _predicted

    info = np.iinfo(dtype)
    band = np.random.default_rng(1).integers(info.min, info.max, (600, 1100), dtype=dtype,
                                             endpoint=True)
    first, second = band[:512, :512], band[:512, 512:1024]
    assert not first.flags.c_contiguous
    got = _predicted(first)
    np.testing.assert_array_equal(got, imagecodecs.delta_encode(first, axis=-1))
    np.testing.assert_array_equal(imagecodecs.delta_decode(got.copy(), axis=-1), first)
    again = _predicted(second)
    assert again is got  # the same buffer, reused
    np.testing.assert_array_equal(again, imagecodecs.delta_encode(second, axis=-1))
