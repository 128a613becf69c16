import shutil

import pytest

from napari_lightmic.batch.discover import discover, find_datasets
from napari_lightmic.errors import UsageError
from tests.conftest import TESTDATA, real_file


def test_multi_file_datasets_count_once_through_their_main_file(tmp_path, micromanager_dataset):
    shutil.copytree(micromanager_dataset, tmp_path / "mm")
    real_file("hdf5/bdv/demoSlice.xml")
    shutil.copytree(TESTDATA / "hdf5" / "bdv", tmp_path / "bdv")
    shutil.copy(real_file("czi/DAPI_GFP.czi"), tmp_path / "cells.czi")
    zarr = tmp_path / "plate.ome.zarr"
    (zarr / "0").mkdir(parents=True)
    (zarr / "zarr.json").write_text("{}")
    (zarr / "0" / "zarr.json").write_text("{}")
    (tmp_path / "cells.czi.lightmic.json").write_text("{}")

    found = discover([str(tmp_path)])
    assert [(d.path.relative_to(tmp_path).as_posix(), d.format, len(d.members))
            for d in found.datasets] == [
        ("plate.ome.zarr", "OME-Zarr", 1),
        ("cells.czi", "CZI", 1),
        ("bdv/demoSlice.xml", "BigDataViewer", 2),
        ("mm/1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif", "OME-TIFF", 4),
    ]
    mm = found.datasets[3]
    assert mm.size == sum(p.stat().st_size for p in mm.members)
    skipped = {p.relative_to(tmp_path).as_posix(): why for p, why in found.skipped}
    assert skipped["bdv/demoSlice.h5"] == f"part of {tmp_path / 'bdv' / 'demoSlice.xml'}"
    assert skipped["mm/1.4compatTest_3_MMStack_1-Pos_001_001.ome.tif"].startswith("part of ")
    assert skipped["cells.czi.lightmic.json"] == "not a microscopy file (unknown file type)"
    assert not any(k.startswith("plate.ome.zarr/") for k in skipped)  # not walked into


@pytest.fixture
def bdv_with_base_path(tmp_path):
    """A BigDataViewer dataset whose XML keeps its HDF5 file in the folder BasePath names."""
    xml = real_file("hdf5/bdv/demoSlice.xml").read_text(encoding="utf-8")
    assert '<BasePath type="relative">.</BasePath>' in xml
    (tmp_path / "data").mkdir()
    shutil.copy(real_file("hdf5/bdv/demoSlice.h5"), tmp_path / "data" / "demoSlice.h5")
    path = tmp_path / "demoSlice.xml"
    path.write_text(xml.replace('<BasePath type="relative">.</BasePath>',
                                '<BasePath type="relative">data</BasePath>'), encoding="utf-8")
    return path


def test_a_bigdataviewer_hdf5_file_found_through_base_path_counts_once(bdv_with_base_path):
    # was: the XML skipped ("no BigDataViewer dataset": no .h5 beside it), and its HDF5 file
    # converted on its own as a plain HDF5 file
    from napari_lightmic import open_image

    folder = bdv_with_base_path.parent
    h5 = folder / "data" / "demoSlice.h5"
    for inputs in ([folder], [bdv_with_base_path, h5], [h5, bdv_with_base_path]):
        found = discover([str(p) for p in inputs])
        assert [(d.path, d.format, d.members) for d in found.datasets] == [
            (bdv_with_base_path, "BigDataViewer", (bdv_with_base_path, h5))], inputs
        assert (h5, f"part of {bdv_with_base_path}") in found.skipped
        assert list(found.roots) == [bdv_with_base_path]
    with open_image(bdv_with_base_path) as source:  # the reader finds the same file
        assert source.handles[0].path == str(h5)


def test_an_ome_tiff_set_counts_once_through_the_file_that_lists_the_others(tmp_path):
    import numpy as np
    import tifffile

    names = ["set_0.ome.tif", "set_1.ome.tif"]
    uuids = ["urn:uuid:00000000-0000-0000-0000-00000000000" + str(i) for i in range(2)]
    data = [(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) + i) for i in range(2)]
    tiffdata = "".join(f'<TiffData FirstC="{i}" IFD="0" PlaneCount="1"><UUID FileName='
                       f'"{names[i]}">{uuids[i]}</UUID></TiffData>' for i in range(2))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/'
           f'Schemas/OME/2016-06" UUID="{uuids[1]}"><Image ID="Image:0"><Pixels ID="Pixels:0" '
           'DimensionOrder="XYCZT" Type="uint16" SizeX="64" SizeY="64" SizeC="2" SizeZ="1" '
           f'SizeT="1"><Channel ID="Channel:0:0"/><Channel ID="Channel:0:1"/>{tiffdata}'
           '</Pixels></Image></OME>')
    # the second file holds the whole OME-XML; the first only its own plane
    tifffile.imwrite(tmp_path / names[0], data[0], description="plane", metadata=None)
    tifffile.imwrite(tmp_path / names[1], data[1], description=xml, metadata=None)
    (dataset,) = find_datasets([str(tmp_path)])
    assert dataset.path == tmp_path / names[1]
    assert set(dataset.members) == {tmp_path / n for n in names}


