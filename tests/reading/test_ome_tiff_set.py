"""OME-TIFF sets of one file per channel whose TiffData omit PlaneCount (as LAS X Matrix
Screener writes them), complete and with files absent. Bio-Formats opens each of these;
tifffile alone refuses the file when the first file the XML names is absent."""

import uuid

import numpy as np
import pytest
import tifffile

from napari_lightmic import LightmicReadError, open_image


def name(c: int) -> str:
    return f"image--U00--V00--J00--E00--O00--X00--Y00--T0000--Z00--C{c:02d}.ome.tif"


def write_set(folder, size_z=1, size_c=2, plane_count=False):
    """One file per channel, each holding its Z planes; every file carries the whole XML."""
    ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(size_c)]
    rng = np.random.default_rng(3)
    data = rng.integers(1, 4000, (size_c, size_z, 48, 64), dtype=np.uint16)
    channels = "".join(f'<Channel ID="Channel:0:{c}" Name="ch{c}" SamplesPerPixel="1"/>'
                       for c in range(size_c))
    count = f' PlaneCount="{size_z}"' if plane_count else ""
    tiffdata = "".join(f'<TiffData FirstC="{c}"{count}><UUID FileName="{name(c)}">{ids[c]}'
                       f"</UUID></TiffData>" for c in range(size_c))
    for c in range(size_c):
        xml = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
               f'UUID="{ids[c]}">'
               '<Image ID="Image:0" Name="Well A1"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
               f'Type="uint16" SizeX="64" SizeY="48" SizeZ="{size_z}" SizeC="{size_c}" '
               'SizeT="1" PhysicalSizeX="0.5" PhysicalSizeY="0.5" PhysicalSizeZ="2">'
               f"{channels}{tiffdata}</Pixels></Image></OME>")
        with tifffile.TiffWriter(folder / name(c)) as tif:
            for z in range(size_z):
                tif.write(data[c, z], description=xml if z == 0 else None, metadata=None)
    return data


def test_complete_set(tmp_path):
    data = write_set(tmp_path)
    scene = open_image(tmp_path / name(1)).scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 2, 1, 48, 64)
    np.testing.assert_array_equal(np.asarray(scene.data[0, :, 0]), data[:, 0])
    assert scene.channel_names == ["ch0", "ch1"]
    assert scene.physical_pixel_sizes["X"] == 0.5


def test_first_file_absent_opens_with_its_planes_as_zeros(tmp_path):
    data = write_set(tmp_path)
    (tmp_path / name(0)).unlink()
    with pytest.raises(ValueError, match="NumPlanes or PlaneCount"):  # tifffile alone
        tifffile.TiffFile(tmp_path / name(1)).series  # noqa: B018
    source = open_image(tmp_path / name(1))
    scene = source.scenes[0]
    assert scene.shape == (1, 2, 1, 48, 64) and scene.name == "Well A1"
    pixels = np.asarray(scene.data[0, :, 0])
    assert not pixels[0].any()
    np.testing.assert_array_equal(pixels[1], data[1, 0])
    assert any("1 of 2 planes" in n and name(0) in n for n in scene.notes), scene.notes
    source.close()


def test_planes_without_plane_count_cover_up_to_the_next_tiffdata(tmp_path):
    data = write_set(tmp_path, size_z=3, size_c=3)
    (tmp_path / name(0)).unlink()
    scene = open_image(tmp_path / name(2)).scenes[0]
    assert scene.shape == (1, 3, 3, 48, 64)
    pixels = np.asarray(scene.data[0])
    assert not pixels[0].any()
    np.testing.assert_array_equal(pixels[1:], data[1:])
    assert any("up to the next TiffData" in n for n in scene.notes)
    assert any("3 of 9 planes" in n for n in scene.notes)


def test_a_later_file_absent_is_said(tmp_path):
    data = write_set(tmp_path)
    (tmp_path / name(1)).unlink()
    scene = open_image(tmp_path / name(0)).scenes[0]
    pixels = np.asarray(scene.data[0, :, 0])
    np.testing.assert_array_equal(pixels[0], data[0, 0])
    assert not pixels[1].any()
    assert any("absent" in n for n in scene.notes), scene.notes


def test_set_converts_and_reads_the_same(tmp_path):
    from napari_lightmic.writing import write

    data = write_set(tmp_path, size_z=2)
    (tmp_path / name(0)).unlink()
    source = open_image(tmp_path / name(1))
    out = write(source, tmp_path / "out.ome.zarr")
    back = np.asarray(open_image(out).scenes[0].data)
    np.testing.assert_array_equal(back[0, 1], data[1])
    assert not back[0, 0].any()


def test_a_plane_of_the_wrong_size_is_an_error_naming_the_file(tmp_path):
    write_set(tmp_path)
    (tmp_path / name(0)).unlink()
    tifffile.imwrite(tmp_path / name(0), np.zeros((10, 10), np.uint16))
    scene = open_image(tmp_path / name(1)).scenes[0]
    with pytest.raises(ValueError, match=name(0)):
        np.asarray(scene.data[0, 0, 0])


def test_a_set_that_describes_no_image_is_refused(tmp_path):
    xml = ('<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/'
           '2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
           'Type="uint16" SizeX="64" SizeY="48" SizeZ="1" SizeC="2" SizeT="1">'
           '<TiffData FirstC="0"><UUID FileName="gone.ome.tif">urn:uuid:1</UUID></TiffData>'
           '<TiffData FirstC="1"><UUID FileName="gone2.ome.tif">urn:uuid:2</UUID></TiffData>'
           '</Pixels></Image></OME>')
    tifffile.imwrite(tmp_path / "x.ome.tif", np.zeros((48, 64), np.uint16), description=xml,
                     metadata=None)
    scene = open_image(tmp_path / "x.ome.tif").scenes[0]
    assert any("2 of 2 planes" in n for n in scene.notes)
    with pytest.raises(LightmicReadError, match="pixel type"):
        tifffile.imwrite(tmp_path / "y.ome.tif", np.zeros((48, 64), np.uint16),
                         description=xml.replace('"uint16"', '"uint17"'), metadata=None)
        open_image(tmp_path / "y.ome.tif")
