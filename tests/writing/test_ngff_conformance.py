"""The OME-NGFF spec's own test suites (0.4 and 0.5, tests/data/ngff-spec) against
`lightmic validate`, and the reader on every valid image of them.

Each case is the attributes of one group with the verdict the spec expects under one schema
(image, label, plate, well, or their strict variants). It becomes a metadata-only store: a
zarr v2 group (.zgroup, .zattrs) for 0.4, a zarr v3 group (zarr.json) for 0.5. Cases of the
strict suites are checked with ``strict=True`` (`lightmic validate --strict`): the same well
without a version is valid in 0.4's well suite and invalid in its strict well suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from napari_lightmic import LightmicReadError
from napari_lightmic.reading import open_image
from napari_lightmic.writing import validate
from napari_lightmic.writing.validate import SEPARATOR_NOTE

SUITES = Path(__file__).resolve().parents[1] / "data" / "ngff-spec"

# Cases of the 0.4 suite that break the 0.4 spec's own text (index.md of the 0.4 branch); the
# 0.5 suite has the same cases corrected (ome/ngff-spec commit 779f9b8, "Fix test cases in
# v0.5 (#124)": scale [1.0, 0.13, 0.13]; rows named by letters, columns by numbers).
WELL_PATH = ("the 0.4 spec, plate metadata: a well's path 'MUST consist of a name in the rows "
             "list, a file separator (/), and a name from the columns list, in that order'; "
             "here rows {rows}, columns {columns}, path {path!r}: column/row")
SUITE_ERRORS = {
    "0.4-image-00-mismatch_axes_units": (
        "the 0.4 spec, multiscales metadata: 'The length of the scale and translation array "
        "MUST be the same as the length of \"axes\"'; here 3 axes (t, y, x), scale [0.13, 0.13]"),
    "0.4-plate-00-minimal_no_acquisitions": WELL_PATH.format(rows="['1']", columns="['A']",
                                                             path="A/1"),
    "0.4-plate-01-minimal_acquisitions": WELL_PATH.format(rows="['1']", columns="['A']",
                                                          path="A/1"),
    "0.4-plate-20-non_alphanumeric_row": WELL_PATH.format(rows="['A1']", columns="['A']",
                                                          path="A/A1"),
    "0.4-strict_plate-00-strict_no_acquisitions": WELL_PATH.format(
        rows="['1']", columns="['A']", path="A/1"),
    "0.4-strict_plate-03-strict_acquisitions": WELL_PATH.format(
        rows="['1']", columns="['A']", path="A/1"),
}


def _cases():
    for suite_file in sorted(SUITES.glob("*/*_suite.json")):
        version = suite_file.parent.name
        suite = json.loads(suite_file.read_text())
        kind = suite_file.stem.removesuffix("_suite")
        assert suite["schema"]["id"] == f"schemas/{kind}.schema"
        for index, case in enumerate(suite["tests"]):
            name = str(case["formerly"]).split("/")[-1].removesuffix(".json")
            case_id = f"{version}-{kind}-{index:02d}-{name}"
            yield case_id, version, kind, case["data"], case["valid"]


CASES = list(_cases())


def _params(cases):
    params = []
    for case in cases:
        marks = ()
        if case[0] in SUITE_ERRORS:
            marks = pytest.mark.xfail(strict=True, reason=SUITE_ERRORS[case[0]])
        params.append(pytest.param(*case[1:], id=case[0], marks=marks))
    return params


def metadata_store(folder: Path, version: str, attributes: dict) -> Path:
    """A metadata-only OME-Zarr group holding the case's attributes."""
    folder.mkdir(parents=True)
    if version == "0.4":
        (folder / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
        (folder / ".zattrs").write_text(json.dumps(attributes))
    else:
        (folder / "zarr.json").write_text(json.dumps(
            {"zarr_format": 3, "node_type": "group", "attributes": attributes}))
    return folder


def test_the_suites_are_all_here():
    counts = {}
    for _, version, *_ in CASES:
        counts[version] = counts.get(version, 0) + 1
    assert counts == {"0.4": 92, "0.5": 86}
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("version", "kind", "attributes", "valid"), _params(CASES))
def test_validate_agrees_with_the_spec_suite(tmp_path, version, kind, attributes, valid):
    store = metadata_store(tmp_path / "case.ome.zarr", version, attributes)
    problems = validate(store, strict=kind.startswith("strict_"))
    if valid:
        assert problems == []
    else:
        assert problems, "an invalid case passed"
        assert all(isinstance(p, str) and p for p in problems)


# -- the reader on every image case, its arrays made to fit the axes -----------------------
IMAGE_CASES = [case for case in CASES if case[2] in ("image", "strict_image")]


