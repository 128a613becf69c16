"""ROIs drawn in napari, saved with the image through napari's own save paths, and opened
again in a new viewer at the same place; ROIs of a file shown over its image, z-aware.

The sample image is C 3 × Z 16 × Y 256 × X 256 at 0.5 × 0.2 × 0.2 µm. Coordinates are
multiples of 1/4 µm, exact in napari's float32 vertices, so a round trip compares within
1e-6 µm.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import ome_types
import pytest
import tifffile

from napari_lightmic.rois import Roi
from napari_lightmic.rois.ome import same_place
from napari_lightmic.session import Session
from napari_lightmic.writing import validate
from tests.rois.test_ome_rois import EXPECTED, every_kind, with_rois

from .test_menus import SAVE_AS, click, dialogs, messages, no_exceptions, sample_viewer

__all__ = ["dialogs"]  # the fixture that answers Qt's dialogs

PLUGIN = "napari-lightmic"
TIMEOUT = 60_000


def world(layer) -> list[np.ndarray]:
    """Each shape's (or point's) vertices in world coordinates (µm), float64."""
    scale, translate = np.asarray(layer.scale), np.asarray(layer.translate)
    if layer._type_string == "points":
        return [np.asarray(p, float) * scale + translate for p in layer.data]
    return [np.asarray(s, float) * scale + translate for s in layer.data]


def draw(viewer):
    """Every kind of shape on two planes, one on every plane, and points, the way napari's
    layer buttons make them (a layer of the viewer's dims; here in world units, scale 1)."""
    z3, z5 = 3 * 0.5, 5 * 0.5  # planes 3 and 5, in µm
    shapes = viewer.add_shapes(
        [np.array([[z3, 10, 12.5], [z3, 10, 20], [z3, 17.5, 20], [z3, 17.5, 12.5]]),
         np.array([[z5, 30, 30], [z5, 30, 40], [z5, 35, 40], [z5, 35, 30]]),
         np.array([[z3, 1.25, 1.25], [z3, 5, 2.5], [z3, 2.5, 7.5]]),
         np.array([[z5, 40, 40], [z5, 42.5, 45], [z5, 40, 47.5]]),
         np.array([[z3, 0.25, 0.5], [z3, 25, 25]])],
        shape_type=["rectangle", "ellipse", "polygon", "path", "line"], ndim=3,
        edge_color=["red", "blue", "green", "yellow", "magenta"],
        face_color=[[0, 1, 0, 0.5], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        features={"name": ["cell 1", "nucleus", "", "track", "cut"]}, name="drawn")
    every_plane = viewer.add_shapes(
        [np.array([[20, 20], [20, 25], [22.5, 25], [22.5, 20]])], shape_type="rectangle",
        name="background", edge_color="cyan")
    # points made with the image's own scale (napari's "new points layer" button)
    points = viewer.add_points(np.array([[2, 50, 60], [7, 100, 125]]),
                               scale=viewer.layers[0].scale, face_color="orange",
                               features={"name": ["spot a", "spot b"]}, name="spots")
    return [shapes, every_plane, points]


def kind_of(layer):
    return "points" if layer._type_string == "points" else layer.shape_type


def check_same_place(drawn, reopened):
    """Every drawn shape and point is in the reopened layers at the same world place."""
    by_name = {layer.name: layer for layer in reopened}
    assert set(by_name) == {"ROIs", "ROIs (every plane)", "ROI points"}, list(by_name)
    pairs = [(drawn[0], by_name["ROIs"]), (drawn[1], by_name["ROIs (every plane)"]),
             (drawn[2], by_name["ROI points"])]
    for before, after in pairs:
        assert kind_of(before) == kind_of(after)
        old, new = world(before), world(after)
        assert len(old) == len(new)
        for a, b in zip(old, new):
            np.testing.assert_allclose(b, a, atol=1e-6, rtol=0)
    assert list(by_name["ROIs"].features["name"]) == ["cell 1", "nucleus", "", "track", "cut"]
    assert by_name["ROIs"].ndim == 3 and by_name["ROIs (every plane)"].ndim == 2
    np.testing.assert_allclose(by_name["ROIs"].edge_color[0], [1, 0, 0, 1])
    np.testing.assert_allclose(by_name["ROIs"].face_color[0], [0, 1, 0, 0.5], atol=1 / 255)


def shapes_of(model) -> list[tuple[str, str | None, int | None]]:
    """(OME shape kind, ROI name, TheZ) of every shape of an OME model's ROIs."""
    return [(type(shape).__name__, roi.name, shape.the_z) for roi in model.rois
            for group in ("rectangles", "ellipses", "polygons", "polylines", "lines", "points")
            for shape in getattr(roi.union, group)]


def ome_xml_of(target):
    if str(target).endswith(".zarr"):
        return (target / "OME" / "METADATA.ome.xml").read_text(encoding="utf-8")
    with tifffile.TiffFile(target) as tif:  # an independent reader of the header
        return tif.ome_metadata


@pytest.mark.parametrize("how", ["layers.save", "File menu"])
@pytest.mark.parametrize(("extension", "writer"), [(".ome.zarr", "OME-Zarr (lightmic)"),
                                                   (".ome.tif", "OME-TIFF (lightmic)")])
def test_drawn_shapes_and_points_saved_with_the_image_reopen_at_the_same_place(
        extension, writer, how, make_napari_viewer, tmp_path, dialogs, notifications):
    from napari.plugins._npe2 import file_extensions_string_for_layers

    viewer = sample_viewer(make_napari_viewer)
    drawn = draw(viewer)
    target = tmp_path / f"drawn{extension}"
    viewer.layers.select_all()  # the image's layers with the Shapes and Points layers
    if how == "layers.save":
        assert viewer.layers.save(str(target), selected=True, plugin=PLUGIN) == [str(target)]
    else:  # File > Save Selected Layers…, the writer chosen by its filter in the dialog
        filters, _ = file_extensions_string_for_layers(list(viewer.layers))
        [choice] = [f for f in filters.split(";;") if writer in f]
        dialogs.save = (str(target), choice)
        click(viewer.window.file_menu, "napari.window.file.save_layers_dialog.selected")
        assert target.exists()

    assert validate(target) == []
    xml = ome_xml_of(target)
    ome_types.validate_xml(xml)  # against the OME schema
    model = ome_types.from_xml(xml)
    assert [ref.id for ref in model.images[0].roi_refs] == [roi.id for roi in model.rois]
    found = sorted((kind, name or "", z if z is not None else -1)
                   for kind, name, z in shapes_of(model))
    assert found == sorted([
        ("Rectangle", "cell 1", 3), ("Ellipse", "nucleus", 5), ("Polygon", "", 3),
        ("Polyline", "track", 5), ("Line", "cut", 3), ("Rectangle", "background", -1),
        ("Point", "spot a", 2), ("Point", "spot b", 7)])

    reopened = make_napari_viewer().open(target, plugin=PLUGIN)
    rois = [layer for layer in reopened if layer._type_string in ("shapes", "points")]
    check_same_place(drawn, rois)
    no_exceptions(notifications)


def test_rois_in_a_file_show_over_its_image_on_their_planes(make_napari_viewer, tmp_path):
    path = with_rois(write_sample(tmp_path), every_kind())
    viewer = make_napari_viewer()
    viewer.open(path, plugin=PLUGIN)
    layers = {layer.name: layer for layer in viewer.layers}
    image = layers["DAPI"]
    shapes, points = layers["ROIs"], layers["ROI points"]
    assert shapes.axis_labels[-2:] == ("Y", "X") and points.ndim == 3
    # the rectangle (10, 20)-(40, 35) px on plane 2: its corners' world place, half a
    # pixel off napari's pixel centres
    rect = world(shapes)[list(shapes.shape_type).index("rectangle")]
    z, y, x = image.scale
    np.testing.assert_allclose(rect[0], [2 * z, 19.5 * y, 9.5 * x])
    np.testing.assert_allclose(rect[2], [2 * z, 34.5 * y, 39.5 * x])
    np.testing.assert_allclose(world(points)[0], [3 * z, 13 * y, 12 * x])
    # ROIs on every plane in a layer of Y and X alone
    assert layers["ROIs (every plane)"].ndim == 2
    assert set(layers["ROIs (every plane)"].shape_type) == {"polygon", "path", "line"}


def write_sample(tmp_path):
    from napari_lightmic.synthetic import cells, write_ome_tiff

    return write_ome_tiff(tmp_path / "cells.ome.tif", cells((4, 64, 64), 3))


def test_save_as_ome_zarr_from_the_file_menu_keeps_the_rois_shown(
        make_napari_viewer, qtbot, tmp_path, dialogs, notifications):
    path = with_rois(write_sample(tmp_path), every_kind())
    viewer = make_napari_viewer()
    viewer.open(path, plugin=PLUGIN)
    shapes = viewer.layers["ROIs"]
    shapes.selected_data = {list(shapes.shape_type).index("rectangle")}
    shapes.remove_selected()  # the user deletes a ROI of the file...
    mine = viewer.add_points([[1, 32, 32]], scale=viewer.layers["DAPI"].scale, name="mine")
    viewer.layers.selection.active = viewer.layers["DAPI"]
    viewer.layers.selection.add(mine)  # ...and adds one, selected with the image
    dialogs.save = (str(tmp_path / "copy"), "OME-Zarr (*.ome.zarr)")
    click(viewer.window.file_menu, SAVE_AS, "napari/file/io_utilities")
    target = tmp_path / "copy.ome.zarr"
    qtbot.waitUntil(lambda: f"Saved {target}" in messages(notifications), timeout=TIMEOUT)

    with Session.open(target) as copy:
        found = copy.rois(0)
    # T (of size one) is no axis of the layers: the ellipse's TheT is not kept
    want = [replace(r, t=None) for r in EXPECTED if r.kind != "rectangle"] \
        + [Roi("point", [(32.5, 32.5)], z=1, name="mine")]
    assert sorted(r.kind for r in found) == sorted(r.kind for r in want)
    for roi in want:
        assert any(same_place(roi, f) for f in found), roi
    no_exceptions(notifications)


def test_roi_layers_follow_the_scenes_pixel_sizes(make_napari_viewer, tmp_path):
    path = with_rois(write_sample(tmp_path), every_kind())
    viewer = make_napari_viewer()
    viewer.open(path, plugin=PLUGIN)
    session = viewer.layers["DAPI"].metadata["lightmic"].session
    session.edit("scenes.0.physical_pixel_sizes.X", "0.4")  # as the Metadata dock does
    for name in ("DAPI", "ROIs", "ROIs (every plane)", "ROI points"):
        assert viewer.layers[name].scale[-1] == pytest.approx(0.4), name


def test_layer_data_round_trip_over_a_time_series_with_a_translated_image():
    """ROIs -> napari LayerData -> ROIs over a T, Z, Y, X image placed off the origin; a
    turned rectangle drawn in napari is kept as its polygon."""
    from napari_lightmic._napari.rois import Frame, roi_layer_data, rois_of_layer

    frame = Frame.of("TZYX", [2.0, 0.5, 0.2, 0.25], [10.0, -3.0, 100.0, 50.0])
    rois = [Roi("rectangle", [(1, 2), (5, 9)], t=1, z=2, name="a", stroke="#FF0000FF"),
            Roi("ellipse", [(3, 3), (9, 5)], t=2, z=0, fill="#00FF0080"),
            Roi("polyline", [(1, 1), (4, 5), (8, 1)], c=1),
            Roi("point", [(7.5, 8.5)], t=0, z=3, name="p")]
    layers = roi_layer_data(rois, frame)
    assert [(kind, len(np.asarray(data[0])) and meta["axis_labels"])
            for data, meta, kind in layers] == [
        ("shapes", ["T", "Z", "Y", "X"]), ("shapes", ["Y", "X"]),
        ("points", ["T", "Z", "Y", "X"])]
    back = [roi for data, meta, kind in layers for roi in rois_of_layer(data, meta, kind,
                                                                        frame)]
    assert len(back) == len(rois)
    for roi in rois:  # colours where none was given: napari's layers got the plugin's
        point = roi.kind == "point"
        shown = (roi.name, roi.stroke or ("#000000FF" if point else "#FFFF00FF"),
                 roi.fill or ("#FFFF00FF" if point else "#00000000"))
        assert any(same_place(roi, b) and (b.name, b.stroke, b.fill) == shown
                   for b in back), roi
    # a rectangle turned by 90° about its centre in napari's data coordinates stays upright
    # (a rectangle); one turned by 45° becomes the polygon of its corners
    turned = np.array([[0, 0, 10, 10], [0, 0, 12, 12], [0, 0, 10, 14], [0, 0, 8, 12]])
    [polygon] = rois_of_layer([turned], {"shape_type": ["rectangle"], "scale": frame.scale,
                                         "translate": frame.translate}, "shapes", frame)
    assert polygon.kind == "polygon" and len(polygon.points) == 4
    assert polygon.points[1] == pytest.approx((12.5, 12.5))


def test_screenshot_of_rois_over_their_image(make_napari_viewer, tmp_path):
    """What a user sees: an OME-TIFF's ROIs (a rectangle and an ellipse on plane 8, a
    polygon on every plane, two points) over its channels, named."""
    from ome_types import model as ome

    from napari_lightmic.synthetic import cells, write_ome_tiff

    from .test_reader import _keep

    path = write_ome_tiff(tmp_path / "cells.ome.tif", cells())
    yellow, cyan, white = ome.Color("yellow"), ome.Color("cyan"), ome.Color("white")
    rois = [
        ome.ROI(id="ROI:1", name="cell A", union=[ome.Rectangle(
            id="Shape:1", x=40, y=50, width=70, height=60, the_z=8, stroke_color=yellow)]),
        ome.ROI(id="ROI:2", name="cell B", union=[ome.Ellipse(
            id="Shape:2", x=180, y=170, radius_x=40, radius_y=28, the_z=8,
            stroke_color=cyan)]),
        ome.ROI(id="ROI:3", name="region", union=[ome.Polygon(
            id="Shape:3", points="20,200 90,180 120,240 30,250", stroke_color=white)]),
        ome.ROI(id="ROI:4", union=[ome.Point(id="Shape:4", x=200, y=60, the_z=8)]),
        ome.ROI(id="ROI:5", union=[ome.Point(id="Shape:5", x=150, y=100, the_z=8)]),
    ]
    with_rois(path, rois)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    viewer.open(path, plugin=PLUGIN)
    assert [layer.name for layer in viewer.layers][-3:] == [
        "ROIs", "ROIs (every plane)", "ROI points"]
    viewer.dims.set_current_step(0, 8)
    viewer.reset_view()
    shot = viewer.screenshot(str(tmp_path / "rois.png"), canvas_only=True, flash=False)
    rgb = shot[..., :3].astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # the outlines (two pixels wide) in their colours; the yellow points alone take ~600 px
    assert ((r > 150) & (g > 150) & (b < 80)).sum() > 1500   # the yellow rectangle
    assert ((g > 150) & (b > 150) & (r < 80)).sum() > 1500   # the cyan ellipse
    _keep(shot, "napari-rois.png")
