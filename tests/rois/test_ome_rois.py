"""ROIs in OME-XML: read as OMERO and Fiji write them, written by the converters into
OME-TIFF and OME-Zarr, read back by tifffile and ome-types; the source never written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import ome_types
import pytest
import tifffile
from ome_types import model as ome

from napari_lightmic.rois import Roi
from napari_lightmic.rois.ome import same_place
from napari_lightmic.session import Session
from napari_lightmic.synthetic import cells, write_ome_tiff
from napari_lightmic.writing import convert, validate

RED, GREEN_HALF = -16776961, 16711808  # OME's signed RGBA integers: FF0000FF, 00FF0080


def every_kind() -> list[ome.ROI]:
    """One OME ROI per kind, the way OMERO and Fiji's exporter write them."""
    rois = [
        ome.ROI(id="ROI:1", name="cell", union=[ome.Rectangle(
            id="Shape:1", x=10, y=20, width=30, height=15, the_z=2, stroke_color=ome.Color(RED),
            fill_color=ome.Color(GREEN_HALF))]),
        ome.ROI(id="ROI:2", union=[ome.Ellipse(id="Shape:2", x=40, y=30, radius_x=8,
                                               radius_y=5, the_z=0, the_t=0, text="nucleus")]),
        ome.ROI(id="ROI:3", union=[ome.Polygon(id="Shape:3", points="1,1 20,2.5 11,18",
                                               the_c=1)]),
        ome.ROI(id="ROI:4", union=[ome.Polyline(id="Shape:4", points="5,5 10,7 15,5 20,9")]),
        ome.ROI(id="ROI:5", union=[ome.Line(id="Shape:5", x1=0.5, y1=1.5, x2=30, y2=40)]),
        ome.ROI(id="ROI:6", union=[ome.Point(id="Shape:6", x=12.5, y=13.5, the_z=3)]),
    ]
    return rois


EXPECTED = [
    Roi("rectangle", [(10, 20), (40, 35)], z=2, name="cell", stroke="#FF0000FF",
        fill="#00FF0080"),
    Roi("ellipse", [(32, 25), (48, 35)], z=0, t=0, name="nucleus"),
    Roi("polygon", [(1, 1), (20, 2.5), (11, 18)], c=1),
    Roi("polyline", [(5, 5), (10, 7), (15, 5), (20, 9)]),
    Roi("line", [(0.5, 1.5), (30, 40)]),
    Roi("point", [(12.5, 13.5)], z=3),
]


def with_rois(path: Path, rois: list[ome.ROI], link: bool = True) -> Path:
    """The OME-TIFF at `path` with these ROIs in its OME-XML (linked from its image)."""
    with tifffile.TiffFile(path) as tif:
        model = ome_types.from_xml(tif.ome_metadata)
    model.rois = rois
    if link:
        model.images[0].roi_refs = [ome.ROIRef(id=roi.id) for roi in rois]
    tifffile.tiffcomment(path, model.to_xml().encode("utf-8"))
    return path


@pytest.fixture
def image(tmp_path) -> Path:
    return write_ome_tiff(tmp_path / "cells.ome.tif", cells((4, 64, 64), 3))


def check(found, expected):
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        assert same_place(a, b), (a, b)
        assert (a.name, a.stroke, a.fill) == (b.name, b.stroke, b.fill)


def test_a_file_built_with_ome_types_holding_every_kind_reads(image):
    with Session.open(with_rois(image, every_kind())) as session:
        check(session.rois(0), EXPECTED)


def test_rois_without_a_link_belong_to_the_only_image(image):
    with Session.open(with_rois(image, every_kind(), link=False)) as session:
        check(session.rois(0), EXPECTED)


def test_a_turned_shape_is_placed_by_its_transform_and_labels_are_left_out(image):
    turn = ome.AffineTransform(a00=0, a01=-1, a02=100, a10=1, a11=0, a12=0)  # 90°, moved
    rois = [ome.ROI(id="ROI:1", union=[
        ome.Rectangle(id="Shape:1", x=0, y=0, width=10, height=4, transform=turn),
        ome.Label(id="Shape:2", x=1, y=1, text="a label"),
        ome.Point(id="Shape:3", x=2, y=3, transform=turn)])]
    with Session.open(with_rois(image, rois)) as session:
        found = session.rois(0)
    assert [r.kind for r in found] == ["polygon", "point"]
    assert found[0].points == ((100, 0), (100, 10), (96, 10), (96, 0))
    assert found[1].points == ((97, 2),)


@pytest.mark.parametrize("target", ["out.ome.tif", "out.ome.zarr"])
def test_added_rois_are_written_with_the_files_own_and_the_source_is_never_written(
        image, tmp_path, target):
    source = with_rois(image, every_kind()[:2])
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    added = [Roi("polygon", [(3, 3), (9, 3), (6, 8)], z=1, name="drawn", fill="#FFFF0040"),
             Roi("point", [(7.5, 8.5)], t=0)]
    with Session.open(source) as session:
        session.set_added_rois(0, added)
        session.save()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    out = convert(source, tmp_path / target).path
    assert validate(out) == []
    # read independently: tifffile's OME-XML, or the OME-Zarr's METADATA.ome.xml, by ome-types
    if target.endswith(".tif"):
        with tifffile.TiffFile(out) as tif:
            xml = tif.ome_metadata
    else:
        xml = (out / "OME" / "METADATA.ome.xml").read_text(encoding="utf-8")
    ome_types.validate_xml(xml)  # against the OME schema
    model = ome_types.from_xml(xml)
    assert [ref.id for ref in model.images[0].roi_refs] == [roi.id for roi in model.rois]
    assert len(model.rois) == 4
    with Session.open(out) as copy:
        check(copy.rois(0), [*EXPECTED[:2], *added])
    # converted again, the copy keeps its ROIs once (not the copy's and the source's)
    again = convert(out, tmp_path / f"again-{target}").path
    with Session.open(again) as copy:
        check(copy.rois(0), [*EXPECTED[:2], *added])


