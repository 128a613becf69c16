from pathlib import Path

import numpy as np
import pytest
from pylibCZIrw import czi as pyczi

from tests.conftest import real_file

TILE = 64
# (x, y) of the four tiles of scene 0: a 2x2 grid overlapping by 8 px.
TILE_XY = [(0, 0), (56, 0), (0, 56), (56, 56)]


def tile_values(t, c, z, i):
    return np.full((TILE, TILE), 1000 * (t + 1) + 100 * c + 10 * z + i, dtype=np.uint16)


@pytest.fixture
def mosaic_czi(tmp_path):
    """Two scenes: a 2x2 mosaic (T2 C2 Z3) and a single 32x48 tile far away."""
    path = tmp_path / "mosaic.czi"
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        for t in range(2):
            for c in range(2):
                for z in range(3):
                    plane = {"T": t, "C": c, "Z": z}
                    for i, (x, y) in enumerate(TILE_XY):
                        czi.write(tile_values(t, c, z, i)[..., None], location=(x, y),
                                  plane=plane, scene=0)
                    czi.write(np.full((32, 48, 1), 7, np.uint16), location=(1000, 500),
                              plane=plane, scene=1)
        czi.write_metadata(document_name="mosaic", channel_names={0: "DAPI", 1: "EGFP"},
                           scale_x=0.5e-6, scale_y=0.5e-6, scale_z=2e-6)
    return path


def test_synthetic_mosaic_scenes_sizes_and_channels(mosaic_czi, opened):
    source = opened(mosaic_czi)
    assert [s.shape for s in source.scenes] == [(2, 2, 3, 120, 120), (2, 2, 3, 32, 48)]
    first = source.scenes[0]
    assert first.dims == "TCZYX"
    assert first.channel_names == ["DAPI", "EGFP"]
    assert first.physical_pixel_sizes == pytest.approx({"Z": 2.0, "Y": 0.5, "X": 0.5})
    assert first.mosaic is not None and first.mosaic.tiles == 4
    assert source.scenes[1].mosaic is None
    # Stage positions place the second scene where it was acquired.
    assert source.scenes[1].stage_position == pytest.approx({"Y": 500 * 0.5, "X": 1000 * 0.5})


def test_mosaic_is_stitched_at_recorded_positions(mosaic_czi, opened):
    scene = opened(mosaic_czi).scenes[0]
    plane = np.asarray(scene.data[1, 1, 2])
    # Corners come from the four tiles; later tiles are drawn over the overlap.
    assert plane[0, 0] == tile_values(1, 1, 2, 0)[0, 0]
    assert plane[0, 119] == tile_values(1, 1, 2, 1)[0, 0]
    assert plane[119, 0] == tile_values(1, 1, 2, 2)[0, 0]
    assert plane[119, 119] == tile_values(1, 1, 2, 3)[0, 0]
    assert plane[60, 60] == tile_values(1, 1, 2, 3)[0, 0]


def test_a_region_reads_only_its_chunk(mosaic_czi, monkeypatch, opened):
    from napari_lightmic.reading.czi import CziHandle

    asked = []
    read = CziHandle.read
    monkeypatch.setattr(CziHandle, "read", lambda self, **kw: asked.append(kw) or read(self, **kw))
    monkeypatch.setattr("napari_lightmic.reading.czi.CHUNK_XY", 16)
    scene = opened(mosaic_czi).scenes[1]
    region = np.asarray(scene.data[0, 0, 0, 4:10, 5:9])
    assert region.shape == (6, 4) and (region == 7).all()
    # One 16 x 16 chunk of one plane, at the scene's place in the file.
    assert [(kw["roi"], kw["plane"]) for kw in asked] == [((1000, 500, 16, 16),
                                                         {"T": 0, "C": 0, "Z": 0})]


def test_missing_scaling_degrades_to_unknown(tmp_path, opened):
    path = tmp_path / "noscale.czi"
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        czi.write(np.arange(40 * 30, dtype=np.uint8).reshape(30, 40, 1), plane={"C": 0})
        czi.write_metadata(document_name="noscale")
    scene = opened(path).scenes[0]
    assert scene.physical_pixel_sizes == {"Z": None, "Y": None, "X": None}
    assert scene.units == {}
    assert np.asarray(scene.data)[0, 0, 0, 1, 0] == 40


def test_metadata_poor_real_file_still_opens(opened):
    source = opened(real_file("czi/DAPI_GFP.czi"))
    scene = source.scenes[0]
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.channel_colors == ["#0000FF", "#00FF00"]
    assert scene.physical_pixel_sizes["X"] is None
    assert np.asarray(scene.data[0, 1, 0]).max() > 0


