import subprocess
import sys
from pathlib import Path


def test_npe2_validate_passes_on_the_installed_package():
    npe2 = Path(sys.executable).with_name("npe2")
    result = subprocess.run([str(npe2), "validate", "napari-lightmic"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout and "invalid" not in result.stdout


def test_installed_package_carries_the_manifest():
    from importlib.resources import files

    manifest = files("napari_lightmic").joinpath("napari.yaml").read_text()
    assert manifest == (Path(__file__).parents[1] / "napari.yaml").read_text()


def test_sample_data_opens_through_the_reader(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-lightmic", "cells")
    assert [layer.name for layer in viewer.layers] == ["DAPI", "GFP", "mCherry"]
    assert viewer.layers[0].scale[-1] == 0.2
