import numpy as np
import pytest
import tifffile

from napari_lightmic import open_image
from napari_lightmic.synthetic import write_ome_tiff
from tests.conftest import TESTDATA


@pytest.mark.parametrize("which", ["000_000", "001_001"])
def test_micromanager_opens_whole_dataset_through_any_file(micromanager_dataset, which, opened):
    source = opened(micromanager_dataset / f"1.4compatTest_3_MMStack_1-Pos_{which}.ome.tif")
    assert len(source.scenes) == 4
    first = source.scenes[0]
    assert first.sizes == {"T": 2, "C": 2, "Z": 2, "Y": 64, "X": 64}
    assert first.channel_names == ["Cy5", "DAPI"]
    assert first.physical_pixel_sizes == pytest.approx({"Z": 5.0, "Y": 1.0, "X": 1.0})
    assert first.channels[0].contrast_limits == (1766.0, 14616.0)
    assert [s.name for s in source.scenes] == [
        "1-Pos_000_000", "1-Pos_001_000", "1-Pos_001_001", "1-Pos_000_001"]
    assert source.scenes[1].stage_position == {"Y": -32.0, "X": 32.0}
    # Each position's pixels are those stored in that position's own file.
    for scene in source.scenes:
        file = micromanager_dataset / f"1.4compatTest_3_MMStack_{scene.name}.ome.tif"
        with tifffile.TiffFile(file) as tif:
            np.testing.assert_array_equal(np.asarray(scene.data[0, 0, 0]), tif.pages[0].asarray())


def test_ome_tiff_roundtrip_of_names_colours_sizes(tmp_path, opened):
    data = np.random.default_rng(0).integers(0, 4000, (3, 4, 100, 120), dtype=np.uint16)
    path = write_ome_tiff(tmp_path / "cells.ome.tif", data, axes="CZYX",
                          physical=(0.8, 0.1, 0.1))
    scene = opened(path).scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 3, 4, 100, 120)
    assert scene.channel_names == ["DAPI", "GFP", "mCherry"]
    assert scene.channel_colors == ["#0000FF", "#00FF00", "#FF00FF"]
    assert scene.physical_pixel_sizes == pytest.approx({"Z": 0.8, "Y": 0.1, "X": 0.1})
    np.testing.assert_array_equal(np.asarray(scene.data[0, 2, 3]), data[2, 3])


def test_ome_tiff_chunks_are_single_planes(tmp_path, opened):
    data = np.zeros((2, 8, 64, 64), np.uint16)
    path = write_ome_tiff(tmp_path / "stack.ome.tif", data, axes="CZYX")
    scene = opened(path).scenes[0]
    assert scene.data.chunksize[-3:] == (1, 64, 64)


def test_imagej_composite_luts_become_channel_colours(tmp_path, opened):
    data = np.random.default_rng(0).integers(0, 255, (2, 32, 32), dtype=np.uint8)
    red = np.zeros((3, 256), np.uint8)
    red[0] = np.arange(256)
    cyan = np.zeros((3, 256), np.uint8)
    cyan[1] = cyan[2] = np.arange(256)
    path = tmp_path / "composite.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
                     metadata={"axes": "CYX", "mode": "composite", "unit": "micron",
                               "LUTs": [red, cyan], "Ranges": (0.0, 100.0, 5.0, 200.0)})
    scene = opened(path).scenes[0]
    assert scene.channel_colors == ["#FF0000", "#00FFFF"]
    assert [c.contrast_limits for c in scene.channels] == [(0.0, 100.0), (5.0, 200.0)]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.5)
    assert scene.units["X"] == "µm"


def test_lsm_keeps_pixel_size_and_channel_and_drops_thumbnail(opened):
    path = TESTDATA / "lsm" / "test.lsm"
    if not path.exists():
        pytest.skip("shared LSM file not found")
    source = opened(path)
    assert len(source.scenes) == 1
    scene = source.scenes[0]
    assert scene.channel_names == ["ChS1"]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.6918881841365326)


def test_subifd_pyramid_levels_are_read(tmp_path, opened):
    path = tmp_path / "pyramid.ome.tif"
    base = np.random.default_rng(0).integers(0, 1000, (2, 512, 512), dtype=np.uint16)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(base, subifds=2, tile=(128, 128), metadata={"axes": "CYX"})
        tif.write(base[:, ::2, ::2], subfiletype=1, tile=(128, 128))
        tif.write(base[:, ::4, ::4], subfiletype=1, tile=(128, 128))
    scene = opened(path).scenes[0]
    assert [level.shape[-2:] for level in scene.levels] == [(512, 512), (256, 256), (128, 128)]
    np.testing.assert_array_equal(np.asarray(scene.pyramid[1][0, 1, 0]), base[1, ::4, ::4])
    assert scene.data.chunksize[-2:] == (512, 512)  # a moderate page is read whole