def image_store(folder: Path, version: str, attributes: dict) -> Path:
    """The case's group with an empty uint16 array (filled with 7) at each level's path, one
    dimension per axis: 2 time points, 3 channels, spatial sizes halved from level to level.
    Levels whose metadata cannot place an array (no axes, a path that is no string) get none."""
    root = zarr.open_group(str(folder), mode="w", zarr_format=3 if version == "0.5" else 2)
    root.attrs.update(attributes)
    ome = attributes.get("ome", {}) if version == "0.5" else attributes
    for multiscale in ome.get("multiscales") or []:
        axes = multiscale.get("axes")
        if not isinstance(axes, list):
            continue
        for level, dataset in enumerate(multiscale.get("datasets") or []):
            if not isinstance(dataset.get("path"), str):
                continue
            shape = tuple({"time": 2, "channel": 3}.get(axis.get("type"), 2)
                          if axis.get("type") != "space" else max(16 >> level, 1)
                          for axis in axes)
            kwargs = ({"chunk_key_encoding": {"name": "v2", "separator": "/"}}
                      if version == "0.4" else {})
            root.create_array(dataset["path"], shape=shape, dtype="uint16", fill_value=7,
                              **kwargs)
    return folder


def assert_refused_with_reason(exc: LightmicReadError) -> None:
    """A refusal the reader chose, with its reason: a ValueError raised in reading/ngff.py,
    not a library's KeyError or TypeError passed on."""
    cause = exc.__cause__
    assert isinstance(cause, ValueError), exc.cause
    tb = cause.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert Path(tb.tb_frame.f_code.co_filename).name == "ngff.py", exc.cause
    assert exc.cause.startswith("cannot be read as OME-Zarr: ValueError: "), exc.cause


@pytest.mark.parametrize(("version", "kind", "attributes", "valid"),
                         [pytest.param(*case[1:], id=case[0]) for case in IMAGE_CASES])
def test_reader_opens_every_valid_image_and_says_why_it_refuses(tmp_path, version, kind,
                                                                 attributes, valid, opened):
    store = image_store(tmp_path / "image.ome.zarr", version, attributes)
    try:
        source = opened(store)
    except LightmicReadError as exc:
        assert not valid, f"a valid image was refused: {exc.cause}"
        assert_refused_with_reason(exc)
        return
    try:
        for scene in source.scenes:
            assert np.asarray(scene.data[(0,) * scene.data.ndim]) == 7
    finally:
        source.close()


# -- NGFF 0.4 chunk keys (defect 1) ---------------------------------------------------------
def write_04_image(folder: Path, separator: str | None) -> Path:
    root = zarr.open_group(str(folder), mode="w", zarr_format=2)
    root.attrs["multiscales"] = [{
        "version": "0.4", "name": "dots",
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [2.0 ** level, 2.0 ** level]}]} for level in (0, 1)],
    }]
    for level in (0, 1):
        encoding = {"name": "v2", "separator": separator or "."}
        array = zarr.create_array(root.store, name=str(level), shape=(8 >> level, 8 >> level),
                                  chunks=(4, 4), dtype="uint8", zarr_format=2,
                                  chunk_key_encoding=encoding)
        array[:] = level + 1
    if separator is None:
        for level in (0, 1):
            zarray = folder / str(level) / ".zarray"
            meta = json.loads(zarray.read_text())
            del meta["dimension_separator"]
            zarray.write_text(json.dumps(meta))
    return folder


def test_04_image_with_dot_chunk_keys_is_invalid(tmp_path):
    store = write_04_image(tmp_path / "dots.ome.zarr", ".")
    assert (store / "0" / "0.0").exists()
    problems = validate(store)
    assert problems == [f'0/.zarray: dimension_separator "." — {SEPARATOR_NOTE}',
                        f'1/.zarray: dimension_separator "." — {SEPARATOR_NOTE}']


def test_04_image_without_dimension_separator_is_invalid(tmp_path):
    store = write_04_image(tmp_path / "bare.ome.zarr", None)
    problems = validate(store)
    assert len(problems) == 2
    assert problems[0].startswith('0/.zarray: no dimension_separator, which means "."')
    assert SEPARATOR_NOTE in problems[0]


def test_04_image_with_slash_chunk_keys_is_valid(tmp_path):
    store = write_04_image(tmp_path / "slashes.ome.zarr", "/")
    assert (store / "0" / "0" / "0").exists()
    assert validate(store) == []


def test_cli_names_the_array(tmp_path, capsys):
    from napari_lightmic.cli import main

    store = write_04_image(tmp_path / "dots.ome.zarr", ".")
    assert main(["validate", str(store)]) == 1
    out = capsys.readouterr().out
    assert f'{store}: 0/.zarray: dimension_separator "."' in out


