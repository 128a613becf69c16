"""The plugin as a user meets it: files opened in a real napari viewer under Xvfb."""

import numpy as np
import pytest

from napari_lightmic._napari.view import view
from napari_lightmic.synthetic import write_ome_tiff
from tests.conftest import real_file

PLUGIN = "napari-lightmic"


def colormap_rgb(layer):
    return tuple(np.round(np.asarray(layer.colormap.colors[-1][:3]) * 255).astype(int))


def test_multichannel_czi_layers(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["LED555", "LED470"]
    # ZEN's display setting (a fraction of 0..65535), not percentiles nor the dtype's range
    assert tuple(layers[0].contrast_limits) == pytest.approx((0.0, 3921.0), rel=1e-4)
    assert tuple(layers[1].contrast_limits) == pytest.approx((0.0, 16368.0), rel=1e-4)
    assert colormap_rgb(layers[0]) == (0xFF, 0x7E, 0x00)
    assert colormap_rgb(layers[1]) == (0x00, 0xFF, 0x33)
    for layer in layers:
        assert layer.axis_labels == ("T", "Z", "Y", "X")
        assert layer.data.shape == (3, 5, 170, 240)
        np.testing.assert_allclose(layer.scale, [1, 0.32, 0.0905767, 0.0905767], rtol=1e-4)
        assert [str(u) for u in layer.units] == ["dimensionless", "micrometer", "micrometer",
                                                 "micrometer"]
        assert layer.blending == "additive"
        ref = layer.metadata["lightmic"]
        assert ref.session.source.format.name == "CZI"
        assert ref.session.source.ome.images[0].pixels.size_c == 2
        assert ref.session.path.endswith("CellDivision_T3_Z5_CH2_X240_Y170.czi")


def test_scene_count_is_announced_and_any_scene_opens(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    path = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    layers = viewer.open(path, plugin=PLUGIN)
    assert layers[0].data.shape[-2:] == (122, 295)
    assert any("3 scenes" in str(n.message) for n in notifications)
    more = view(path, scene="TR2", viewer=viewer)
    assert [layer.name for layer in more] == ["DAPI [TR2]", "EGFP [TR2]"]
    assert more[0].data.shape[-2:] == (237, 352)
    assert more[0].metadata["lightmic"].scene == 2


def test_multi_scene_toast_points_at_the_scenes_panel(make_napari_viewer, notifications):
    """A GUI user is told where to choose scenes, not what to type, and the panel is there,
    in front, even after the user closed it."""
    from tests.widgets.test_scenes import docked_picker

    viewer = make_napari_viewer()
    path = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    viewer.open(path, plugin=PLUGIN)
    said = [n for n in notifications if "scenes" in str(n.message)]
    assert len(said) == 1
    assert str(said[0].severity) == "info"
    assert str(said[0].message).startswith("3 scenes: choose in the Scenes panel")
    assert "S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi" in str(said[0].message)
    assert "0: TR1" in str(said[0].message)  # which one is showing
    for n in notifications:
        assert "view(" not in str(n.message) and "lightmic view" not in str(n.message)
    dock = viewer.window._wrapped_dock_widgets[f"Scenes ({PLUGIN})"]
    assert not dock.isHidden() and docked_picker(viewer) is not None
    dock.close()
    view(path, scene="TR2", viewer=viewer)  # another scene of the open file: no new toast
    assert len([n for n in notifications if "scenes" in str(n.message)]) == 1
    assert not dock.isHidden()  # the panel is back
    viewer.layers.clear()
    dock.close()
    viewer.open(path, plugin=PLUGIN)  # the file again, after its layers were closed
    assert len([n for n in notifications if "scenes" in str(n.message)]) == 2
    assert not dock.isHidden()


def test_lif_xz_scan_shows_z_vertically(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("lif/testdata_2channel_xz.lif"), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["Leica/FITC [xzt]", "Leica/TRITC [xzt]"]
    assert layers[0].axis_labels == ("T", "Z", "X")
    assert layers[0].scale[1] == pytest.approx(0.1402787, rel=1e-4)


def test_rgb_tiff_is_an_rgb_layer(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("tiff/Fluorescence_RGB.tif"), plugin=PLUGIN)
    assert len(layers) == 1 and layers[0].rgb
    assert layers[0].data.shape == (272, 275, 3)


def test_ome_tiff_opens_with_this_plugin_when_asked(make_napari_viewer, tmp_path):
    path = write_ome_tiff(tmp_path / "cells.ome.tif",
                          np.zeros((2, 3, 32, 32), np.uint16), physical=(1.0, 0.5, 0.5))
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    assert layers[0].scale[-1] == 0.5


def test_bad_file_is_a_notification_not_an_exception(make_napari_viewer, tmp_path,
                                                     notifications):
    bad = tmp_path / "broken.czi"
    bad.write_bytes(b"ZISRAWFILE" + b"\0" * 50)
    viewer = make_napari_viewer()
    layers = viewer.open(bad, plugin=PLUGIN)
    assert layers == []
    errors = [n for n in notifications if "broken.czi" in str(n.message)]
    assert errors and errors[0].severity == "error"


def test_proprietary_advice_is_said_once_per_format_at_info_level(make_napari_viewer,
                                                                   notifications):
    """The keep-a-copy advice: an info toast the first time a format is opened, not a warning
    on every file."""
    viewer = make_napari_viewer()
    for relpath in ("nd2/example-zstack.nd2", "nd2/example-multichannel.nd2",
                    "czi/DAPI_GFP.czi", "nd2/example-zstack.nd2", "czi/DAPI_GFP.czi"):
        viewer.layers.clear()  # file after file, as a user looks through a folder
        viewer.open(real_file(relpath), plugin=PLUGIN)
    advice = [n for n in notifications if "OME-TIFF or OME-Zarr" in str(n.message)]
    assert [str(n.severity) for n in advice] == ["info", "info"]
    assert str(advice[0].message).startswith("ND2 is a proprietary")
    assert str(advice[1].message).startswith("CZI is a proprietary")
    assert not [n for n in notifications if str(n.severity) in ("warning", "error")]
    assert all("Metadata" in str(n.message) for n in advice)  # where it stays


def test_a_sidecar_that_cannot_be_used_stays_a_warning(make_napari_viewer, tmp_path,
                                                       notifications):
    """The user's own saved edits being ignored is worth a warning, on an open file too."""
    path = write_ome_tiff(tmp_path / "cells.ome.tif", np.zeros((2, 3, 16, 16), np.uint16))
    path.with_name(path.name + ".lightmic.json").write_text("{not json")
    make_napari_viewer().open(path, plugin=PLUGIN)
    assert [(str(n.severity), "not valid JSON" in str(n.message))
            for n in notifications] == [("warning", True)]


def test_single_scene_open_format_is_silent(make_napari_viewer, tmp_path, notifications):
    path = write_ome_tiff(tmp_path / "cells.ome.tif", np.zeros((2, 3, 16, 16), np.uint16))
    make_napari_viewer().open(path, plugin=PLUGIN)
    assert notifications == []


def test_screenshot_vendor_file_with_the_quiet_info_toast(make_napari_viewer, qtbot,
                                                         notifications):
    """A multi-scene CZI as first opened: info toasts only, stacked in the canvas corner (the
    CZI advice, said once, above the scenes' toast) beside the Scenes panel they name."""
    from qtpy.QtCore import QAbstractAnimation

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    viewer.open(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"), plugin=PLUGIN)
    viewer.reset_view()
    assert [str(n.severity) for n in notifications] == ["info", "info"]
    toasts = toasts_on(viewer)
    assert [t.message.text()[:24] for t in toasts] == ["CZI is a proprietary acq",
                                                       "3 scenes: choose in the "]
    window = viewer.window._qt_window
    for toast in toasts:
        toast.timer_stop()  # keep them up for the picture
        qtbot.waitUntil(lambda t=toast: t.opacity_anim.state()
                        == QAbstractAnimation.State.Stopped
                        and t.geom_anim.state() == QAbstractAnimation.State.Stopped)
        canvas = toast.parentWidget()
        assert canvas.rect().contains(toast.geometry()), (canvas.rect(), toast.geometry())
    advice, scenes = (t.geometry() for t in toasts)
    assert not advice.intersects(scenes) and advice.bottom() < scenes.top()  # both readable
    shot = viewer.screenshot(canvas_only=False, flash=False)
    assert shot.shape[:2] == (window.height(), window.width())
    # toasts float over the GL canvas, which a window grab may leave out: put them in
    for toast in toasts:
        corner = toast.mapTo(window, toast.rect().topLeft())
        picture = _rgba(toast.grab())
        h, w = picture.shape[:2]
        shot[corner.y():corner.y() + h, corner.x():corner.x() + w] = picture
    _keep(shot, "napari-open-quiet.png")


def test_toasts_of_a_file_go_when_the_next_file_opens(make_napari_viewer, tmp_path):
    """The plugin's toasts for one file do not stay under those of the next, nor after a
    file with nothing to say."""
    def shown():
        return [t.message.text()[:12] for t in toasts_on(viewer)]

    viewer = make_napari_viewer(show=True)
    viewer.open(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"), plugin=PLUGIN)
    assert shown() == ["CZI is a pro", "3 scenes: ch"]
    viewer.layers.clear()
    viewer.open(real_file("lif/LeicaLASX_wavelength-sweep_example.lif"), plugin=PLUGIN)
    assert shown() == ["LIF is a pro", "3 scenes: ch"]
    viewer.layers.clear()
    viewer.open(write_ome_tiff(tmp_path / "cells.ome.tif", np.zeros((2, 3, 16, 16), np.uint16)),
                plugin=PLUGIN)
    assert shown() == []


def toasts_on(viewer):
    """The toasts showing on the viewer's canvas, oldest first."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    canvas = viewer.window._qt_viewer.canvas.native
    return [t for t in canvas.findChildren(NapariQtNotification) if t.isVisible()]


def _rgba(pixmap):
    """A QPixmap as an RGBA uint8 array."""
    from qtpy.QtGui import QImage

    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :image.width()].copy()


def test_opening_reads_a_few_planes_not_the_file(make_napari_viewer, tmp_path):
    """A 256 MiB OME-TIFF of 8 MiB planes opens by reading a few planes: contrast
    estimates and the displayed slice of each channel."""
    import psutil
    import tifffile

    path = tmp_path / "big.ome.tif"
    planes = (np.full((2048, 2048), i, np.uint16) for i in range(32))
    tifffile.imwrite(path, planes, shape=(2, 16, 2048, 2048), dtype=np.uint16, ome=True,
                     metadata={"axes": "CZYX"})
    assert path.stat().st_size > 256 * 2**20
    viewer = make_napari_viewer()
    before = psutil.Process().io_counters().read_chars
    layers = viewer.open(path, plugin=PLUGIN)
    read = psutil.Process().io_counters().read_chars - before
    assert len(layers) == 2 and layers[0].data.shape == (16, 2048, 2048)
    assert read < 64 * 2**20, f"{read / 2**20:.0f} MiB read to open a 256 MiB file"


def test_screenshot_multichannel_czi_with_scale_bar(make_napari_viewer, tmp_path):
    """What a user sees: the CZI in its channel colours with a scale bar in µm."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    viewer.open(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"), plugin=PLUGIN)
    viewer.canvas.overlays.scale_bar.visible = True  # napari 0.9's place for it
    viewer.dims.set_current_step(1, 2)
    viewer.reset_view()
    shot = viewer.screenshot(str(tmp_path / "czi.png"), canvas_only=True, flash=False)
    rgb = shot[..., :3].astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    green = (g > 120) & (r < 80) & (b < 110)          # LED470, #00FF33
    orange = (r > 120) & (g > 30) & (g < r) & (b < 60)  # LED555, #FF7E00
    assert green.mean() > 0.01 and orange.mean() > 0.005
    h, w = r.shape
    corner = rgb[int(h * 0.85):, int(w * 0.7):]
    assert (corner.min(axis=-1) > 200).sum() > 50  # the white scale bar and its label
    assert str(viewer.layers[0].units[-1]) == "micrometer"
    _keep(shot, "napari-czi-scalebar.png")


def _keep(shot, name):
    """Store a screenshot for the README when LIGHTMIC_SCREENSHOTS names a folder."""
    import os

    folder = os.environ.get("LIGHTMIC_SCREENSHOTS")
    if folder:
        from PIL import Image

        os.makedirs(folder, exist_ok=True)
        Image.fromarray(shot).save(os.path.join(folder, name))


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_folder_opens_with_windows_as_contrast(make_napari_viewer, tmp_path, version):
    from tests.reading.zarr_fixtures import write_ome_zarr

    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, version)
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    assert tuple(layers[1].contrast_limits) == (20.0, 800.0)
    assert colormap_rgb(layers[0]) == (0, 0, 255)
    np.testing.assert_allclose(layers[0].scale, [2.0, 0.25, 0.25])


def test_bigdataviewer_opens_as_multiscale(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("hdf5/bdv/demoSlice.xml"), plugin=PLUGIN)
    assert len(layers) == 1 and layers[0].multiscale
    assert [level.shape for level in layers[0].data] == [(397, 580), (99, 145)]
    assert layers[0].data[0].dtype == np.uint16


def test_only_bigdataviewer_xml_is_claimed(tmp_path):
    from napari_lightmic._napari.reader import get_reader

    other = tmp_path / "settings.xml"
    other.write_text("<config/>")
    assert get_reader(str(other)) is None
    assert get_reader(str(real_file("hdf5/bdv/demoSlice.xml"))) is not None


def test_float_image_with_nan_opens(make_napari_viewer, tmp_path):
    data = np.random.default_rng(0).random((2, 32, 32)).astype(np.float32)
    data[0, :4] = np.nan
    path = write_ome_tiff(tmp_path / "ratio.ome.tif", data, axes="CYX", physical=(1, 1, 1))
    layers = make_napari_viewer().open(path, plugin=PLUGIN)
    low, high = layers[0].contrast_limits
    assert np.isfinite([low, high]).all() and 0 <= low < high <= 1


def test_layers_of_files_in_other_units_overlay(make_napari_viewer, tmp_path):
    """An OME-TIFF recorded in nm and one in µm show in one unit, at the same size."""
    import tifffile

    viewer = make_napari_viewer()
    for name, unit, size in (("nm.ome.tif", "nm", 65.0), ("um.ome.tif", "µm", 0.065)):
        tifffile.imwrite(tmp_path / name, np.zeros((2, 16, 16), np.uint16), ome=True,
                         metadata={"axes": "ZYX", "PhysicalSizeX": size,
                                   "PhysicalSizeXUnit": unit, "PhysicalSizeY": size,
                                   "PhysicalSizeYUnit": unit, "PhysicalSizeZ": 0.3})
        viewer.open(tmp_path / name, plugin=PLUGIN)
    a, b = viewer.layers
    assert list(a.scale) == pytest.approx([0.3, 0.065, 0.065])
    assert list(b.scale) == pytest.approx([0.3, 0.065, 0.065])
    assert [str(u) for u in a.units] == [str(u) for u in b.units] == ["micrometer"] * 3


def test_an_ngff_folder_without_a_zarr_name_reaches_the_reader(make_napari_viewer, tmp_path):
    # npe2 offers every folder to readers that accept folders, whatever its name: the
    # plugin's get_reader takes the folders with NGFF metadata and no other
    import zarr
    from napari.plugins._npe2 import get_readers

    from napari_lightmic._napari.reader import get_reader
    from tests.reading.zarr_fixtures import write_ome_zarr

    path = tmp_path / "field"
    write_ome_zarr(path, "0.5")
    assert PLUGIN in get_readers(str(path))
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    np.testing.assert_allclose(layers[0].scale, [2.0, 0.25, 0.25])
    zarr.open_group(str(tmp_path / "table"), mode="w", zarr_format=3)
    (tmp_path / "plain").mkdir()
    assert get_reader(str(tmp_path / "table")) is None
    assert get_reader(str(tmp_path / "plain")) is None
