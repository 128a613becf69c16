"""A file damaged where its pixels are, in napari (issue 14, item 1).

The file opens; moving the Z slider through the damaged plane shows what could be read (the
chunk that fails as zeros), and one error notification names the file and the plane — not a
traceback, not a dialog, not one per redraw.
"""

import numpy as np

from tests.reading.test_read_errors import deflate_tiled_ome_tiff, ome_zarr_zstd_chunk

PLUGIN = "napari-lightmic"


def _said(notifications, path):
    return [n for n in notifications if "cannot be decoded" in str(n.message)
            and str(path) in str(n.message)]


def test_scrolling_through_a_damaged_plane_says_so_once(make_napari_viewer, notifications,
                                                         tmp_path, qtbot):
    path, _ = deflate_tiled_ome_tiff(tmp_path)  # Z=2: one of its deflate tiles zeroed
    viewer = make_napari_viewer()
    [layer] = viewer.open(path, plugin=PLUGIN)
    z = list(layer.axis_labels).index("Z")
    for _ in range(2):  # there and back, twice: every plane redrawn
        for step in [0, 1, 2, 3, 2, 1, 0]:
            viewer.dims.set_current_step(z, step)
            qtbot.wait_until(lambda: layer.loaded)
            shown = np.asarray(layer._slice.image.raw)
            assert shown.shape == (128, 128)
            if step == 2:
                assert not shown.any()  # the damaged plane's chunk (a page: read whole)
            else:
                assert np.count_nonzero(shown) >= shown.size - 1  # (one pixel's value is 0)
    said = _said(notifications, path)
    assert len(said) == 1, [str(n.message) for n in notifications]
    assert "plane T=0, C=0, Z=2" in str(said[0].message)
    assert str(said[0].severity) == "error"


def test_each_damaged_plane_of_a_channel_is_said_once(make_napari_viewer, notifications,
                                                       tmp_path, qtbot):
    path, _ = ome_zarr_zstd_chunk(tmp_path)  # C=1, Z=2 garbled
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    assert len(layers) == 2
    z = list(layers[0].axis_labels).index("Z")
    for step in [0, 1, 2, 1, 2, 0, 2]:
        viewer.dims.set_current_step(z, step)
        qtbot.wait_until(lambda: all(layer.loaded for layer in layers))
    assert not np.asarray(layers[1]._slice.image.raw).any()
    assert np.asarray(layers[0]._slice.image.raw).any()
    said = _said(notifications, path)
    assert [s for n in said for s in ["plane T=0, C=1, Z=2"] if s in str(n.message)] == \
        ["plane T=0, C=1, Z=2"]
    assert len(said) == 1