def test_large_pages_are_read_tile_by_tile(tmp_path, monkeypatch, opened):
    from napari_lightmic.reading import tiff

    monkeypatch.setattr(tiff, "WHOLE_PAGE_SIDE", 256)
    data = np.random.default_rng(0).integers(0, 1000, (2, 512, 512), dtype=np.uint16)
    path = tmp_path / "tiled.ome.tif"
    tifffile.imwrite(path, data, ome=True, tile=(128, 128), metadata={"axes": "CYX"})
    scene = opened(path).scenes[0]
    assert scene.data.chunksize[-2:] == (128, 128)
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 0, 100:300, 50:70]),
                                  data[1, 100:300, 50:70])


def test_ome_xml_breaking_the_schema_is_read_leniently(tmp_path, opened):
    path = tmp_path / "sloppy.ome.tif"
    tifffile.imwrite(path, np.ones((2, 16, 16), np.uint16), ome=True,
                     metadata={"axes": "CYX", "PhysicalSizeX": 0, "PhysicalSizeY": 0.5,
                               "PhysicalSizeYUnit": "um", "Channel": {"Name": ["a", "b"]}})
    scene = opened(path).scenes[0]
    assert scene.channel_names == ["a", "b"]
    assert scene.physical_pixel_sizes["X"] is None  # 0 is no size
    assert scene.physical_pixel_sizes["Y"] == 0.5  # a unit spelled "um" is still µm
    assert list(scene.notes) == ["The OME-XML gives values that cannot be read, taken as unknown: "
                                 'PhysicalSizeX="0".']


@pytest.mark.parametrize("name", ["grey-alpha.png", "two-samples.tif"])
def test_samples_that_are_not_rgb_become_channels(tmp_path, name, opened):
    from PIL import Image

    data = np.zeros((20, 30, 2), np.uint8)
    data[..., 1] = 255
    path = tmp_path / name
    if name.endswith(".png"):
        Image.fromarray(data, mode="LA").save(path)
    else:
        tifffile.imwrite(path, data, photometric="minisblack", extrasamples=[0])
    scene = opened(path).scenes[0]
    assert scene.dims == "TCZYX" and scene.sizes["C"] == 2 and not scene.rgb
    assert np.asarray(scene.data[0, 1, 0]).min() == 255


def test_large_planes_without_a_pyramid_get_lazy_levels(tmp_path, monkeypatch, opened):
    from napari_lightmic import pyramid

    monkeypatch.setattr(pyramid, "SHOWN_ABOVE", 256)
    monkeypatch.setattr(pyramid, "SHOWN_SMALLEST", 64)
    data = np.arange(2 * 512 * 512, dtype=np.uint16).reshape(2, 512, 512)
    path = write_ome_tiff(tmp_path / "flat.ome.tif", data, axes="CYX")
    scene = opened(path).scenes[0]
    assert [level.shape[-2:] for level in scene.levels] == [(512, 512), (256, 256), (128, 128),
                                                            (64, 64)]
    np.testing.assert_array_equal(np.asarray(scene.pyramid[1][0, 1, 0]), data[1, ::4, ::4])


