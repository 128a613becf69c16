"""HCS plates (NGFF 0.4 and 0.5): the plate model, its mosaics, laziness, HTTP, the CLI."""

import json

import numpy as np
import pytest

from napari_lightmic.reading import plate_mosaic
from napari_lightmic.reading.zarr_store import RegularFileStore
from tests.http_server import serve
from tests.reading.zarr_fixtures import (
    HCS_FIELDS,
    HCS_MISSING_FIELD,
    HCS_WELLS,
    hcs_value,
    write_hcs_plate,
)

VERSIONS = ["0.4", "0.5"]


@pytest.fixture(params=VERSIONS)
def plate_path(request, tmp_path):
    path = tmp_path / f"plate-{request.param}.ome.zarr"
    write_hcs_plate(path, request.param)
    return path


def tile(level, layout, well, slot, factor=1, channel=0):
    """The pixels of one field's tile of a mosaic level (T=0, Z=0)."""
    row, column = "AB".index(well[0]), int(well[2]) - 1
    y, x = layout.field_origin(row, column, slot)
    h, w = layout.field_height // factor, layout.field_width // factor
    y, x = y // factor, x // factor
    return np.asarray(level[0, channel, 0, y:y + h, x:x + w])


def test_the_plate_model_lists_rows_columns_wells_fields_and_acquisitions(plate_path, opened):
    plate = opened(plate_path).plate
    assert plate.name == "test plate"
    assert plate.rows == ("A", "B") and plate.columns == ("1", "2", "3")
    assert [w.name for w in plate.wells] == ["A1", "A2", "B1", "B2", "B3"]
    assert [(a.id, a.name) for a in plate.acquisitions] == [(0, "Day 0"), (1, "Day 1")]
    a1 = plate.well("A1")
    assert (a1.row, a1.column, a1.path) == (0, 0, "A/1")
    assert [(f.path, plate.acquisition_of(f)) for f in a1.fields] == HCS_FIELDS
    assert plate.well("B2").problem in ("no .zattrs", "no zarr.json")  # listed, not there
    assert plate.at(0, 2) is None  # A3: no well


def test_one_mosaic_per_acquisition_wells_in_place_fields_tiled(plate_path, opened):
    source = opened(plate_path)
    layout = source.plate.layout
    assert [s.name for s in source.scenes] == ["Day 0", "Day 1"]
    day0, day1 = source.scenes
    assert day0.dims == "TCZYX" and day0.channel_names == ["DAPI", "GFP"]
    assert day0.physical_pixel_sizes == pytest.approx({"Z": 2.0, "Y": 0.25, "X": 0.25})
    assert day0.shape == (1, 2, 1, 2 * layout.cell_height, 3 * layout.cell_width)
    for scene, fields in ((day0, HCS_FIELDS[:2]), (day1, HCS_FIELDS[2:])):
        for well, (height, width) in HCS_WELLS.items():
            for slot, (field, _) in enumerate(fields):
                for channel in (0, 1):
                    pixels = tile(scene.data, layout, well, slot, channel=channel)
                    expected = np.zeros_like(pixels)
                    if (well, field) != HCS_MISSING_FIELD:
                        expected[:height, :width] = hcs_value(well, field, channel)
                    np.testing.assert_array_equal(pixels, expected, f"{well} field {field}")
    empty = np.asarray(day0.data[0, 0, 0, :layout.cell_height, 2 * layout.cell_width:])
    assert not empty.any()  # A3, which the plate does not list
    b2 = np.asarray(day0.data[0, 0, 0, layout.cell_height:, layout.cell_width:
                              2 * layout.cell_width])
    assert not b2.any()  # B2, listed but missing
    notes = " ".join(day1.notes)
    assert "shown empty: A3" in notes and "B2" in notes and "B1 field 3 (missing)" in notes
    assert "fields of 2 sizes" in notes


