import subprocess
import sys

import numpy as np
import pytest
import zarr

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.writing.validate import validate
from tests.reading.zarr_fixtures import write_ome_zarr, write_plate


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_scale_units_channels_and_windows(tmp_path, version, opened):
    path = tmp_path / f"image-v{version}.ome.zarr"
    data = write_ome_zarr(path, version)
    source = opened(path)
    assert source.format.name == "OME-Zarr"
    scene = source.scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 2, 3, 64, 64)
    assert scene.physical_pixel_sizes == pytest.approx({"Z": 2.0, "Y": 0.25, "X": 0.25})
    assert scene.units == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.channel_colors == ["#0000FF", "#00FF00"]
    assert [c.contrast_limits for c in scene.channels] == [(10.0, 900.0), (20.0, 800.0)]
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[1, 2])


def test_ome_zarr_multiscales_become_a_pyramid(tmp_path, opened):
    path = tmp_path / "pyramid.ome.zarr"
    write_ome_zarr(path, "0.5")
    scene = opened(path).scenes[0]
    assert [level.shape[-2:] for level in scene.levels] == [(64, 64), (32, 32)]


def test_bioformats2raw_layout_scenes_and_ome_xml(tmp_path, opened):
    path = tmp_path / "plate-like.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    for i in range(2):
        write_ome_zarr(path / str(i), "0.4")
    (path / "OME").mkdir()
    (path / "OME" / "METADATA.ome.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Instrument ID="Instrument:0"><Objective ID="Objective:0" NominalMagnification="63"/>'
        "</Instrument></OME>")
    source = opened(path)
    assert len(source.scenes) == 2
    assert source.ome.instruments[0].objectives[0].nominal_magnification == 63


def test_a_plate_without_rows_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "plate.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["plate"] = {"rows": [], "columns": [], "wells": []}
    with pytest.raises(LightmicReadError, match="the plate metadata has no 'rows'"):
        open_image(path)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_a_plate_its_well_and_its_field_open_and_lightmic_info_shows_the_field(
        tmp_path, version, opened):
    # was: plates and wells were refused, the advice "open one well's field instead" failed,
    # a field folder (A/1/0) having no .zarr name: "unsupported file type '(no extension)'"
    plate = tmp_path / "plate.ome.zarr"
    data = write_plate(plate, version)
    assert [s.name for s in opened(plate).scenes] == ["Plate"]
    well = opened(plate / "A" / "1")
    assert [s.name for s in well.scenes] == ["A1 field 0"]
    np.testing.assert_array_equal(np.asarray(well.scenes[0].data[0]), data)
    field = plate / "A" / "1" / "0"
    result = subprocess.run([sys.executable, "-m", "napari_lightmic", "info", str(field)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "OME-Zarr (OME)" in result.stdout
    assert "C2 x Z3 x Y64 x X64 uint16" in result.stdout and "DAPI" in result.stdout


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_an_image_folder_without_a_zarr_name_opens_the_same(tmp_path, version, opened):
    named = tmp_path / "image.ome.zarr"
    data = write_ome_zarr(named, version)
    before = opened(named).scenes[0]
    plain = named.rename(tmp_path / "image")
    after = opened(plain).scenes[0]
    assert opened(plain).format.name == "OME-Zarr"
    assert (after.dims, after.shape) == (before.dims, before.shape)
    assert after.physical_pixel_sizes == before.physical_pixel_sizes
    assert after.units == before.units and after.channel_names == before.channel_names
    np.testing.assert_array_equal(np.asarray(after.data[0]), data)
    assert [level.shape for level in after.levels] == [level.shape for level in before.levels]
    assert validate(plain) == []  # validate too takes it as OME-Zarr


def test_a_folder_that_is_no_ngff_is_refused_naming_it(tmp_path):
    group = tmp_path / "measurements"
    zarr.open_group(str(group), mode="w", zarr_format=3).attrs["instrument"] = "scope"
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, cause in ((group, "a Zarr group but no OME-Zarr"),
                          (empty, "a folder with no OME-Zarr metadata")):
        with pytest.raises(LightmicReadError) as refused:
            open_image(folder)
        assert str(refused.value).startswith(f"{folder}: {cause}")
        assert "\n" not in str(refused.value)


def test_two_dimensional_image_gets_singleton_axes(tmp_path, opened):
    from ome_zarr.format import FormatV04
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image

    path = tmp_path / "plane.ome.zarr"
    store = parse_url(str(path), mode="w", fmt=FormatV04()).store
    root = zarr.open_group(store, mode="w", zarr_format=2)
    write_image(np.arange(64 * 48, dtype=np.uint16).reshape(64, 48), root, axes="yx",
                fmt=FormatV04(), scale_factors=[])
    scene = opened(path).scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 1, 1, 64, 48)
    assert scene.physical_pixel_sizes["Z"] is None


@pytest.mark.parametrize(("label", "name", "named"), [
    (1e308, "1e+308", True), (488, "488", True), ({"x": 1}, "Channel 0", False),
    (None, "Channel 0", False)])
def test_an_omero_label_that_is_not_text(tmp_path, label, name, named):
    # fuzz 5-3944: a number as the label reached `", ".join` and `lightmic info` failed
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.4")
    root = zarr.open_group(str(path), mode="r+")
    omero = dict(root.attrs["omero"])
    omero["channels"] = [{**omero["channels"][0], "label": label}, omero["channels"][1]]
    root.attrs["omero"] = omero
    channel = open_image(path).scenes[0].channels[0]
    assert (channel.name, channel.named) == (name, named)
    from napari_lightmic.cli import main

    assert main(["info", str(path)]) == 0
