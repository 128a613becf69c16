"""Exchange: QuPath's GeoJSON in and out, and a CSV of areas and mean intensities, through
the installed `lightmic rois` command; the vendor file is never written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from dataclasses import replace

import dask.array as da
import numpy as np
import ome_types
import pytest
import tifffile

from napari_lightmic.model import Channel, Scene
from napari_lightmic.rois import Roi
from napari_lightmic.rois.geojson import from_geojson, to_geojson
from napari_lightmic.rois.measure import means, rows
from napari_lightmic.session import Session
from napari_lightmic.synthetic import write_ome_tiff
from tests.test_cli import lightmic


def qupath_feature(geometry, name=None, classification=None, plane=None):
    """A Feature the way QuPath 0.5 exports an annotation (File > Export objects as GeoJSON,
    'Pretty JSON', full-resolution pixel coordinates)."""
    if plane is not None:
        geometry = {**geometry, "plane": plane}
    properties = {"objectType": "annotation", "isLocked": False}
    if name is not None:
        properties["name"] = name
    if classification is not None:
        properties["classification"] = classification
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": geometry,
            "properties": properties}


def qupath_geojson() -> dict:
    tumour = {"name": "Tumor", "color": [200, 0, 0]}
    return {"type": "FeatureCollection", "features": [
        # a rectangle: QuPath writes its four corners as a closed ring
        qupath_feature({"type": "Polygon", "coordinates": [[[10, 20], [40, 20], [40, 35],
                                                            [10, 35], [10, 20]]]},
                       name="box", classification=tumour, plane={"c": -1, "z": 2, "t": 0}),
        qupath_feature({"type": "Polygon", "coordinates": [[[1, 1], [20, 2.5], [11, 18],
                                                            [1, 1]]]},
                       classification={"name": "Stroma", "color": [0, 150, 0]}),
        qupath_feature({"type": "LineString", "coordinates": [[5, 5], [10, 7], [15, 5]]},
                       name="path"),
        qupath_feature({"type": "LineString", "coordinates": [[0.5, 1.5], [30, 40]]}),
        qupath_feature({"type": "MultiPoint", "coordinates": [[12.5, 13.5], [50, 51]]},
                       name="spots", plane={"c": -1, "z": 3, "t": 0}),
    ]}


QUPATH_ROIS = [
    Roi("rectangle", [(10, 20), (40, 35)], z=2, name="box", stroke="#C80000"),
    Roi("polygon", [(1, 1), (20, 2.5), (11, 18)], name="Stroma", stroke="#009600"),
    Roi("polyline", [(5, 5), (10, 7), (15, 5)], name="path"),
    Roi("line", [(0.5, 1.5), (30, 40)]),
    Roi("point", [(12.5, 13.5)], z=3, name="spots"),
    Roi("point", [(50, 51)], z=3, name="spots"),
]
# As read: QuPath names a plane's z and t together (t=0 on an image of one time point)
QUPATH_READ = [replace(r, t=0) if r.z is not None else r for r in QUPATH_ROIS]


@pytest.fixture
def image(tmp_path):
    data = np.zeros((3, 4, 64, 64), np.uint16)  # C Z Y X at 0.5 × 0.2 × 0.2 µm
    data[0, 2, 20:35, 10:40] = 100
    data[1] += 7
    return write_ome_tiff(tmp_path / "cells.ome.tif", data)


def test_qupath_geojson_reads():
    found = from_geojson(qupath_geojson())
    assert found.notes == ()
    assert list(found.rois) == QUPATH_READ


def test_import_keeps_rois_beside_the_file_and_convert_writes_them(image, tmp_path):
    path = tmp_path / "qupath.geojson"
    path.write_text(json.dumps(qupath_geojson(), indent=2))
    before = hashlib.sha256(image.read_bytes()).hexdigest()

    done = lightmic("rois", image, "--import-geojson", path)
    assert done.returncode == 0, done.stderr
    assert "6 ROI(s) imported into scene 0" in done.stderr
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before  # never written
    sidecar = json.loads(image.with_name(image.name + ".lightmic.json").read_text())
    assert len(sidecar["scenes"]["0"]["rois"]) == 6
    again = lightmic("rois", image, "--import-geojson", path)  # replaces, not adds
    assert again.returncode == 0, again.stderr

    listed = lightmic("rois", image, "--json")
    assert [Roi.from_dict(d) for d in json.loads(listed.stdout)] == QUPATH_ROIS

    out = tmp_path / "copy.ome.tif"
    assert lightmic("convert", image, out).returncode == 0
    with tifffile.TiffFile(out) as tif:
        model = ome_types.from_xml(tif.ome_metadata)
    assert len(model.rois) == len(model.images[0].roi_refs) == 6
    with Session.open(out) as copy:
        assert list(copy.rois(0)) == QUPATH_ROIS

    cleared = lightmic("rois", image, "--clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "no ROIs" in lightmic("rois", image).stdout


def test_export_geojson_reads_back(image, tmp_path):
    with Session.open(image) as session:
        session.set_added_rois(0, QUPATH_ROIS)
        session.save()
    out = tmp_path / "out.geojson"
    done = lightmic("rois", image, "--export-geojson", out)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert [f["geometry"]["type"] for f in data["features"]] == [
        "Polygon", "Polygon", "LineString", "LineString", "Point", "Point"]
    assert data["features"][0]["geometry"]["plane"] == {"c": -1, "z": 2, "t": 0}
    assert data["features"][0]["properties"]["color"] == [200, 0, 0]
    assert list(from_geojson(data).rois) == QUPATH_READ


def test_an_ellipse_exports_as_qupaths_polygon():
    ellipse = Roi("ellipse", [(0, 0), (20, 10)])
    [feature] = to_geojson([ellipse])["features"]
    ring = feature["geometry"]["coordinates"][0]
    assert len(ring) == 65 and ring[0] == ring[-1]
    area = from_geojson({"type": "Feature", **feature}).rois[0].area
    assert area == pytest.approx(ellipse.area, rel=0.01)


def test_csv_of_areas_in_square_micrometres_and_means_per_channel(image):
    with Session.open(image) as session:
        session.set_added_rois(0, [Roi("rectangle", [(10, 20), (40, 35)], z=2, name="bright"),
                                   Roi("ellipse", [(0, 0), (8, 4)]), Roi("point", [(5, 5)])])
        session.save()
    done = lightmic("rois", image, "--csv")
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [row["name"] for row in table] == ["bright", "", ""]
    bright, ellipse, point = table
    assert float(bright["area_um2"]) == pytest.approx(30 * 15 * 0.2 * 0.2)
    assert float(bright["mean_DAPI"]) == 100 and float(bright["mean_GFP"]) == 7
    assert float(ellipse["area_um2"]) == pytest.approx(np.pi * 4 * 2 * 0.04)
    assert float(ellipse["mean_DAPI"]) == 0 and float(point["mean_GFP"]) == 7
    assert bright["z"] == "2" and ellipse["z"] == ""


class Reads:
    """An array that records the boxes read from it."""

    def __init__(self, array):
        self.array, self.boxes = array, []
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, key):
        if all(k.stop > k.start for k in key):  # not dask's look at an empty corner
            self.boxes.append(key)
        return self.array[key]


def test_means_read_only_the_rois_bounding_box():
    pixels = np.arange(2 * 3 * 512 * 512, dtype=np.uint16).reshape(2, 3, 512, 512)
    reads = Reads(pixels)
    data = da.from_array(reads, chunks=(1, 1, 64, 64), asarray=False)
    scene = Scene(index=0, name="big", pixels=data, dims="CZYX",
                  physical_pixel_sizes={"Z": 1.0, "Y": 0.5, "X": 0.5},
                  units={"Z": "µm", "Y": "µm", "X": "µm"},
                  channels=[Channel("a", "#FF0000"), Channel("b", "#00FF00")])
    roi = Roi("rectangle", [(100, 130), (110, 140)], z=1)
    found = means(scene, roi)
    assert found == [pixels[c, 1, 130:140, 100:110].mean() for c in range(2)]
    # one 64 × 64 chunk per channel, on plane 1: not the 2 × 3 × 64 chunks of the image
    assert len(reads.boxes) == 2
    assert rows(scene, [roi])[0]["area_um2"] == 100 * 0.25


def test_the_listing_and_refusals(image, tmp_path):
    with Session.open(image) as session:
        session.set_added_rois(0, QUPATH_ROIS[:2])
        session.save()
    done = lightmic("rois", image)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "scene Image0: 2 ROI(s)"  # the name tifffile gave the image
    assert lines[1].split() == ["0", "rectangle", "z=2", "box", "x", "10–40,", "y", "20–35"]
    assert lines[2].split()[:4] == ["1", "polygon", "every", "plane"]

    wrong = lightmic("rois", image, "--csv", tmp_path / "areas.txt")
    assert wrong.returncode == 2 and "--csv writes a file named *.csv" in wrong.stderr
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    failed = lightmic("rois", image, "--import-geojson", broken)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith(f"lightmic: {broken}: is not JSON")
    assert len(lightmic("rois", image, "--json").stdout) > 2  # the ROIs kept, unchanged


def test_geojson_of_unexpected_shapes_is_read_as_far_as_it_can_be():
    """Values of the wrong JSON type leave their feature out with a note, never a crash."""
    from napari_lightmic.rois.geojson import from_geojson

    square = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 0]]]}
    got = from_geojson([
        {"type": "Feature", "geometry": dict(square, plane=[0]),
         "properties": {"classification": "Tumor"}},
        {"type": "Feature", "geometry": square, "properties": "x"},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": "here"}},
    ])
    assert len(got.rois) == 2 and got.rois[0].name is None
    assert any(note.startswith("feature 2:") for note in got.notes), got.notes


def test_geojson_nested_beyond_reading_is_refused_with_a_reason(tmp_path):
    from napari_lightmic.rois.geojson import read_geojson

    deep = tmp_path / "deep.geojson"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        read_geojson(deep)


def test_a_sidecar_roi_the_roi_model_refuses_is_a_sidecar_problem_not_a_crash(image, tmp_path):
    """The sidecar's ROIs follow the ROI model's rules: a polygon of two vertices (which the
    schema once let through) makes the sidecar unusable, said, and the file still opens."""
    from napari_lightmic.metadata.sidecar import sidecar_path

    with Session.open(image) as session:
        session.set_added_rois(0, QUPATH_ROIS[:1])
        session.save()
    path = sidecar_path(image)
    doc = json.loads(path.read_text())
    doc["scenes"]["0"]["rois"] = [{"kind": "polygon", "points": [[0, 0], [5, 5]]}]
    path.write_text(json.dumps(doc))
    with Session.open(image) as session:
        assert "polygon takes at least 3 vertices" in (session.sidecar_problem or "")
        assert session.effective_scene(0).rois is None  # the file's own, none
    done = lightmic("convert", image, tmp_path / "copy.ome.zarr")
    assert done.returncode == 0, done.stderr


def test_means_over_every_plane_are_summed_chunk_by_chunk(monkeypatch):
    """A ROI on every plane of a series: only the per-channel sums are made whole, never the
    box of every plane (which, for a long 2048² series as float64, is many GB)."""
    import napari_lightmic.scene.chunked as chunked

    data = da.ones((2, 64, 1024, 1024), dtype=np.uint16, chunks=(1, 1, 1024, 1024))
    scene = Scene(index=0, name="long", pixels=data, dims="CTYX",
                  physical_pixel_sizes={"Y": 0.5, "X": 0.5}, units={"Y": "µm", "X": "µm"},
                  channels=[Channel("a", "#FF0000"), Channel("b", "#00FF00")])
    made = []
    real = chunked.compute
    monkeypatch.setattr(chunked, "compute",
                        lambda array: made.append(array.shape) or real(array))
    assert means(scene, Roi("rectangle", [(0, 0), (1024, 1024)])) == [1.0, 1.0]
    assert made == [(2,)]