def test_the_mosaic_levels_come_from_the_fields_levels(plate_path, opened):
    scene = opened(plate_path).scenes[0]
    layout = opened(plate_path).plate.layout
    assert [level.shape[-2:] for level in scene.levels] == [
        (2 * layout.cell_height, 3 * layout.cell_width),
        (layout.cell_height, 3 * layout.cell_width // 2)]
    pixels = tile(scene.levels[1], layout, "A/2", 1, factor=2)
    assert (pixels[:24, :20] == hcs_value("A/2", "1", 0)).all() and not pixels[24:].any()


def test_below_the_fields_smallest_level_levels_stride_it(plate_path, opened, monkeypatch):
    monkeypatch.setattr(plate_mosaic, "SHOWN_SMALLEST", 64)  # as a large plate would
    source = opened(plate_path)
    scene, layout = source.scenes[0], source.plate.layout
    assert len(scene.levels) == 3 and layout.field_height % 4 == 0 and layout.gap % 4 == 0
    assert scene.levels[2].shape[-1] * 4 == scene.shape[-1]
    pixels = tile(scene.levels[2], layout, "B/3", 0, factor=4)
    assert (pixels == hcs_value("B/3", "0", 0)).all()


def chunk_reads(monkeypatch):
    """The keys of the chunks read through the local store (metadata files left out)."""
    read = []
    get = RegularFileStore.get

    async def counting(self, key, *args, **kwargs):
        name = key.rsplit("/", 1)[-1]
        if name not in ("zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata"):
            read.append(key)
        return await get(self, key, *args, **kwargs)

    monkeypatch.setattr(RegularFileStore, "get", counting)
    return read


def test_opening_reads_no_chunk_and_the_lowest_level_only_its_own(plate_path, monkeypatch):
    from napari_lightmic import open_image

    read = chunk_reads(monkeypatch)
    with open_image(plate_path) as source:
        assert read == []  # metadata only
        scene = source.scenes[0]
        whole = np.asarray(scene.levels[-1][0, 0, 0])  # a channel of the plate, lowest level
        assert whole.any()
        # each of the 8 fields of Day 0, once per chunk of its level 1 (ome-zarr-py
        # names it 's1'): nothing of full resolution ('s0'), nothing of Day 1's fields 2, 3
        levels = {key.split("/")[3] for key in read}
        fields = {tuple(key.split("/")[:3]) for key in read}
        assert levels == {"s1"}, read
        assert len(fields) == 8 and {f[2] for f in fields} == {"0", "1"}
        assert len(read) == len(set(read)) == 8  # one chunk each: read once
        read.clear()
        np.asarray(scene.data[0, 0, 0, :10, :10])  # a corner at full resolution
        assert len(read) == 1 and read[0].startswith("A/1/0/s0/")


def test_a_well_opens_as_its_fields(plate_path, opened):
    well = opened(plate_path / "B" / "1")
    assert [s.name for s in well.scenes] == ["B1 field 0", "B1 field 1", "B1 field 2"]
    assert "missing: 3" in " ".join(well.scenes[0].notes)
    assert (np.asarray(well.scenes[1].data[0, 1, 0]) == hcs_value("B/1", "1", 1)).all()


def test_a_plate_opens_over_http(plate_path, opened, monkeypatch):
    from napari_lightmic.reading import remote

    monkeypatch.setattr(remote, "HTTP_TIMEOUT", 5.0)
    with serve(plate_path.parent) as base:
        source = opened(f"{base}/{plate_path.name}")
        layout = source.plate.layout
        assert [s.name for s in source.scenes] == ["Day 0", "Day 1"]
        assert source.plate.well("B2").problem  # missing on the server too
        pixels = tile(source.scenes[1].data, layout, "A/2", 0)
        assert (pixels[:48, :40] == hcs_value("A/2", "2", 0)).all()
        well = opened(f"{base}/{plate_path.name}/A/2")
        assert len(well.scenes) == 4


def test_lightmic_info_lists_the_plate(plate_path):
    from tests.test_cli import lightmic

    done = lightmic("info", "--json", plate_path)
    assert done.returncode == 0, done.stderr
    plate = json.loads(done.stdout)["plate"]
    assert plate["rows"] == ["A", "B"] and plate["columns"] == ["1", "2", "3"]
    assert plate["acquisitions"] == [{"id": 0, "name": "Day 0"}, {"id": 1, "name": "Day 1"}]
    a1 = plate["wells"][0]
    assert (a1["name"], a1["path"], a1["row"], a1["column"]) == ("A1", "A/1", 0, 0)
    assert a1["fields"] == [{"path": f, "acquisition": a} for f, a in HCS_FIELDS]
    assert [w["problem"] is None for w in plate["wells"]] == [True, True, True, False, True]
    text = lightmic("info", plate_path)
    assert text.returncode == 0, text.stderr
    assert "plate: test plate, 2 rows (A, B) x 3 columns (1, 2, 3)" in text.stdout
    assert "5 wells, 16 fields (4 a well)" in text.stdout
    assert "acquisition 1: Day 1" in text.stdout and "wells of row B: columns 1, 2, 3" in \
        text.stdout and "well B2 (B/2): no " in text.stdout


def test_a_well_whose_metadata_is_broken_is_a_named_problem(plate_path, opened):
    meta = plate_path / "A" / "1" / ("zarr.json" if "0.5" in plate_path.name else ".zattrs")
    meta.write_text('{"attributes": ', encoding="utf-8")
    source = opened(plate_path)
    assert source.plate.well("A1").problem.startswith("JSONDecodeError")
    assert "A1 (JSONDecodeError" in " ".join(source.scenes[0].notes)
    layout = source.plate.layout
    assert not tile(source.scenes[0].data, layout, "A/1", 0).any()
    assert (tile(source.scenes[0].data, layout, "B/1", 0) == hcs_value("B/1", "0", 0)).all()


def test_a_plate_declaring_absurd_sizes_is_refused(tmp_path):
    import zarr

    from napari_lightmic import LightmicReadError, open_image

    path = tmp_path / "huge.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["plate"] = {"rows": [{"name": str(i)} for i in range(1000)],
                           "columns": [{"name": str(i)} for i in range(1000)], "wells": []}
    with pytest.raises(LightmicReadError, match="1000 × 1000 wells, more than 100,000"):
        open_image(path)


def test_a_damaged_chunk_names_its_field(plate_path, opened):
    from napari_lightmic import LightmicReadError

    level = "s1"
    chunks = [p for p in (plate_path / "A" / "2" / "1" / level).rglob("*")
              if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs")]
    assert chunks
    for chunk in chunks:
        chunk.write_bytes(b"not a chunk")
    scene = opened(plate_path).scenes[0]
    with pytest.raises(LightmicReadError, match="A/2/1") as failed:
        np.asarray(scene.levels[-1][0, 0, 0])
    assert "cannot be decoded" in str(failed.value)


def test_wells_that_disagree_on_the_pixel_size_are_noted(plate_path, opened):
    import zarr

    group = zarr.open_group(str(plate_path / "B" / "3" / "1"), mode="r+")
    attrs = dict(group.attrs)
    meta = attrs.get("ome", attrs)
    for dataset in meta["multiscales"][0]["datasets"]:
        for transform in dataset["coordinateTransformations"]:
            if transform["type"] == "scale":
                transform["scale"] = [s * 2 for s in transform["scale"]]
    group.attrs.update(attrs)
    scene = opened(plate_path).scenes[0]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.25)  # the first field's
    assert any("disagree on the pixel size" in note and "0.5" in note for note in scene.notes)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_plate_written_by_ome_zarr_py_opens(tmp_path, version, opened):
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_plate_metadata, write_well_metadata

    from tests.reading.zarr_fixtures import write_ome_zarr

    fmt = {"0.4": FormatV04(), "0.5": FormatV05()}[version]
    path = tmp_path / "written.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    write_plate_metadata(root, ["A", "B"], ["1", "2"], ["A/1", "B/2"], fmt=fmt,
                         acquisitions=[{"id": 3, "name": "run"}], name="written")
    for well in ("A/1", "B/2"):
        write_well_metadata(root.require_group(well), [{"path": "0", "acquisition": 3}],
                            fmt=fmt)
        write_ome_zarr(path / well / "0", version)
    source = opened(path)
    assert [w.name for w in source.plate.wells] == ["A1", "B2"]
    assert [s.name for s in source.scenes] == ["run"]
    assert source.scenes[0].shape[:3] == (1, 2, 3)  # T, C, Z of the fields
    assert "shown empty: A2, B1" in " ".join(source.scenes[0].notes)


