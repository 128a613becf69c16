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