def test_airyscan_phase_axis_is_kept(opened):
    scene = opened(real_file("czi/LSM880_AiryScan.czi")).scenes[0]
    assert scene.dims == "HTCZYX" and scene.sizes["H"] == 32
    phases = np.asarray(scene.data[:, 0, 0, 0])
    assert phases.shape == (32, 36, 38)
    # Each phase is that detector element's own plane, as libCZI reads it.
    with pyczi.open_czi(str(real_file("czi/LSM880_AiryScan.czi"))) as czi:
        for h in (0, 5, 31):
            np.testing.assert_array_equal(phases[h], czi.read(plane={"H": h, "C": 0})[..., 0])
    assert len({p.tobytes() for p in phases}) > 20
    # The second track's channels have the file's names, not placeholders.
    assert scene.channel_names[4:] == ["ChA-T1#", "ChA-T2#", "ChA-T3#", "ChA-T4#"]


def test_channel_colours_come_from_the_file(opened):
    scene = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")).scenes[0]
    assert scene.channel_colors == ["#FF7E00", "#00FF33"]
    assert scene.channels[0].emission_nm == pytest.approx(568)


def test_large_mosaics_get_downsampled_levels(mosaic_czi, monkeypatch, opened):
    from napari_lightmic import pyramid

    monkeypatch.setattr(pyramid, "COMPOSED_ABOVE", 100)
    monkeypatch.setattr(pyramid, "COMPOSED_SMALLEST", 30)
    scene = opened(mosaic_czi).scenes[0]
    assert [level.shape[-2:] for level in scene.levels] == [(120, 120), (60, 60), (30, 30)]
    half = np.asarray(scene.pyramid[0][1, 1, 2])
    # Each corner of the half-size level still shows its own tile.
    assert half[0, 0] == tile_values(1, 1, 2, 0)[0, 0]
    assert half[59, 59] == tile_values(1, 1, 2, 3)[0, 0]


def test_axes_that_do_not_start_at_zero(tmp_path, opened):
    path = tmp_path / "zrange.czi"
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        for z in (2, 3):
            czi.write(np.full((8, 8, 1), z * 10, np.uint16), plane={"Z": z, "C": 0})
    scene = opened(path).scenes[0]
    assert scene.sizes["Z"] == 2
    assert np.asarray(scene.data[0, 0, :, 0, 0]).tolist() == [20, 30]


def test_channels_of_different_pixel_types(tmp_path, opened):
    path = tmp_path / "mixed.czi"
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        czi.write(np.full((8, 8, 3), 50, np.uint8), plane={"C": 0})
        czi.write(np.full((8, 8, 1), 3000, np.uint16), plane={"C": 1})
    scene = opened(path).scenes[0]
    assert scene.dtype == "uint16" and scene.rgb
    assert np.asarray(scene.data[0, :, 0, 0, 0]).tolist() == [[50] * 3, [3000] * 3]


def test_rgb_czi_reads_red_green_blue(tmp_path, opened):
    path = tmp_path / "rgb.czi"
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 0], bgr[..., 2] = 10, 200  # blue 10, red 200 in libCZI's BGR order
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        czi.write(bgr, plane={"C": 0})
    scene = opened(path).scenes[0]
    assert scene.dims == "TCZYXS"
    assert np.asarray(scene.data[0, 0, 0, 0, 0]).tolist() == [200, 0, 10]


def test_close_releases_the_file(opened):
    import psutil

    path = real_file("czi/DAPI_GFP.czi")
    real = path.resolve()

    def handles():  # other tests' sources of the same file may be open too
        return sum(Path(f.path).resolve() == real for f in psutil.Process().open_files())

    before = handles()
    source = opened(path)
    np.asarray(source.scenes[0].data[0, 0, 0])
    assert handles() > before
    source.close()
    assert handles() == before


def test_display_settings_are_the_channels_display_ranges(opened):
    # ZEN stores Low/High as fractions of the pixel type's range (Gray16: 0..65535)
    scene = opened(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")).scenes[0]
    assert [c.contrast_limits for c in scene.channels] == [
        pytest.approx((133.456, 3778.191), abs=1e-3), pytest.approx((133.163, 3860.136), abs=1e-3)]
    # no Low: the black point is 0
    scene = opened(real_file("czi/WellD6-7_S2.czi")).scenes[0]
    assert scene.channels[0].contrast_limits == pytest.approx((0.0, 16383.75))


def test_zen_black_white_dye_takes_the_emission_colour(opened):
    channel = opened(real_file("czi/xyz__multiple_images.czi")).scenes[0].channels[0]
    # the only colours the file records are #FFFFFF (DisplaySetting, detector); the dye
    # (empty in the file) emits at 578.6 nm: yellow
    assert channel.emission_nm == pytest.approx(578.617841)
    assert channel.color == "#FAFF00"
    assert channel.contrast_limits == pytest.approx((10000.0, 22353.0), abs=1)


def test_airyscan_raw_h_axis_is_named(opened):
    scene = opened(real_file("czi/LSM880_AiryScan.czi")).scenes[0]
    assert scene.dims.startswith("H") and scene.axis_label("H") == "Airyscan detector element"
    assert scene.axis_letter("Airyscan detector element") == "H"
    assert any(note.startswith("Unprocessed Airyscan raw data") for note in scene.notes)