def spec_cases(kind):
    """The NGFF spec's own plate or well test cases (tests/data/ngff-spec), both versions."""
    from pathlib import Path

    suites = Path(__file__).resolve().parents[1] / "data" / "ngff-spec"
    for version in VERSIONS:
        for name in (f"{kind}_suite.json", f"strict_{kind}_suite.json"):
            path = suites / version / name
            if path.is_file():
                for case in json.loads(path.read_text(encoding="utf-8"))["tests"]:
                    data = case["data"].get("ome", case["data"])
                    if kind in data:
                        yield data[kind], case["valid"], f"{version}/{name}: {case.get('formerly')}"


def test_the_spec_plates_and_wells_are_read_or_refused_with_a_reason():
    from napari_lightmic.plate import fields_from_json, plate_from_json

    plates = list(spec_cases("plate"))
    wells = list(spec_cases("well"))
    assert len(plates) > 10 and len(wells) > 5
    for meta, valid, where in plates:
        try:
            plate = plate_from_json(meta)
        except ValueError:
            assert not valid, where  # no rows or columns: refused, with the reason
            continue
        if valid:
            assert plate.wells and not plate.notes, where
            assert all(w.name == f"{plate.rows[w.row]}{plate.columns[w.column]}"
                       for w in plate.wells), where
    for meta, valid, where in wells:
        try:
            fields = fields_from_json(meta)
        except ValueError:
            assert not valid, where
            continue
        if valid:
            assert fields, where


