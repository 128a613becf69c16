"""A file's label images (NGFF labels, with their colours) kept by its OME-Zarr copies, and
said lost by OME-TIFF copies, which cannot hold them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic import open_image
from napari_lightmic.writing import validate
from tests.reading.zarr_fixtures import write_ome_zarr

LIGHTMIC = Path(sys.executable).with_name("lightmic")
COLORS = [{"label-value": 1, "rgba": [255, 0, 0, 255]},
          {"label-value": 2, "rgba": [0, 128, 255, 200]}]


def with_labels(path: Path, version: str) -> np.ndarray:
    """An OME-Zarr image (C2 Z3 64x64) with a label image 'nuclei' written by ome-zarr-py."""
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_labels

    write_ome_zarr(path, version)
    labels = np.zeros((3, 64, 64), np.uint8)
    labels[:, 10:30, 10:30] = 1
    labels[1:, 40:60, 35:55] = 2
    fmt = FormatV04() if version == "0.4" else FormatV05()
    root = zarr.open_group(str(path), mode="a")
    write_labels(labels, root, name="nuclei", axes="zyx", fmt=fmt, scaler=None, scale_factors=[2],
                 label_metadata={"colors": COLORS})
    return labels


def label_attrs(group: Path) -> dict:
    if (group / "zarr.json").exists():
        return json.loads((group / "zarr.json").read_text())["attributes"]["ome"]
    return json.loads((group / ".zattrs").read_text())


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_an_ome_zarr_copy_keeps_the_label_images_and_their_colours(tmp_path, version):
    source = tmp_path / "in.ome.zarr"
    labels = with_labels(source, version)
    with open_image(source) as opened:
        scene = opened.scenes[0]
        assert list(scene.labels) == ["nuclei"]
        assert scene.label_colors == {"nuclei": {1: (255, 0, 0, 255), 2: (0, 128, 255, 200)}}

    out = tmp_path / "out.ome.zarr"
    done = subprocess.run([str(LIGHTMIC), "convert", str(source), str(out), "--ngff-version",
                           version], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert validate(out, strict=False) == []
    meta = label_attrs(out / "labels" / "nuclei")["image-label"]
    assert meta["colors"] == COLORS
    with open_image(out) as copy:
        scene = copy.scenes[0]
        np.testing.assert_array_equal(np.asarray(scene.labels["nuclei"]).squeeze(), labels)
        assert scene.label_colors["nuclei"] == {1: (255, 0, 0, 255), 2: (0, 128, 255, 200)}

    # independently: ome-zarr-py finds the label image and its colours
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    nodes = list(Reader(parse_url(str(out / "labels" / "nuclei")))())
    assert any(node.metadata.get("color") == {1: [1.0, 0.0, 0.0, 1.0],
                                              2: [0.0, 128 / 255, 1.0, 200 / 255]}
               for node in nodes), [node.metadata.get("color") for node in nodes]


def test_an_ome_tiff_copy_says_its_label_images_are_not_kept(tmp_path):
    source = tmp_path / "in.ome.zarr"
    with_labels(source, "0.5")
    out = tmp_path / "out.ome.tif"
    done = subprocess.run([str(LIGHTMIC), "convert", str(source), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open_image(out) as copy:
        assert any("label images (nuclei) are not kept" in note for note in copy.scenes[0].notes)


def test_a_label_image_ngff_labels_cannot_hold_is_left_out_and_said(tmp_path):
    """A 2D float segmentation of a Z stack opens with the image; its copy keeps the image and
    the label images that fit, and names the one left out (the copy is not refused)."""
    import zarr
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_labels

    source = tmp_path / "in.ome.zarr"
    labels = with_labels(source, "0.5")
    root = zarr.open_group(str(source), mode="a")
    write_labels(np.ones((64, 64), np.float32), root, name="seg", axes="yx", fmt=FormatV05(),
                 scaler=None, scale_factors=[])
    with open_image(source) as opened:
        assert sorted(opened.scenes[0].labels) == ["nuclei", "seg"]
    out = tmp_path / "out.ome.zarr"
    done = subprocess.run([str(LIGHTMIC), "convert", str(source), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open_image(out) as copy:
        scene = copy.scenes[0]
        assert list(scene.labels) == ["nuclei"]
        np.testing.assert_array_equal(np.asarray(scene.labels["nuclei"]).squeeze(), labels)
        assert any("label image 'seg' (float32, shape (1, 1, 1, 64, 64)) is not kept" in note
                   for note in scene.notes), scene.notes