def test_planes_read_from_many_threads_are_right(tmp_path, opened):
    """napari and the writers read chunks from several threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    data = np.random.default_rng(0).integers(0, 4000, (3, 5, 300, 350), dtype=np.uint16)
    scene = opened(write_ome_tiff(tmp_path / "t.ome.tif", data)).scenes[0]
    planes = [(c, z) for c in range(3) for z in range(5)] * 4
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda cz: np.asarray(
            scene.data[0, cz[0], cz[1]].compute(scheduler="synchronous")), planes))
    for (c, z), plane in zip(planes, got):
        np.testing.assert_array_equal(plane, data[c, z])


def test_micromanager_dataset_converts_the_same_every_time(micromanager_dataset, tmp_path):
    """Its pages live in four files, all held open while the source is: parallel writers
    read them at once."""
    import zarr

    from napari_lightmic.writing import write

    path = micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
    with open_image(path) as source:
        expected = [np.asarray(scene.data) for scene in source.scenes]
    for run in range(3):
        with open_image(path) as source:
            out = write(source, tmp_path / f"run{run}.ome.zarr", scene="all")
        for i, data in enumerate(expected):
            back = np.asarray(zarr.open_group(str(out), mode="r")[f"{i}/0"][:])
            assert back.size == data.size and np.array_equal(back.ravel(), data.ravel())


# tifffile's warning is the error; files other tests leave to the garbage collector are not
# (the command below checks for unclosed files at exit)
@pytest.mark.filterwarnings("error:.*reading array from closed file:UserWarning")
def test_micromanager_files_stay_open_with_the_source_and_close_with_it(micromanager_dataset,
                                                                        tmp_path, opened):
    """tifffile closes a dataset's other files once parsed and would reopen one per page
    ('reading array from closed file'); the source holds them open and closes them all."""
    import subprocess
    import sys

    from napari_lightmic.writing import write

    path = micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
    source = opened(path)
    handles = [held.file for held in source.handles]
    assert len({h.filehandle.path for h in handles}) == 4
    assert not any(h.filehandle.closed for h in handles)
    for scene in source.scenes:
        assert np.asarray(scene.data).any()
    write(source, tmp_path / "all.ome.zarr", scene="all")
    source.close()
    assert all(h.filehandle.closed for h in handles)
    # the command, with every warning an error and unclosed files reported
    done = subprocess.run([sys.executable, "-X", "dev", "-W", "error::UserWarning",
                           "-W", "error::ResourceWarning", "-m", "napari_lightmic",
                           "convert", str(path), str(tmp_path / "cli.ome.zarr")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 scenes" in done.stderr
    assert "Warning" not in done.stderr and "closed file" not in done.stderr, done.stderr


def test_datasets_of_many_files_are_not_all_held_open(micromanager_dataset, monkeypatch):
    """Past MAX_HELD files (plates of one file per well) the files are reopened page by
    page, one page at a time, so no limit of open files is reached."""
    from concurrent.futures import ThreadPoolExecutor

    from napari_lightmic.reading import tiff

    path = micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
    with open_image(path) as source:
        expected = [np.asarray(scene.data) for scene in source.scenes]
    monkeypatch.setattr(tiff, "MAX_HELD", 2)
    with open_image(path) as source:
        assert len(source.handles) == 1
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda s: np.asarray(s.data), source.scenes * 2))
    for a, b in zip(got, expected * 2):
        np.testing.assert_array_equal(a, b)


def test_ome_xml_of_the_current_schema_is_read_as_the_schema_says():
    # read without ome-types: what its model gave, including where the document is odd
    from napari_lightmic.reading.ome_xml import ome_images, time_step_of

    # a huge SizeT whose planes hold two time points: no step, at once (not a set of every
    # index SizeT declares)
    planes = [(0, 0, 0, 0.0, "s"), (1, 0, 0, 1.0, "s")]
    assert time_step_of(2_000_000_000, None, "s", planes) == (None, None, None)
    ns = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
    xml = f"""<OME xmlns="{ns}">
      <Image ID="Image:0" Name="a"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8"
        SizeX="2" SizeY="2" SizeZ="1" SizeC="1" SizeT="3" TimeIncrement="0">
        <Channel ID="Channel:0:0"/><MetadataOnly/></Pixels></Image>
      <StructuredAnnotations><XMLAnnotation ID="Annotation:0"><Value>
        <Image ID="Image:9"><Pixels ID="Pixels:9" SizeT="2"/></Image>
      </Value></XMLAnnotation></StructuredAnnotations>
    </OME>"""
    _, infos = ome_images(xml)
    assert len(infos) == 1  # the Image inside an annotation's value is no image
    [info] = infos
    # TimeIncrement 0 is a number the schema allows: kept (and shown as no step), not unread
    assert info["sizes"]["T"] == (0.0, "s") and info["t_note"] is None and info["unread"] == []
    assert info["channels"][0]["rgb"] == (255, 255, 255)  # no Color: the schema's white


@pytest.mark.parametrize("samples", [None, 3])
def test_whole_planes_are_decoded_into_the_block_read(tmp_path, monkeypatch, samples):
    """A read of whole planes decodes each page straight into its place in the block (tifffile's
    `out`): no plane-sized copy per page; a part of a plane is cut from the page as before."""
    import tifffile

    from napari_lightmic.reading import tiff

    shape = (2, 3, 40, 56) + ((samples,) if samples else ())
    data = np.random.default_rng(2).integers(0, 255, shape, dtype=np.uint8)
    path = tmp_path / "planes.ome.tif"
    tifffile.imwrite(path, data, ome=True, tile=(16, 16), photometric="rgb" if samples
                     else "minisblack", metadata={"axes": "ZCYXS" if samples else "ZCYX"})
    outs = []
    real = tiff._read_page
    monkeypatch.setattr(tiff, "_read_page",
                        lambda page, out=None: outs.append(out is not None) or real(page, out))
    with tifffile.TiffFile(path) as tif:
        pages = tiff.PageArray.of(tif.series[0], 0)
        assert pages is not None
        whole = pages[(slice(0, 2), slice(1, 3))]
        np.testing.assert_array_equal(whole, data[:, 1:3])
        assert outs == [True] * 4
        outs.clear()
        part = pages[(slice(1, 2), slice(0, 1), slice(5, 30), slice(3, 50))]
        np.testing.assert_array_equal(part, data[1:2, 0:1, 5:30, 3:50])
        assert outs == [False]