def test_a_plate_lightmic_convert_writes_opens_as_its_wells(tmp_path, opened):
    # a CZI of two well scenes (D6, D7), converted to an NGFF plate by default
    from tests.conftest import real_file
    from tests.test_cli import lightmic

    czi = real_file("czi/WellD6-7_S2.czi")
    out = tmp_path / "wells.ome.zarr"
    done = lightmic("convert", czi, out)
    assert done.returncode == 0, done.stderr
    wells = [np.asarray(scene.data[0, 0, 0]) for scene in opened(czi).scenes]
    source = opened(out)
    assert [w.name for w in source.plate.wells] == ["D6", "D7"]
    layout = source.plate.layout
    mosaic = source.scenes[0]
    for column, pixels in enumerate(wells):
        y, x = layout.field_origin(0, column, 0)
        h, w = pixels.shape
        np.testing.assert_array_equal(np.asarray(mosaic.data[0, 0, 0, y:y + h, x:x + w]),
                                      pixels)


def test_a_well_whose_path_leaves_the_plate_or_whose_row_is_true_is_read_safely():
    from napari_lightmic.plate import fields_from_json, plate_from_json

    plate = plate_from_json({
        "rows": [{"name": "A"}, {"name": "B"}], "columns": [{"name": "1"}],
        "wells": [{"path": "A/1", "rowIndex": True, "columnIndex": 0},
                  {"path": "../../x", "rowIndex": 0, "columnIndex": 0}]})
    # JSON true is no row (it was read as row 1, B): the place comes from the path's names
    assert [(w.name, w.row) for w in plate.wells] == [("A1", 0)]
    assert plate.notes == ("well '../../x' was left out: its path leaves the plate",)
    fields = fields_from_json({"images": [{"path": "0"}, {"path": "../0"}, {"path": "a//b"}]})
    assert [f.path for f in fields] == ["0"]


def test_a_field_that_cannot_be_read_leaves_its_well_open_with_the_others(plate_path, opened):
    field = plate_path / "B" / "1" / "1"
    meta = field / ("zarr.json" if (field / "zarr.json").exists() else ".zattrs")
    doc = json.loads(meta.read_text())
    attrs = doc["attributes"]["ome"] if "attributes" in doc else doc
    attrs["multiscales"] = [{"axes": "not a list", "datasets": []}]
    meta.write_text(json.dumps(doc))
    well = opened(plate_path / "B" / "1")
    assert [s.name for s in well.scenes] == ["B1 field 0", "B1 field 2"]
    assert "fields that cannot be read: 1 (" in " ".join(well.scenes[0].notes)


def test_a_well_listing_absurdly_many_fields_is_refused():
    from napari_lightmic.plate import MAX_FIELDS, fields_from_json

    with pytest.raises(ValueError, match="more than 10,000"):
        fields_from_json({"images": [{"path": str(i)} for i in range(MAX_FIELDS + 1)]})