# -- arrays, when a store has them -----------------------------------------------------------
def _image_04(folder: Path, shapes, dtypes, axes=("y", "x")) -> Path:
    root = zarr.open_group(str(folder), mode="w", zarr_format=2)
    root.attrs["multiscales"] = [{
        "version": "0.4",
        "axes": [{"name": a, "type": "space"} for a in axes],
        "datasets": [{"path": str(i), "coordinateTransformations": [
            {"type": "scale", "scale": [2.0 ** i] * len(axes)}]} for i in range(len(shapes))],
    }]
    for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        if shape is not None:
            root.create_array(str(i), shape=shape, dtype=dtype,
                              chunk_key_encoding={"name": "v2", "separator": "/"})
    return folder


def test_levels_of_different_dtypes_are_invalid(tmp_path):
    store = _image_04(tmp_path / "a.ome.zarr", [(8, 8), (4, 4)], ["uint16", "uint8"])
    assert validate(store) == ["1: dtype uint8, but level '0' is uint16; every level of a "
                               "multiscale has one data type"]


def test_dimensions_must_match_the_axes(tmp_path):
    store = _image_04(tmp_path / "b.ome.zarr", [(2, 8, 8)], ["uint16"])
    assert validate(store) == ["0: 3 dimensions, but multiscales[0] has 2 axes"]


def test_a_missing_level_is_named_when_others_exist(tmp_path):
    store = _image_04(tmp_path / "c.ome.zarr", [(8, 8), None], ["uint16", "uint16"])
    assert validate(store) == ["1: no array here, but multiscales[0].datasets names it"]


def test_v3_attributes_outside_ome_are_invalid(tmp_path):
    attributes = json.loads((SUITES / "0.4" / "strict_image_suite.json").read_text())
    store = metadata_store(tmp_path / "d.ome.zarr", "0.5", attributes["tests"][3]["data"])
    assert 'keeps it under "ome"' in validate(store)[0]


@pytest.mark.parametrize("case_id", sorted(SUITE_ERRORS))
def test_the_suite_errors_are_what_their_reasons_say(tmp_path, case_id):
    _, version, kind, attributes, valid = next(c for c in CASES if c[0] == case_id)
    assert valid
    store = metadata_store(tmp_path / "case.ome.zarr", version, attributes)
    problems = validate(store, strict=kind.startswith("strict_"))
    expected = ("Got 3 axes, but the scale transform has dimensionality 2" if "image" in kind
                else "is not in list of rows")
    assert len(problems) == 1 and expected in problems[0], problems


# -- whole hierarchies: what lightmic writes, and broken labels ------------------------------
@pytest.fixture
def small_source(tmp_path):
    from napari_lightmic.synthetic import write_ome_tiff

    data = np.random.default_rng(0).integers(0, 4000, (2, 3, 64, 80), dtype=np.uint16)
    path = write_ome_tiff(tmp_path / "cells.ome.tif", data, physical=(0.8, 0.1, 0.1))
    source = open_image(path)
    yield source
    source.close()


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_what_lightmic_writes_with_labels_validates(small_source, tmp_path, version):
    from napari_lightmic.writing import WriteOptions, write

    labels = np.zeros((3, 64, 80), np.uint16)
    labels[:, 10:20, 10:30] = 5
    out = write(small_source, tmp_path / "w.ome.zarr", 0,
                WriteOptions(ngff_version=version, pyramid_levels=2), labels={"cells": labels})
    problems = validate(out)
    assert problems == []
    # lightmic's label images carry no colours, which NGFF says they SHOULD
    prefix = "ome." if version == "0.5" else ""
    colours = (f"labels/cells: {prefix}image-label: 'colors' is a required property "
               f"(NGFF {version} strict_label schema)")
    assert sorted(validate(out, strict=True)) == sorted(problems + [colours])


def test_a_label_image_of_floats_is_invalid(tmp_path):
    store = _image_04(tmp_path / "e.ome.zarr", [(8, 8)], ["uint16"])
    root = zarr.open_group(str(store), mode="a", zarr_format=2)
    labels = root.create_group("labels")
    labels.attrs["labels"] = ["blobs", "gone"]
    label = labels.create_group("blobs")
    label.attrs.update(dict(root.attrs))
    label.attrs["image-label"] = {"version": "0.4", "colors": [{"label-value": 1}]}
    label.create_array("0", shape=(8, 8), dtype="float32",
                       chunk_key_encoding={"name": "v2", "separator": "/"})
    assert validate(store) == [
        "labels/blobs/0: dtype float32: label images must hold integers",
        "labels/gone: no label group here, but the metadata names it"]


def test_strict_from_the_command_line(tmp_path, capsys):
    from napari_lightmic.cli import main

    store = metadata_store(tmp_path / "w.ome.zarr", "0.4", {"well": {"images": [{"path": "0"}]}})
    assert main(["validate", str(store)]) == 0
    assert main(["validate", "--strict", str(store)]) == 1
    assert "well: 'version' is a required property" in capsys.readouterr().out
