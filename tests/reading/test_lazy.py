import numpy as np
import psutil
import tifffile

from napari_lightmic import open_image


def test_open_reads_metadata_only_and_a_plane_reads_one_plane(tmp_path):
    path = tmp_path / "stack.ome.tif"
    planes = (np.full((1024, 1024), i, np.uint16) for i in range(64))
    tifffile.imwrite(path, planes, shape=(64, 1024, 1024), dtype=np.uint16, ome=True,
                     metadata={"axes": "ZYX"})
    # read_chars counts the modules a first open and read import: have them imported
    warm = tmp_path / "warm.ome.tif"
    tifffile.imwrite(warm, np.zeros((2, 8, 8), np.uint16), ome=True, metadata={"axes": "ZYX"})
    with open_image(warm) as source:
        np.asarray(source.scenes[0].data[0, 0, 1])
    io = psutil.Process().io_counters
    before = io().read_chars
    with open_image(path) as source:
        scene = source.scenes[0]
        opened = io().read_chars - before
        assert scene.shape == (1, 1, 64, 1024, 1024)
        assert opened < 2 * 2**20, f"{opened} bytes read to open a 128 MiB file"
        before = io().read_chars
        plane = np.asarray(scene.data[0, 0, 40])
        one_plane = io().read_chars - before
    assert (plane == 40).all()
    assert one_plane < 3 * 2**20, f"{one_plane} bytes read for one 2 MiB plane"
