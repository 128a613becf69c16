"""One error base for reading, writing and sidecars: the path and the cause, one line."""

import pytest

from napari_lightmic import LightmicError, LightmicReadError, SidecarError, WriteError, open_image
from napari_lightmic.writing import write


@pytest.mark.parametrize("kind", [LightmicReadError, WriteError, SidecarError])
def test_every_error_names_path_and_cause(kind):
    err = kind("/data/a.czi", "is truncated")
    assert isinstance(err, LightmicError)
    assert (err.path, err.cause, str(err)) == ("/data/a.czi", "is truncated",
                                               "/data/a.czi: is truncated")


def test_raised_errors_share_the_base(tmp_path):
    with pytest.raises(LightmicError, match="no such file"):
        open_image(tmp_path / "missing.czi")
    import numpy as np
    import tifffile

    tifffile.imwrite(tmp_path / "a.ome.tif", np.zeros((8, 8), np.uint8), ome=True)
    with pytest.raises(LightmicError, match="must end in"):
        write(open_image(tmp_path / "a.ome.tif"), tmp_path / "out.png")
