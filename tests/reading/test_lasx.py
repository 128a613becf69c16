"""Leica LAS X projects (LOF, XLIF, XLEF) on files built in tests/reading/vendor_fixtures.py:
liffile reads each fixture as written, and the plugin gives the scenes, sizes, channels,
acquisition facts, privacy findings and the very pixels written, memory-mapped where the
pixels are in a LOF."""

from __future__ import annotations

import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.metadata.privacy import scan
from tests.reading.vendor_fixtures import (
    PIXEL_UM,
    USER_FOLDER,
    Z_STEP_UM,
    cells,
    write_lof,
    write_project,
    write_xlef,
    write_xlif,
)


def test_liffile_reads_the_fixtures_as_written(tmp_path):
    """The fixtures are what liffile (the reader's library) takes for LOF, XLIF and XLEF."""
    import liffile

    data = cells()
    project, truth = write_project(tmp_path / "project")
    for path, kind in ((write_lof(tmp_path / "a.lof", data), "LOF"),
                       (write_xlif(tmp_path / "b.xlif", data), "XLIF"),
                       (write_xlif(tmp_path / "c.xlif", data, frames=True), "XLIF"),
                       (project, "XLEF")):
        with liffile.LifFile(path) as lif:
            assert lif.type.name == kind
            images = list(lif.images)
            expected = [data] if kind != "XLEF" else list(truth.values())
            assert len(images) == len(expected)
            for image, values in zip(images, expected):
                assert "".join(image.dims) == "ZCYX"
                np.testing.assert_array_equal(image.asarray(), values)


@pytest.mark.parametrize("kind", ["lof", "xlif", "xlif-frames"])
def test_one_image_with_its_sizes_channels_and_pixels(kind, tmp_path, opened):
    data = cells()
    path = (write_lof(tmp_path / "cells.lof", data) if kind == "lof"
            else write_xlif(tmp_path / "cells.xlif", data, frames=kind == "xlif-frames"))
    source = opened(path)
    assert source.format.name == ("LOF" if kind == "lof" else "XLIF")
    assert source.reader == "liffile" and source.format.advice  # proprietary: keep a copy
    (scene,) = source.scenes
    assert scene.name == "cells" and scene.dims == "TCZYX"
    assert scene.sizes == {"T": 1, "C": 2, "Z": 3, "Y": 24, "X": 32}
    assert scene.physical_pixel_sizes["X"] == pytest.approx(PIXEL_UM)
    assert scene.physical_pixel_sizes["Y"] == pytest.approx(PIXEL_UM)
    assert scene.physical_pixel_sizes["Z"] == pytest.approx(Z_STEP_UM)
    assert scene.units == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert scene.channel_names == ["DAPI", "Alexa 488"]  # the dyes, not the LUTs
    assert scene.channel_colors == ["#0000FF", "#00FF00"]  # the LUTs' colours
    assert [c.emission_nm for c in scene.channels] == [455, 525]  # middle of each band
    np.testing.assert_array_equal(np.asarray(scene.data[0]), data.transpose(1, 0, 2, 3))
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[2, 1])


def test_a_lof_named_by_an_xlif_is_memory_mapped_not_copied(tmp_path, opened):
    """The XLIF's pixels stay in its LOF: the graph holds a map of it, read plane by plane."""
    from napari_lightmic.reading.lif import MappedArray

    scene = opened(write_xlif(tmp_path / "cells.xlif", cells())).scenes[0]
    held = [getattr(v, "array", None) for v in dict(scene.data.__dask_graph__()).values()]
    maps = [v for v in held if isinstance(v, MappedArray)]
    assert maps and all(isinstance(m.mapped, np.memmap) for m in maps)
    assert maps[0].mapped.filename.endswith("cells.lof")
    assert scene.data.chunksize[-2:] == (24, 32) and scene.data.chunksize[2] == 1


def test_an_xlef_project_opens_as_its_images(tmp_path, opened):
    """Images in the project and in its folders (nested XLEF) are its scenes, in order."""
    project, truth = write_project(tmp_path / "project")
    source = opened(project)
    assert source.format.name == "XLEF"
    assert [s.name for s in source.scenes] == ["Image 1", "Image 2"]
    second = source.scene("Image 2")
    assert second.sizes == {"T": 1, "C": 2, "Z": 2, "Y": 16, "X": 20}
    for scene in source.scenes:
        np.testing.assert_array_equal(np.asarray(scene.data[0]),
                                      truth[scene.name].transpose(1, 0, 2, 3))


def test_acquisition_facts_for_the_metadata_dock(tmp_path, opened):
    source = opened(write_lof(tmp_path / "cells.lof", cells()))
    acquisition = source.acquisition
    objective = acquisition.instrument.objectives[0]
    assert objective.model == "HC PL APO 63x/1.40 OIL"
    assert objective.nominal_magnification == 63 and objective.lens_na == 1.4
    assert objective.immersion.value == "Oil"
    assert acquisition.instrument.microscope.manufacturer == "Leica Microsystems"
    assert acquisition.acquisition_mode == "LaserScanningConfocalMicroscopy"