def test_globs_and_missing_inputs(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.czi", "a/y.czi", "a/z.png"):
        shutil.copy(real_file("czi/DAPI_GFP.czi"), tmp_path / name)
    found = discover([str(tmp_path / "a" / "*.czi")])
    assert [d.path.name for d in found.datasets] == ["x.czi", "y.czi"]
    assert set(found.roots.values()) == {tmp_path / "a"}
    with pytest.raises(UsageError, match="the pattern matches no file"):
        find_datasets([str(tmp_path / "*.lif")])
    with pytest.raises(UsageError, match="no such file or folder"):
        find_datasets([str(tmp_path / "missing")])


def test_an_output_folder_inside_the_input_is_not_walked(tmp_path):
    shutil.copy(real_file("czi/DAPI_GFP.czi"), tmp_path / "cells.czi")
    (tmp_path / "out" / "cells.ome.zarr").mkdir(parents=True)
    (tmp_path / "out" / "cells.ome.zarr" / "zarr.json").write_text("{}")
    found = discover([str(tmp_path)], exclude=tmp_path / "out")
    assert [d.path.name for d in found.datasets] == ["cells.czi"]


def test_an_audit_counts_a_dataset_named_with_its_member_once(bdv_with_base_path):
    # was: one find_datasets per input, so the HDF5 file named beside its XML was a row of
    # its own (a plain HDF5 file) where the batch made one job
    from napari_lightmic.batch.audit import audit

    h5 = bdv_with_base_path.parent / "data" / "demoSlice.h5"
    rows = audit([bdv_with_base_path, h5])
    assert [(row["path"], row["format"]) for row in rows] == [
        (str(bdv_with_base_path), "BigDataViewer")]


def test_ngff_folders_are_datasets_by_their_metadata_and_plates_are_not_walked(tmp_path):
    import zarr

    from tests.reading.zarr_fixtures import write_ome_zarr, write_plate

    write_plate(tmp_path / "plate", "0.5")  # no .zarr name: found by its metadata
    write_ome_zarr(tmp_path / "run" / "field", "0.4")
    zarr.open_group(str(tmp_path / "table"), mode="w", zarr_format=3).create_array(
        "values", shape=(4,), dtype="uint8")
    found = discover([str(tmp_path)])
    assert [(d.path.relative_to(tmp_path).as_posix(), d.format) for d in found.datasets] == [
        ("plate", "OME-Zarr"), ("run/field", "OME-Zarr")]
    skipped = {p.relative_to(tmp_path).as_posix(): why for p, why in found.skipped}
    assert skipped == {"table": "a Zarr group with no NGFF image, plate, well or "
                                "bioformats2raw layout"}  # not walked into either
    field = tmp_path / "plate" / "A" / "1" / "0"
    given = discover([str(field)])
    assert [(d.path, d.format) for d in given.datasets] == [(field, "OME-Zarr")]
    assert given.roots[field] == field.parent


def test_a_las_x_project_and_an_oif_count_once_through_their_main_file(tmp_path):
    """The images, LOFs and TIFF frames of an XLEF, and the plane TIFFs of an OIF's
    folder, are parts of those datasets, not datasets of their own."""
    from tests.reading.vendor_fixtures import cells, write_oif, write_project

    project, _ = write_project(tmp_path / "project")
    (tmp_path / "fluoview").mkdir()
    oif = write_oif(tmp_path / "fluoview" / "cells.oif", cells((2, 3, 24, 32)))
    found = discover([str(tmp_path)])
    assert [(d.path, d.format) for d in found.datasets] == [(oif, "OIF"), (project, "XLEF")]
    by_path = {d.path: d for d in found.datasets}
    assert len(by_path[oif].members) == 1 + 6
    # both images, the nested folder, the LOF and the second image's four TIFF frames
    assert len(by_path[project].members) == 1 + 3 + 1 + 4
    assert by_path[project].size == sum(p.stat().st_size for p in by_path[project].members)
    skipped = {p.relative_to(tmp_path).as_posix(): why for p, why in found.skipped}
    assert skipped["project/Image 1.xlif"] == f"part of {project}"
    assert skipped["project/Image 1.lof"] == f"part of {tmp_path / 'project' / 'Image 1.xlif'}"
    assert skipped["project/Region 2/Image 2_frames/Image 2_z0_c0.tif"] == f"part of {project}"
    assert skipped["fluoview/cells.oif.files/s_C001Z001.tif"] == f"part of {oif}"
