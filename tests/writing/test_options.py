"""The choices of a write: checked once, when made; each target's compression."""

import dataclasses

import numpy as np
import pytest
import tifffile

from napari_lightmic import open_image
from napari_lightmic.writing import Converted, WriteError, WriteOptions, convert, write


def test_defaults_and_each_targets_compression():
    options = WriteOptions()
    assert (options.ngff_version, options.pyramid_levels, options.shard,
            options.overwrite) == ("0.5", None, False, False)
    assert options.compression_for("OME-Zarr") == "zstd"
    assert options.compression_for("OME-TIFF") == "zlib"
    assert WriteOptions(compression="none").compression_for("OME-TIFF") == "none"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.overwrite = True  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, message", [
    ({"ngff_version": "0.3"}, "NGFF version 0.3 is not written"),
    ({"compression": "jpeg"}, "compression 'jpeg' is not one of"),
    ({"pyramid_levels": 0}, "pyramid levels must be at least 1"),
    ({"shard": True, "ngff_version": "0.4"}, "sharding needs NGFF 0.5"),
])
def test_refused_choices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WriteOptions(**kwargs)


@pytest.mark.parametrize("compression, kind", [("lz4", "OME-TIFF"), ("lzw", "OME-Zarr")])
def test_a_compression_the_target_does_not_take(compression, kind):
    with pytest.raises(ValueError, match=f"compression '{compression}' is not one of"):
        WriteOptions(compression=compression).compression_for(kind)


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "in.ome.tif"
    tifffile.imwrite(path, np.zeros((2, 32, 32), np.uint16), ome=True, metadata={"axes": "CYX"})
    return path


def test_write_names_the_target_for_a_refused_compression(small, tmp_path):
    with pytest.raises(WriteError, match=r"out\.ome\.tif: compression 'lz4'"):
        write(open_image(small), tmp_path / "out.ome.tif", 0, WriteOptions(compression="lz4"))


def test_convert_says_what_it_wrote(small, tmp_path):
    done = convert(small, tmp_path / "out.ome.zarr", options=WriteOptions(pyramid_levels=1))
    assert isinstance(done, Converted)
    assert done.path == tmp_path / "out.ome.zarr" and done.path.is_dir()
    assert len(done.scenes) == 1 and isinstance(done.scenes[0][1], tuple)
    assert done.seconds > 0


def test_validate_says_what_it_checks(tmp_path):
    """validate() of a vendor file names what validate accepts, not an output's endings."""
    from napari_lightmic.errors import WriteError
    from napari_lightmic.writing.validate import validate

    lsm = tmp_path / "test.lsm"
    lsm.write_bytes(b"")
    with pytest.raises(WriteError, match="validate checks an OME-Zarr folder") as err:
        validate(lsm)
    assert "output" not in str(err.value)
