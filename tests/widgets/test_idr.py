import pytest

from napari_lightmic.reading import remote
from napari_lightmic.widgets.idr import OpenFromIDR
from tests.reading.zarr_fixtures import write_ome_zarr


def test_open_from_idr_loads_off_the_main_thread(make_napari_viewer, qtbot, zarr_server,
                                                 tmp_path):
    base, _ = zarr_server
    write_ome_zarr(tmp_path / "777.ome.zarr", "0.5")
    viewer = make_napari_viewer()
    widget = OpenFromIDR(viewer)
    widget.template.value = base + "/{image_id}.ome.zarr"
    widget.image_id.value = "777"
    widget.button.clicked.emit()
    # the click returns at once; the result reaches the viewer through the event loop
    assert len(viewer.layers) == 0 and widget.status.value.startswith("Opening")
    qtbot.waitUntil(lambda: len(viewer.layers) == 2, timeout=20000)
    assert [layer.name for layer in viewer.layers] == ["DAPI", "GFP"]
    assert "1 scene" in widget.status.value


def test_bad_id_is_reported_not_raised(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    widget = OpenFromIDR(viewer)
    widget.image_id.value = "not-a-number"
    widget.open()
    assert len(viewer.layers) == 0
    assert any("a number" in str(n.message) for n in notifications)


def test_url_template_default_is_the_setting(make_napari_viewer, monkeypatch):
    monkeypatch.setattr(remote, "IDR_URL_TEMPLATE", "https://mirror.example/{image_id}.zarr")
    widget = OpenFromIDR(make_napari_viewer())
    assert widget.template.value == "https://mirror.example/{image_id}.zarr"
    widget.image_id.value = " 42 "
    assert widget.target() == "https://mirror.example/42.zarr"
    widget.image_id.value = "https://elsewhere.example/a.ome.zarr"
    assert widget.target() == "https://elsewhere.example/a.ome.zarr"
    with pytest.raises(ValueError):
        remote.idr_url("12a")
