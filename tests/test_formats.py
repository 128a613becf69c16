import os

import pytest

from napari_lightmic.formats import format_for, napari_patterns


def test_longest_extension_wins():
    assert format_for("a/b.ome.tif").name == "OME-TIFF"
    assert format_for("a/b.tif").name == "TIFF"
    assert format_for("a/b.ome.zarr/").name == "OME-Zarr"
    assert format_for("B.CZI").name == "CZI"
    assert format_for("notes.txt") is None


def test_registry_tells_open_from_proprietary_and_lossy():
    assert not format_for("x.czi").open_format and format_for("x.czi").advice
    assert format_for("x.ome.zarr").open_format and format_for("x.ome.zarr").advice is None
    assert format_for("x.jpg").lossy and "lossy" in format_for("x.jpg").advice
    assert format_for("x.ome.tiff").edam.endswith("format_3727")


def test_manifest_claims_every_registered_extension():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[1] / "napari.yaml").read_text())
    claimed = set(manifest["contributions"]["readers"][0]["filename_patterns"])
    assert set(napari_patterns()) <= claimed


def test_a_folder_with_ngff_metadata_is_ome_zarr_whatever_its_name(tmp_path):
    import json

    from napari_lightmic.formats import format_of, ngff_kind

    def folder(name, file, doc):
        path = tmp_path / name
        path.mkdir()
        (path / file).write_text(json.dumps(doc))
        return path

    image = folder("0", "zarr.json", {"zarr_format": 3, "node_type": "group",
                                      "attributes": {"ome": {"multiscales": [{}]}}})
    well = folder("1", ".zattrs", {"well": {"images": []}})
    plate = folder("plate", "zarr.json", {"node_type": "group",
                                          "attributes": {"ome": {"plate": {}}}})
    layout = folder("collection", ".zattrs", {"bioformats2raw.layout": 3})
    other = folder("group", "zarr.json", {"node_type": "group", "attributes": {"a": 1}})
    broken = folder("broken", "zarr.json", {})
    (broken / "zarr.json").write_text("{not json")
    assert [ngff_kind(p) for p in (image, well, plate, layout, other, broken)] == [
        "multiscales", "well", "plate", "bioformats2raw.layout", None, None]
    assert format_of(image).name == "OME-Zarr" and format_of(plate).name == "OME-Zarr"
    assert format_of(other) is None and format_of(tmp_path / "missing") is None
    assert format_of(tmp_path / "named.ome.zarr").name == "OME-Zarr"  # by name, as before
    assert format_of("https://example.org/data/0") is None  # URLs go by their name alone


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_place_of_zarr_metadata_is_not_waited_on(tmp_path):
    from napari_lightmic.formats import format_of, ngff_kind

    os.mkfifo(tmp_path / "zarr.json")  # refused, not read: a read would block
    assert ngff_kind(tmp_path) is None and format_of(tmp_path) is None
