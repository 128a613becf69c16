"""The OME-XML corpus (tests/data/ome-xml: ome-model's 2016-06 samples and ome-types' vendor
and edge-case documents, see its README) as the header of tiny OME-TIFFs.

Each document is read as an OME-TIFF (one scene per Image, its channels, names, physical
sizes and pixels) and written back to OME-TIFF and OME-Zarr; the written OME-XML must keep
every Image, Channel, Instrument, ROI, Experimenter, annotation and container (Project,
Dataset, Folder, Plate, Screen) the document has, equal up to a consistent renaming of IDs.
The documents ome-types calls invalid must open (leniently) or be refused with a
LightmicReadError, never another exception.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import ome_types
import pytest
import tifffile
from lxml import etree

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.units import convert
from napari_lightmic.writing import validate, write

from .ome_xml_fixtures import build, local, read_text

CORPUS = Path(__file__).resolve().parents[1] / "data" / "ome-xml"
DOCS = sorted(p for p in CORPUS.iterdir() if ".ome.xml" in p.name)
# ome-types' own list of invalid documents (its tests/conftest.py INVALID)
INVALID = {"bad", "invalid_xml_annotation", "MMStack"}
# Annotation namespaces lightmic adds to its exports (the vendor's metadata, REMBI)
OWN_NAMESPACES = ("https://github.com/napari-lightmic/", "https://napari-lightmic.github.io/")


def name(path: Path) -> str:
    return path.name.partition(".")[0]


def load(xml: str | bytes) -> ome_types.OME:
    """The document as ome-types reads it (its warnings on IDs it casts are expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ome_types.from_xml(xml.decode() if isinstance(xml, bytes) else xml)


def written_xml(path: Path) -> str:
    if path.suffix == ".zarr":
        return (path / "OME" / "METADATA.ome.xml").read_text(encoding="utf-8")
    with tifffile.TiffFile(path) as tif:
        return tif.ome_metadata


# --- equality up to IDs ----------------------------------------------------------------

def same_up_to_ids(a, b, ids: dict, where: str = "") -> list[str]:
    """Differences between two model dumps; IDs may differ but must map one-to-one, so a
    reference still points at the corresponding object."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key == "id" and isinstance(a.get(key), str) and isinstance(b.get(key), str):
                old, new = a[key], b[key]
                if ids.setdefault(("a", old), new) != new or \
                        ids.setdefault(("b", new), old) != old:
                    out.append(f"{where}.id: {old} -> {new} breaks the ID mapping")
                continue
            out += same_up_to_ids(a.get(key), b.get(key), ids, f"{where}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} -> {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in same_up_to_ids(x, y, ids, f"{where}[{i}]")]
    if a != b:
        return [f"{where}: {a!r:.80} -> {b!r:.80}"]
    return []


def dump(model, **exclude):
    return model.model_dump(exclude_unset=False, exclude_defaults=True, exclude=exclude or None)


# Pixels fields the export sets itself: sizes, order, type, storage and the channels' IDs,
# colours (the reader's, e.g. no all-white set) and samples per pixel.
PIXELS_OWN = {"id", "dimension_order", "type", "size_x", "size_y", "big_endian", "interleaved",
              "significant_bits", "metadata_only", "tiff_data_blocks", "bin_data_blocks",
              "channels"}
CHANNEL_OWN = {"id", "color", "samples_per_pixel", "name"}


def compare(expected: ome_types.OME, written: ome_types.OME) -> list[str]:
    ids: dict = {}
    out = []
    # Images first, so image IDs pair by position
    if len(expected.images) != len(written.images):
        return [f"images: {len(expected.images)} -> {len(written.images)}"]
    own_ids = {x.id for x in written.structured_annotations
               if (x.namespace or "").startswith(OWN_NAMESPACES)}
    for i, (a, b) in enumerate(zip(expected.images, written.images)):
        at = f"image {i}"
        # lightmic's own notes on an image (what the reader or writer did) are not compared
        b = b.model_copy(update={"annotation_refs": [r for r in b.annotation_refs
                                                     if r.id not in own_ids]})
        out += same_up_to_ids(dump(a, pixels=True, name=True),
                              dump(b, pixels=True, name=True), ids, at)
        if a.name and a.name != b.name:
            out.append(f"{at}.name: {a.name!r} -> {b.name!r}")
        recorded = dump(a.pixels, **dict.fromkeys(PIXELS_OWN, True))
        for key in ("physical_size_x", "physical_size_y", "physical_size_z", "time_increment"):
            if recorded.get(key) is not None and not recorded[key] > 0:  # unknown, not kept
                recorded.pop(key)
                recorded.pop(f"{key}_unit", None)
        out += same_up_to_ids(recorded,
                              dump(b.pixels, **dict.fromkeys(PIXELS_OWN, True)), ids,
                              f"{at}.pixels")
        if len(b.pixels.channels) != a.pixels.size_c:
            out.append(f"{at}: {len(b.pixels.channels)} channels written for SizeC "
                       f"{a.pixels.size_c}")
            continue
        if a.pixels.channels and len(a.pixels.channels) == a.pixels.size_c:
            for c, (x, y) in enumerate(zip(a.pixels.channels, b.pixels.channels)):
                if x.name != y.name:
                    out.append(f"{at} channel {c}.name: {x.name!r} -> {y.name!r}")
                out += same_up_to_ids(dump(x, **dict.fromkeys(CHANNEL_OWN, True)),
                                      dump(y, **dict.fromkeys(CHANNEL_OWN, True)), ids,
                                      f"{at} channel {c}")
    a_all = dump(expected, images=True, structured_annotations=True, creator=True, uuid=True,
                 binary_only=True)
    b_all = dump(written, images=True, structured_annotations=True, creator=True, uuid=True,
                 binary_only=True)
    out += same_up_to_ids(a_all, b_all, ids, "OME")
    own = [x for x in written.structured_annotations
           if not (x.namespace or "").startswith(OWN_NAMESPACES)]
    out += same_up_to_ids([x.model_dump(exclude_defaults=True)
                           for x in expected.structured_annotations],
                          [x.model_dump(exclude_defaults=True) for x in own], ids,
                          "annotations")
    return out


def schema_valid(xml: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ome_types.validate_xml(xml.decode())
        except Exception:  # noqa: BLE001 - any verdict of invalid
            return False
    return True


def dangling_refs(xml: str | bytes) -> set[tuple[str, str]]:
    """References (…Ref ID=) to IDs no element of the document has."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    ids = {e.get("ID") for e in elements if not local(e.tag).endswith("Ref")}
    return {(local(e.tag), e.get("ID")) for e in elements
            if local(e.tag).endswith("Ref") and e.get("ID") not in ids}


# --- what was read ---------------------------------------------------------------------

def um(value, unit) -> float | None:
    if value is None or not value > 0:
        return None
    return convert(value, getattr(unit, "value", unit) or "µm", "µm")


def check_scene(scene, image, expected_pixels) -> None:
    pixels = image.pixels
    assert scene.sizes.get("C", 1) == pixels.size_c
    recorded = (pixels.channels if len(pixels.channels) == pixels.size_c
                else [None] * pixels.size_c)
    for channel, element in zip(scene.channels, recorded):
        if element is not None and element.name:
            assert (channel.name, channel.named) == (element.name, True)
        else:
            assert not channel.named
    for axis in "XYZ":
        want = um(getattr(pixels, f"physical_size_{axis.lower()}"),
                  getattr(pixels, f"physical_size_{axis.lower()}_unit"))
        got = scene.physical_pixel_sizes.get(axis)
        got = convert(got, scene.units[axis], "µm") if got is not None else None
        assert got == pytest.approx(want), axis
    assert scene.dims == "TCZYX"
    np.testing.assert_array_equal(np.asarray(scene.data), expected_pixels)


# --- the tests -------------------------------------------------------------------------

XFAIL: dict[str, str] = {}


@pytest.mark.parametrize("doc", DOCS, ids=name)
def test_read_and_write_back(doc, tmp_path):
    if name(doc) in XFAIL:
        pytest.xfail(XFAIL[name(doc)])
    fixture = build(doc, tmp_path)
    expected = load(fixture.xml)
    with open_image(fixture.path) as source:
        assert len(source.scenes) == len(expected.images)
        for scene, image, pixels in zip(source.scenes, expected.images, fixture.expected):
            check_scene(scene, image, pixels)
        for target in ("out.ome.tif", "out.ome.zarr"):
            path = write(source, tmp_path / target, "all")
            xml = written_xml(path)
            problems = compare(expected, load(xml))
            assert not problems, f"{target} lost or changed:\n" + "\n".join(problems)
            assert dangling_refs(xml) <= dangling_refs(fixture.xml)
        if schema_valid(fixture.xml):
            assert validate(tmp_path / "out.ome.tif") == []


def opens_or_is_refused(path: Path) -> list[str] | None:
    """The scenes' notes when the file opens; None when refused with a LightmicReadError
    naming the file and a cause. Any other exception fails the test."""
    try:
        with open_image(path) as source:
            assert source.scenes
            assert source.ome is not None
            for scene in source.scenes:
                np.asarray(scene.data[(0,) * (scene.data.ndim - 2)])
            return [note for scene in source.scenes for note in scene.notes]
    except LightmicReadError as err:
        assert str(path) in str(err) and err.cause
        return None


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut-in-half"])
@pytest.mark.parametrize("doc", sorted(p for p in DOCS if name(p) in INVALID), ids=name)
def test_invalid_documents_open_leniently_or_are_refused(doc, cut, tmp_path):
    """ome-types' invalid documents (TiffData added where there is none), whole or cut in
    half (no longer XML): they open, or are refused with a LightmicReadError."""
    fixture = build(doc, tmp_path)
    if cut:
        with tifffile.TiffFile(fixture.path) as tif:
            plane = tif.pages.first.asarray()
        tifffile.imwrite(fixture.path, plane, metadata=None,
                         description=fixture.xml[:len(fixture.xml) // 2])
    opens_or_is_refused(fixture.path)


WITHOUT_TIFFDATA = [p for p in DOCS if b"TiffData" not in read_text(p)]


@pytest.mark.parametrize("doc", WITHOUT_TIFFDATA, ids=name)
def test_documents_without_tiffdata_as_they_are(doc, tmp_path):
    """The header as it is (BinData, MetadataOnly): no image of the XML is in the pages,
    which are read as a plain TIFF, and the scene says the OME metadata was not used."""
    fixture = build(doc, tmp_path, keep_data_elements=True)
    notes = opens_or_is_refused(fixture.path)
    assert notes is None or any("No image of the OME-XML is stored" in n for n in notes)


@pytest.mark.parametrize("doc", ["shape-union", "one-screen-one-plate-four-wells"])
def test_one_scene_written_refers_to_no_missing_image(doc, tmp_path):
    """Datasets and wells of an export of one scene refer to that image only."""
    fixture = build(CORPUS / f"{doc}.ome.xml", tmp_path)
    with open_image(fixture.path) as source:
        path = write(source, tmp_path / "one.ome.tif", 1)
    written = load(written_xml(path))
    assert len(written.images) == 1
    assert written.images[0].id == load(fixture.xml).images[1].id
    assert not dangling_refs(written_xml(path))
    refs = [r.id for d in written.datasets for r in d.image_refs]
    refs += [s.image_ref.id for p in written.plates for w in p.wells for s in w.well_samples
             if s.image_ref is not None]
    assert refs == [written.images[0].id]


MIXED = b"""<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="A"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8"
    SizeX="4" SizeY="3" SizeZ="1" SizeC="1" SizeT="1" PhysicalSizeX="5" PhysicalSizeY="5">
    <Channel ID="Channel:0:0" Name="a"/><MetadataOnly/></Pixels></Image>
  <Image ID="Image:1" Name="B"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint8"
    SizeX="4" SizeY="3" SizeZ="1" SizeC="1" SizeT="1" PhysicalSizeX="0.5" PhysicalSizeY="0.5">
    <Channel ID="Channel:1:0" Name="b"/><TiffData IFD="0" PlaneCount="1"/></Pixels></Image>
</OME>"""


def test_image_without_pixels_before_a_stored_one(tmp_path):
    path = tmp_path / "mixed.ome.tif"
    tifffile.imwrite(path, np.zeros((3, 4), np.uint8), description=MIXED, metadata=None)
    with open_image(path) as source:
        scene = source.scenes[0]
        assert (scene.name, scene.channel_names) == ("B", ["b"])
        assert scene.physical_pixel_sizes["X"] == pytest.approx(0.5)
        out = write(source, tmp_path / "out.ome.tif", "all")
    images = ome_types.from_xml(tifffile.TiffFile(out).ome_metadata).images
    assert [(i.name, i.pixels.physical_size_x) for i in images] == [("B", 0.5)]


def test_corpus_is_complete():
    """Every document of the README is here, and read_text reads each."""
    assert len(DOCS) == 46
    for doc in DOCS:
        assert read_text(doc).lstrip().startswith(b"<")


def timestamps(xml: str | bytes) -> list[tuple[str | None, str]]:
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [(e.get("Namespace"), "".join(e.itertext()).strip()) for e in root.iter()
            if isinstance(e.tag, str) and local(e.tag) == "TimestampAnnotation"]


@pytest.mark.parametrize("doc", [
    "timestampannotation-posix-only",
    pytest.param("timestampannotation", marks=pytest.mark.xfail(strict=True, reason=(
        "ome-types holds timestamps as Python datetimes, which start at year 1: the BC dates "
        "-0005-12-25 and -231400000-01-01 are written as 0001-01-01"))),
])
def test_timestamp_annotations_keep_their_values(doc, tmp_path):
    """Compared as text: the model comparison above sees the values through ome-types."""
    fixture = build(CORPUS / f"{doc}.ome.xml", tmp_path)
    with open_image(fixture.path) as source:
        path = write(source, tmp_path / "out.ome.tif", "all")
    recorded, written = timestamps(fixture.xml), timestamps(written_xml(path))
    assert recorded

    def moment(text: str) -> str:
        return text.replace("Z", "+00:00") if text.endswith("Z") else text

    assert [(ns, moment(v)) for ns, v in written] == [(ns, moment(v)) for ns, v in recorded]
