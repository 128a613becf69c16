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


def test_complete_set(tmp_path, opened):
    data = write_set(tmp_path)
    scene = opened(tmp_path / name(1)).scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 2, 1, 48, 64)
    np.testing.assert_array_equal(np.asarray(scene.data[0, :, 0]), data[:, 0])
    assert scene.channel_names == ["ch0", "ch1"]
    assert scene.physical_pixel_sizes["X"] == 0.5


def test_first_file_absent_opens_with_its_planes_as_zeros(tmp_path, opened):
    data = write_set(tmp_path)
    (tmp_path / name(0)).unlink()
    with tifffile.TiffFile(tmp_path / name(1)) as alone, pytest.raises(
            ValueError, match="NumPlanes or PlaneCount"):  # tifffile alone
        alone.series  # noqa: B018
    source = opened(tmp_path / name(1))
    scene = source.scenes[0]
    assert scene.shape == (1, 2, 1, 48, 64) and scene.name == "Well A1"
    pixels = np.asarray(scene.data[0, :, 0])
    assert not pixels[0].any()
    np.testing.assert_array_equal(pixels[1], data[1, 0])
    assert any("1 of 2 planes" in n and name(0) in n for n in scene.notes), scene.notes
    source.close()


def test_planes_without_plane_count_cover_up_to_the_next_tiffdata(tmp_path, opened):
    data = write_set(tmp_path, size_z=3, size_c=3)
    (tmp_path / name(0)).unlink()
    scene = opened(tmp_path / name(2)).scenes[0]
    assert scene.shape == (1, 3, 3, 48, 64)
    pixels = np.asarray(scene.data[0])
    assert not pixels[0].any()
    np.testing.assert_array_equal(pixels[1:], data[1:])
    assert any("up to the next TiffData" in n for n in scene.notes)
    assert any("3 of 9 planes" in n for n in scene.notes)


def test_a_later_file_absent_is_said(tmp_path, opened):
    data = write_set(tmp_path)
    (tmp_path / name(1)).unlink()
    scene = opened(tmp_path / name(0)).scenes[0]
    pixels = np.asarray(scene.data[0, :, 0])
    np.testing.assert_array_equal(pixels[0], data[0, 0])
    assert not pixels[1].any()
    assert any("absent" in n for n in scene.notes), scene.notes


def test_set_converts_and_reads_the_same(tmp_path, opened):
    from napari_lightmic.writing import write

    data = write_set(tmp_path, size_z=2)
    (tmp_path / name(0)).unlink()
    source = opened(tmp_path / name(1))
    out = write(source, tmp_path / "out.ome.zarr")
    copy = opened(out).scenes[0]
    back = np.asarray(copy.data)
    np.testing.assert_array_equal(back[0, 1], data[1])
    assert not back[0, 0].any()
    # the copy says its zeros are missing planes, not measurements
    assert any("2 of 4 planes" in n for n in copy.notes), copy.notes


def test_a_plane_of_the_wrong_size_is_an_error_naming_the_file(tmp_path, opened):
    write_set(tmp_path)
    (tmp_path / name(0)).unlink()
    tifffile.imwrite(tmp_path / name(0), np.zeros((10, 10), np.uint16))
    scene = opened(tmp_path / name(1)).scenes[0]
    with pytest.raises(LightmicReadError, match=name(0)) as caught:
        np.asarray(scene.data[0, 0, 0])
    assert "plane T=0, C=0, Z=0 cannot be decoded" in caught.value.cause


def test_a_set_of_absent_files_opens_as_missing_planes_and_a_bad_type_is_refused(tmp_path, opened):
    xml = ('<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/'
           '2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
           'Type="uint16" SizeX="64" SizeY="48" SizeZ="1" SizeC="2" SizeT="1">'
           '<TiffData FirstC="0"><UUID FileName="gone.ome.tif">urn:uuid:1</UUID></TiffData>'
           '<TiffData FirstC="1"><UUID FileName="gone2.ome.tif">urn:uuid:2</UUID></TiffData>'
           '</Pixels></Image></OME>')
    tifffile.imwrite(tmp_path / "x.ome.tif", np.zeros((48, 64), np.uint16), description=xml,
                     metadata=None)
    scene = opened(tmp_path / "x.ome.tif").scenes[0]
    assert any("2 of 2 planes" in n for n in scene.notes)
    with pytest.raises(LightmicReadError, match="pixel type"):
        tifffile.imwrite(tmp_path / "y.ome.tif", np.zeros((48, 64), np.uint16),
                         description=xml.replace('"uint16"', '"uint17"'), metadata=None)
        open_image(tmp_path / "y.ome.tif")