def test_a_scenes_rois_replace_the_files_own(image, tmp_path):
    from dataclasses import replace

    from napari_lightmic.writing import write

    source_path = with_rois(image, every_kind())
    with Session.open(source_path) as session:
        scene = session.effective_scene(0)
        mine = [Roi("line", [(1, 1), (2, 2)], name="only")]
        source = session.effective_source({0: replace(scene, rois=mine)})
        out = write(source, tmp_path / "replaced.ome.tif")
    with tifffile.TiffFile(out) as tif:
        model = ome_types.from_xml(tif.ome_metadata)
    assert [roi.name for roi in model.rois] == ["only"]
    assert len(model.images[0].roi_refs) == 1


def test_roi_model_refuses_what_is_no_roi():
    with pytest.raises(ValueError, match="takes 2 vertices"):
        Roi("rectangle", [(0, 0)])
    with pytest.raises(ValueError, match="not a kind"):
        Roi("circle", [(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="colour"):
        Roi("point", [(0, 0)], stroke="red")
    assert Roi("ellipse", [(0, 0), (4, 2)]).area == pytest.approx(np.pi * 2)
    assert Roi("polygon", [(0, 0), (4, 0), (4, 3)]).area == 6
    assert Roi.from_dict(Roi("point", [(1, 2)], z=3, fill="#112233").as_dict()) \
        == Roi("point", [(1, 2)], z=3, fill="#112233FF")


@pytest.mark.interop
def test_bioformats_reads_every_kind_written(image, tmp_path):
    """Bio-Formats 7.3 (showinf's OME-XML) finds every ROI of an OME-TIFF written here."""
    from tests.interop import envs
    from tests.interop.bioformats import image_info

    try:
        java, jar = envs.java(), envs.bioformats_jar()
    except envs.Unavailable as exc:
        pytest.skip(f"Bio-Formats unavailable: {exc}")
    with Session.open(image) as session:
        session.set_added_rois(0, EXPECTED)
        session.save()
    out = convert(image, tmp_path / "every-kind.ome.tif").path
    model = ome_types.from_xml(image_info(java, jar, out)["ome_xml"])
    assert len(model.images[0].roi_refs) == len(EXPECTED)
    from napari_lightmic.rois.ome import image_rois

    check(image_rois(model, 0).rois, EXPECTED)


@pytest.mark.parametrize("target", ["copy.ome.tif", "copy.ome.zarr"])
def test_each_scene_keeps_its_own_rois(tmp_path, target):
    source = tmp_path / "two.ome.tif"
    with tifffile.TiffWriter(source, ome=True) as tif:
        for k in range(2):
            tif.write(np.full((2, 32, 48), k, np.uint8), metadata={"axes": "CYX",
                                                                    "Name": f"s{k}"})
    second = [Roi("ellipse", [(2, 2), (10, 6)], name="only in s1")]
    with Session.open(source) as session:
        session.set_added_rois(1, second)
        session.save()
    out = convert(source, tmp_path / target).path
    with Session.open(out) as copy:
        assert [s.name for s in copy.source.scenes] == ["s0", "s1"]
        assert copy.rois(0) == () and list(copy.rois(1)) == second


CORPUS = Path(__file__).resolve().parents[1] / "data" / "ome-xml"


def test_rois_of_an_omero_export_and_of_the_ome_model_sample(tmp_path):
    """shape-union.ome.xml is an OMERO download (ROIs of the first image on planes 0-45;
    ROI:109 linked from no image); ROI.ome.xml is ome-model's sample of every shape."""
    from tests.reading.ome_xml_fixtures import build

    omero = build(CORPUS / "shape-union.ome.xml", tmp_path)
    with Session.open(omero.path) as session:
        found = session.rois(0)
    assert [(r.kind, r.z, r.t) for r in found] == [
        ("rectangle", 23, 0), ("point", 11, 0), ("point", 2, 0), ("point", 2, 0),
        ("point", 2, 0), ("line", 36, 0), ("polygon", 45, 0), ("polygon", 0, 0)]
    x, y = 57.124999999999844, 28.749999999999922
    assert same_place(found[0], Roi("rectangle", [(x, y), (x + 55.49999999999986,
                                                           y + 42.99999999999989)], z=23, t=0))
    assert (found[0].stroke, found[0].fill) == ("#FFFF00FF", "#FFFFFF00")  # -65281, -256
    assert found[-1].name == "this one has a comment" and len(found[-1].points) == 8

    (tmp_path / "sample").mkdir()
    sample = build(CORPUS / "ROI.ome.xml", tmp_path / "sample")
    with Session.open(sample.path) as session:
        found = session.rois(0)
    check(found, [
        Roi("point", [(1, 1)], c=0), Roi("line", [(1, 1), (2, 2)]),
        Roi("point", [(1, 1)], c=2, name="Hello", stroke="#00000001", fill="#00000001"),
        Roi("rectangle", [(1, 2), (4, 6)], name="Hi There!"),
        Roi("rectangle", [(3.82, 2.21), (5.32, 3.71)], name="Transformed")])
