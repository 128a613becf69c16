"""Files whose scenes are wells of a plate written as an NGFF HCS plate (`--layout`)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic import open_image
from napari_lightmic.model import Well
from napari_lightmic.wells import plate_wells, well_from_name
from napari_lightmic.writing import validate
from tests.conftest import real_file

WELLS_CZI = "czi/WellD6-7_S2.czi"  # ZEN records a well (row 4, column 6 and 7) per scene
LIGHTMIC = Path(sys.executable).with_name("lightmic")


def lightmic(*args):
    return subprocess.run([str(LIGHTMIC), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def attrs(group: Path) -> dict:
    if (group / "zarr.json").exists():
        return json.loads((group / "zarr.json").read_text())["attributes"]["ome"]
    return json.loads((group / ".zattrs").read_text())


@pytest.mark.parametrize(("name", "well"), [
    ("D6", Well(3, 5)), ("d06", Well(3, 5)), ("Well D6", Well(3, 5)), ("WellB12", Well(1, 11)),
    ("A1-Site_0", Well(0, 0, 0)), ("A1-Site_3", Well(0, 0, 3)), ("B2_F3", Well(1, 1, 3)),
    ("C03 field 2", Well(2, 2, 2)), ("AF48", Well(31, 47)), ("P24 #2", Well(15, 23, 2)),
    ("Scene #1", None), ("TR1", None), ("Pos0", None), ("A0", None), ("A49", None),
    ("BA1", None), ("", None), ("D6 extra", None),
])
def test_well_names(name, well):
    assert well_from_name(name) == well


class _Scene:
    def __init__(self, index, name, well=None):
        self.index, self.name, self.well = index, name, well


def test_plate_wells_follow_the_layout_rule():
    recorded = [_Scene(0, "D6", Well(3, 5)), _Scene(1, "D7", Well(3, 6))]
    assert plate_wells(recorded) == [Well(3, 5, 0), Well(3, 6, 0)]
    assert plate_wells(recorded, "images") is None
    assert plate_wells(recorded[:1]) is None  # one scene: an image, unless asked
    assert plate_wells(recorded[:1], "plate") == [Well(3, 5, 0)]
    named = [_Scene(0, "B2-Site_1"), _Scene(1, "A1-Site_0"), _Scene(2, "B2-Site_0")]
    assert plate_wells(named) is None  # names alone ('P1', 'S2') do not make a plate
    assert plate_wells(named, "plate") == [Well(1, 1, 1), Well(0, 0, 0), Well(1, 1, 0)]
    repeated = [_Scene(0, "C3"), _Scene(1, "C3"), _Scene(2, "C3 #7")]
    assert plate_wells(repeated, "plate") == [Well(2, 2, 0), Well(2, 2, 1), Well(2, 2, 2)]
    with pytest.raises(ValueError, match=r"scene 1 \('TR1'\) names no plate well"):
        plate_wells([_Scene(0, "A1"), _Scene(1, "TR1")], "plate")


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_a_czi_of_wells_converts_to_a_plate_that_ome_zarr_py_reads(tmp_path, version):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    czi = real_file(WELLS_CZI)
    out = tmp_path / "wells.ome.zarr"
    done = lightmic("convert", czi, out, "--ngff-version", version)
    assert done.returncode == 0, done.stderr
    plate = attrs(out)["plate"]
    assert [r["name"] for r in plate["rows"]] == ["D"]
    assert [c["name"] for c in plate["columns"]] == ["6", "7"]
    assert plate["wells"] == [{"path": "D/6", "rowIndex": 0, "columnIndex": 0},
                              {"path": "D/7", "rowIndex": 0, "columnIndex": 1}]
    assert plate["field_count"] == 1 and plate["name"] == "WellD6-7_S2"
    assert attrs(out / "D" / "6")["well"]["images"] == [{"path": "0", "acquisition": 0}]
    assert attrs(out / "OME")["series"] == ["D/6/0", "D/7/0"]
    assert (out / "OME" / "METADATA.ome.xml").exists()
    assert validate(out, strict=True) == []

    with open_image(czi) as source:
        wells = [np.asarray(scene.data).squeeze() for scene in source.scenes]
    for i, column in enumerate(("6", "7")):
        image = next(Reader(parse_url(str(out / "D" / column / "0")))())
        np.testing.assert_array_equal(np.asarray(image.data[0]).squeeze(), wells[i])
    # the plate as ome-zarr-py (napari-ome-zarr's reader) shows it: the wells side by side
    (node,) = [n for n in Reader(parse_url(str(out)))() if n.specs]
    assert type(node.specs[0]).__name__ == "Plate"
    mosaic = np.asarray(node.data[0]).squeeze()
    np.testing.assert_array_equal(mosaic, np.concatenate(wells, axis=-1))

    kept = tmp_path / "images.ome.zarr"
    assert lightmic("convert", czi, kept, "--layout", "images").returncode == 0
    assert "plate" not in attrs(kept) and (kept / "0").is_dir() and (kept / "1").is_dir()


def test_scenes_named_by_well_and_site_convert_to_a_plate_when_asked(tmp_path):
    import tifffile

    rng = np.random.default_rng(5)
    names = ["A1-Site_0", "A1-Site_1", "B2-Site_0"]
    planes = [rng.integers(0, 4000, (40, 30), dtype=np.uint16) for _ in names]
    source = tmp_path / "hcs.ome.tif"
    with tifffile.TiffWriter(source, ome=True) as tif:
        for name, plane in zip(names, planes):
            tif.write(plane, metadata={"axes": "YX", "Name": name})
    with open_image(source) as opened:
        assert [s.name for s in opened.scenes] == names

    auto = tmp_path / "auto.ome.zarr"
    assert lightmic("convert", source, auto).returncode == 0
    assert "plate" not in attrs(auto)  # names alone: the bioformats2raw layout

    out = tmp_path / "hcs.ome.zarr"
    done = lightmic("convert", source, out, "--layout", "plate")
    assert done.returncode == 0, done.stderr
    plate = attrs(out)["plate"]
    assert [r["name"] for r in plate["rows"]] == ["A", "B"]
    assert [c["name"] for c in plate["columns"]] == ["1", "2"]
    assert [w["path"] for w in plate["wells"]] == ["A/1", "B/2"]
    assert plate["field_count"] == 2
    assert [i["path"] for i in attrs(out / "A" / "1")["well"]["images"]] == ["0", "1"]
    assert attrs(out / "OME")["series"] == ["A/1/0", "A/1/1", "B/2/0"]
    assert validate(out) == []
    for path, plane in zip(("A/1/0", "A/1/1", "B/2/0"), planes):
        with open_image(out / path) as field:
            np.testing.assert_array_equal(np.asarray(field.scenes[0].data).squeeze(), plane)


def test_a_plate_asked_of_scenes_that_name_no_well_is_refused_and_nothing_written(tmp_path):
    source = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")  # scenes TR1, P1, TR2
    auto = tmp_path / "auto.ome.zarr"
    assert lightmic("convert", source, auto, "--pyramid-levels", "1").returncode == 0
    assert "plate" not in attrs(auto)  # 'P1' reads as a well name, but ZEN records none
    out = tmp_path / "plate.ome.zarr"
    done = lightmic("convert", source, out, "--layout", "plate")
    assert done.returncode == 1
    assert "scene 0 ('TR1') names no plate well" in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [auto]


def test_the_wells_are_kept_in_the_ome_xml_and_an_ome_tiff_of_them_stays_a_plate(tmp_path):
    """An OME-TIFF of well scenes holds an OME Plate (as Bio-Formats writes plates); reopened,
    its scenes know their wells, so its OME-Zarr copy is a plate again."""
    import tifffile
    from ome_types import from_xml

    tif = tmp_path / "wells.ome.tif"
    assert lightmic("convert", real_file(WELLS_CZI), tif).returncode == 0
    ome = from_xml(tifffile.TiffFile(tif).ome_metadata)
    (plate,) = ome.plates
    assert (plate.name, plate.rows, plate.columns) == ("WellD6-7_S2", 4, 7)
    assert [(w.row, w.column, [s.image_ref.id for s in w.well_samples])
            for w in plate.wells] == [(3, 5, [ome.images[0].id]), (3, 6, [ome.images[1].id])]
    with open_image(tif) as source:
        assert [s.well.name for s in source.scenes] == ["D6", "D7"]

    out = tmp_path / "again.ome.zarr"
    assert lightmic("convert", tif, out).returncode == 0
    assert [w["path"] for w in attrs(out)["plate"]["wells"]] == ["D/6", "D/7"]
    (plate,) = from_xml((out / "OME" / "METADATA.ome.xml").read_text()).plates
    assert [(w.row, w.column) for w in plate.wells] == [(3, 5), (3, 6)]
    assert validate(tif) == [] and validate(out, strict=True) == []


def test_a_micro_manager_hcs_dataset_converts_to_a_plate(tmp_path, micromanager_dataset):
    """Micro-Manager's HCS Site Generator names positions WELL-Site_N: the shared dataset's
    four positions relabelled so (in every file's summary, same JSON otherwise) make a plate
    of two wells with two fields each."""
    import shutil

    folder = tmp_path / "mm"
    shutil.copytree(micromanager_dataset, folder)
    labels = {b"1-Pos_000_000": b"A1-Site_0", b"1-Pos_000_001": b"A1-Site_1",
              b"1-Pos_001_000": b"B2-Site_0", b"1-Pos_001_001": b"B2-Site_1"}
    for path in folder.glob("*.ome.tif"):
        data = path.read_bytes()
        for old, new in labels.items():  # JSON whitespace keeps every offset
            data = data.replace(b'"Label":"' + old + b'"',
                                b'"Label":"' + new + b'"' + b" " * (len(old) - len(new)))
        path.write_bytes(data)
    first = folder / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
    with open_image(first) as source:
        pixels = {s.name: np.asarray(s.data) for s in source.scenes}
        assert {s.name: s.well for s in source.scenes} == {
            "A1-Site_0": Well(0, 0, 0), "A1-Site_1": Well(0, 0, 1),
            "B2-Site_0": Well(1, 1, 0), "B2-Site_1": Well(1, 1, 1)}

    out = tmp_path / "hcs.ome.zarr"
    done = lightmic("convert", first, out)
    assert done.returncode == 0, done.stderr
    plate = attrs(out)["plate"]
    assert [w["path"] for w in plate["wells"]] == ["A/1", "B/2"]
    assert plate["field_count"] == 2
    assert validate(out, strict=True) == []
    for name, path in (("A1-Site_1", "A/1/1"), ("B2-Site_0", "B/2/0")):
        with open_image(out / path) as field:
            np.testing.assert_array_equal(np.asarray(field.scenes[0].data), pixels[name])


@pytest.mark.parametrize("schema", ["2016-06", "2015-01"])
def test_a_well_beyond_the_largest_plate_is_not_taken_as_one(schema):
    """Rows past AF (1536 wells) would give names such as 'A[': such a well is none.

    Read from the XML (the current schema) and from the model ome-types upgrades an older
    one to; an image also in a well on the plate is in that one.
    """
    from napari_lightmic.reading.ome_xml import ome_images

    xml = (f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/{schema}">'
           '<Plate ID="Plate:0"><Well ID="Well:0" Row="60" Column="0"><WellSample ID="WS:0" '
           'Index="0"><ImageRef ID="Image:0"/></WellSample></Well>'
           '<Well ID="Well:1" Row="3" Column="5"><WellSample ID="WS:1" Index="1">'
           '<ImageRef ID="Image:1"/></WellSample></Well>'
           '<Well ID="Well:2" Row="70" Column="0"><WellSample ID="WS:2" Index="2">'
           '<ImageRef ID="Image:1"/></WellSample></Well></Plate>'
           + "".join(f'<Image ID="Image:{i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" '
                     'Type="uint8" SizeX="2" SizeY="2" SizeZ="1" SizeC="1" SizeT="1">'
                     '<MetadataOnly/></Pixels></Image>' for i in range(2))
           + "</OME>")
    _, infos = ome_images(xml)
    assert [info.get("well") for info in infos] == [None, Well(3, 5, 0)]
    assert not Well(32, 0).on_plate and Well(31, 47).on_plate