NS = 'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"'


def image(name, tiffdata, size_z=1, size_c=1, metadata_only=False):
    body = "<MetadataOnly/>" if metadata_only else tiffdata
    channels = "".join(f'<Channel ID="Channel:{name}:{c}" SamplesPerPixel="1"/>'
                       for c in range(size_c))
    return (f'<Image ID="Image:{name}" Name="{name}"><Pixels ID="Pixels:{name}" '
            f'DimensionOrder="XYZCT" Type="uint16" SizeX="8" SizeY="8" SizeZ="{size_z}" '
            f'SizeC="{size_c}" SizeT="1">{channels}{body}</Pixels></Image>')


def write_file(path, xml, values):
    """A file of 8 x 8 planes of the given values, the first page carrying `xml`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path) as tif:
        for k, value in enumerate(values):
            tif.write(np.full((8, 8), value, np.uint16),
                      description=xml if k == 0 else None, metadata=None)


def test_set_planes_read_from_many_threads_are_right(tmp_path, opened):
    """The writers read planes in parallel: each must come from its own IFD."""
    from concurrent.futures import ThreadPoolExecutor

    td = ('<TiffData FirstZ="0" IFD="0" PlaneCount="60"><UUID FileName="a.ome.tif">'
          'urn:uuid:a</UUID></TiffData><TiffData FirstZ="60"><UUID FileName="gone.ome.tif">'
          'urn:uuid:b</UUID></TiffData>')
    xml = f'<?xml version="1.0"?><OME {NS} UUID="urn:uuid:a">{image("x", td, 120)}</OME>'
    write_file(tmp_path / "a.ome.tif", xml, range(1, 61))
    scene = opened(tmp_path / "a.ome.tif").scenes[0]
    assert any("60 of 120" in n for n in scene.notes), scene.notes
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda z: int(np.asarray(scene.data[0, 0, z])[0, 0]),
                            list(range(60)) * 6))
    assert got == [z + 1 for z in range(60)] * 6


def test_set_images_without_pixels_make_no_scene(tmp_path, opened):
    td = ('<TiffData IFD="0" PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:a</UUID>'
          '</TiffData><TiffData FirstC="1" IFD="0" PlaneCount="1"><UUID FileName="b.ome.tif">'
          'urn:uuid:b</UUID></TiffData>')
    xml = (f'<?xml version="1.0"?><OME {NS} UUID="urn:uuid:a">'
           f'{image("overview", "", metadata_only=True)}{image("x", td, size_c=2)}</OME>')
    write_file(tmp_path / "a.ome.tif", xml, [5])
    source = opened(tmp_path / "a.ome.tif")  # b is absent: the set reader
    assert [s.name for s in source.scenes] == ["x"]
    assert source.scenes[0].ome_index == 1
    assert np.asarray(source.scenes[0].data[0, :, 0, 0, 0]).tolist() == [5, 0]


def test_set_file_found_by_its_uuid_and_in_subfolders_only_inside(tmp_path, opened):
    """A renamed file is still the one its UUID names; FileNames may name subfolders but
    never leave the set's folder."""
    td = ('<TiffData FirstC="0" IFD="0" PlaneCount="1"><UUID FileName="orig.ome.tif">'
          'urn:uuid:a</UUID></TiffData>'
          '<TiffData FirstC="1" IFD="0" PlaneCount="1"><UUID FileName="sub/c1.ome.tif">'
          'urn:uuid:b</UUID></TiffData>'
          '<TiffData FirstC="2" IFD="0" PlaneCount="1"><UUID FileName="../out.ome.tif">'
          'urn:uuid:c</UUID></TiffData>'
          '<TiffData FirstC="3" IFD="0" PlaneCount="1"><UUID FileName="gone.ome.tif">'
          'urn:uuid:d</UUID></TiffData>')
    xml = f'<?xml version="1.0"?><OME {NS} UUID="urn:uuid:a">{image("x", td, size_c=4)}</OME>'
    folder = tmp_path / "set"
    write_file(folder / "renamed.ome.tif", xml, [7])
    write_file(folder / "sub" / "c1.ome.tif", "plain", [22])
    write_file(folder / "c1.ome.tif", "plain", [999])  # same name, other folder
    write_file(tmp_path / "out.ome.tif", "plain", [333])  # outside the set
    scene = opened(folder / "renamed.ome.tif").scenes[0]
    assert np.asarray(scene.data[0, :, 0, 0, 0]).tolist() == [7, 22, 0, 0]
    assert any("outside the set's folder" in n for n in scene.notes)