def test_privacy_scan_finds_the_user_in_every_file_of_a_project(tmp_path, opened):
    """The XLEF records its path in a user's folder; each image's XML names the user."""
    source = opened(write_project(tmp_path / "project")[0])
    found = {(f.kind, f.value) for f in scan(source.ome, source.original_metadata,
                                              source.format.name)}
    assert ("user folder", "jdoe") in found
    assert ("name", "Jane Doe") in found
    assert USER_FOLDER in source.original_metadata


def test_a_missing_lof_is_named(tmp_path, opened):
    path = write_xlif(tmp_path / "cells.xlif", cells())
    (tmp_path / "cells.lof").unlink()
    with pytest.raises(LightmicReadError) as info:
        opened(path)
    assert str(path) in str(info.value) and "'cells.lof', which is missing" in str(info.value)


def test_a_missing_image_of_a_project_is_named(tmp_path, opened):
    project, _ = write_project(tmp_path / "project")
    (tmp_path / "project" / "Image 1.xlif").unlink()
    with pytest.raises(LightmicReadError) as info:
        opened(project)
    assert "'Image 1.xlif', which is missing" in str(info.value)


def test_a_dtd_in_a_project_is_refused_before_liffile_parses_it(tmp_path, opened):
    """liffile parses with ElementTree, which takes a DTD: the hardened parser refuses it."""
    project, _ = write_project(tmp_path / "project")
    child = tmp_path / "project" / "Image 1.xlif"
    text = child.read_text(encoding="utf-8")
    child.write_text(text.replace("?>\n", '?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n', 1),
                     encoding="utf-8")
    with pytest.raises(LightmicReadError) as info:
        opened(project)
    assert str(project) in str(info.value)


def test_a_lof_cut_short_in_its_pixels_is_truncated(tmp_path, opened):
    path = write_lof(tmp_path / "cells.lof", cells())
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(LightmicReadError, match="truncated"):
        opened(path)


def test_tiff_frames_are_read_one_plane_at_a_time(tmp_path, opened, monkeypatch):
    """An XLIF kept as one TIFF per plane: a plane shown reads its one TIFF, nothing else."""
    import tifffile

    data = cells()
    scene = opened(write_xlif(tmp_path / "cells.xlif", data, frames=True)).scenes[0]
    read: list[str] = []
    original = tifffile.imread

    def spy(path, *args, **kwargs):
        read.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "imread", spy)
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[2, 1])
    assert [p.rsplit("/", 1)[-1] for p in read] == ["cells_z2_c1.tif"]


def test_a_project_that_names_itself_is_refused_and_one_named_often_is_read_once(tmp_path):
    """A chain of XLEFs each naming the next twice would be parsed 2**depth times, and one
    naming itself nested without end: each file is read once, a loop refused by name."""
    from napari_lightmic.reading.lasx import check_project, project_files

    loop = write_xlef(tmp_path / "loop.xlef", [tmp_path / "loop.xlef"])
    with pytest.raises(LightmicReadError, match="refers to itself"):
        open_image(loop)
    image = write_xlif(tmp_path / "cells.xlif", cells())
    chain = [write_xlef(tmp_path / "f15.xlef", [image, image])]
    for depth in range(14, -1, -1):
        chain.append(write_xlef(tmp_path / f"f{depth}.xlef", [chain[-1], chain[-1]]))
    texts = check_project(str(chain[-1]))
    assert len(texts) == 16 + 2  # every XLEF, the XLIF and its LOF: once each
    assert project_files(chain[-1]).count(str(image)) == 1


@pytest.mark.parametrize("named", ["Image%201.xlif", "IMAGE 1.xlif"])
def test_a_project_naming_its_files_as_liffile_reads_them_opens(tmp_path, opened, named):
    """URL-quoted names and names that differ in case (as LAS X on Windows writes them) are
    found as liffile finds them, not refused as missing."""
    project, _ = write_project(tmp_path / "project")
    text = project.read_text(encoding="utf-8")
    assert 'File="Image 1.xlif"' in text
    project.write_text(text.replace('File="Image 1.xlif"', f'File="{named}"'), encoding="utf-8")
    assert [s.name for s in opened(project).scenes] == ["Image 1", "Image 2"]


def test_tiff_frames_whose_names_hold_a_percent_sign_are_found(tmp_path, opened):
    """liffile decodes a frame's URL-quoted name itself ('%2520' is a file named '%20'): the
    name it gives is found as it is, not decoded a second time into another name."""
    data = cells()
    path = write_xlif(tmp_path / "cells.xlif", data, frames=True)
    (tmp_path / "cells_frames").rename(tmp_path / "cells%20frames")
    text = path.read_text(encoding="utf-8")
    assert 'File="cells_frames/' in text
    path.write_text(text.replace('File="cells_frames/', 'File="cells%2520frames/'),
                    encoding="utf-8")
    scene = opened(path).scenes[0]
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[2, 1])