def test_set_tiffdata_outside_the_image_and_ifds_beyond_the_file(tmp_path, opened):
    td = ('<TiffData FirstZ="0" IFD="0" PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:a'
          '</UUID></TiffData><TiffData FirstZ="1" IFD="1" PlaneCount="1"><UUID FileName='
          '"a.ome.tif">urn:uuid:a</UUID></TiffData><TiffData FirstZ="5" IFD="0" PlaneCount="1">'
          '<UUID FileName="a.ome.tif">urn:uuid:a</UUID></TiffData><TiffData FirstZ="2" IFD="7" '
          'PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:a</UUID></TiffData>'
          '<TiffData FirstC="1"><UUID FileName="gone.ome.tif">urn:uuid:b</UUID></TiffData>')
    xml = f'<?xml version="1.0"?><OME {NS} UUID="urn:uuid:a">{image("x", td, 3, 2)}</OME>'
    write_file(tmp_path / "a.ome.tif", xml, [10, 20])
    source = opened(tmp_path / "a.ome.tif")
    scene = source.scenes[0]
    assert np.asarray(scene.data[0, 0, :, 0, 0]).tolist() == [10, 20, 0]  # FirstZ=5 left out
    assert any("outside the image" in n for n in scene.notes)
    assert any("4 of 6 planes" in n for n in scene.notes), scene.notes  # IFD 7, and C1
    source.close()
    with pytest.raises(LightmicReadError, match="closed"):
        np.asarray(scene.data[0, 0, 0])


def test_what_tifffile_logs_counts_for_the_file_being_opened_only(tmp_path, opened):
    """Another thread's tifffile errors do not make a good file 'truncated'; an application
    that silenced tifffile's logger still learns of absent files."""
    import logging
    import threading

    good = tmp_path / "good.ome.tif"
    tifffile.imwrite(good, np.ones((2, 8, 8), np.uint16), ome=True)
    stop = threading.Event()

    def noisy():
        while not stop.is_set():
            logging.getLogger("tifffile").error("<TiffFile 'x'> invalid page offset")

    thread = threading.Thread(target=noisy)
    thread.start()
    try:
        for _ in range(20):
            assert opened(good).scenes[0].shape[-2:] == (8, 8)
    finally:
        stop.set()
        thread.join()

    write_set(tmp_path)
    (tmp_path / name(1)).unlink()
    logger = logging.getLogger("tifffile")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        scene = opened(tmp_path / name(0)).scenes[0]
    finally:
        logger.setLevel(before)
    assert any("1 of 2 planes" in n for n in scene.notes), scene.notes


@pytest.mark.parametrize("kind", ["shared file", "set tifffile cannot map", "schema broken"])
def test_the_ome_xml_is_parsed_once_at_open(tmp_path, opened, monkeypatch, kind):
    # was: twice for a file tifffile maps (the files it names checked, then the images
    # read), three times for a set or a document read leniently; and ome-types parsed it
    # again at open (its model is made when the metadata is first used)
    import ome_types

    from napari_lightmic import _xml
    from tests.conftest import real_file

    if kind == "shared file":
        path = real_file("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff")
    elif kind == "set tifffile cannot map":
        write_set(tmp_path)
        (tmp_path / name(0)).unlink()
        path = tmp_path / name(1)
    else:
        path = tmp_path / "sloppy.ome.tif"
        tifffile.imwrite(path, np.ones((2, 16, 16), np.uint16), ome=True,
                         metadata={"axes": "CYX", "PhysicalSizeX": 0})
    parse, parsed = _xml._parse, []

    def counted(text, what):
        parsed.append(what)
        return parse(text, what)

    models, from_xml = [], ome_types.from_xml

    def modelled(xml, **kwargs):
        models.append(len(xml))
        return from_xml(xml, **kwargs)

    monkeypatch.setattr(_xml, "_parse", counted)
    monkeypatch.setattr(ome_types, "from_xml", modelled)
    source = opened(path)
    assert source.scenes and parsed == ["the OME-XML"] and models == []
    assert source.ome is source.ome and len(models) == 1
    if kind == "schema broken":
        assert any('PhysicalSizeX="0"' in note for note in source.scenes[0].notes)
