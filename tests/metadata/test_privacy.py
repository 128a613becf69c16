"""Personal data in real files' metadata is found, and removed from exports when asked."""

import json

import pytest
import tifffile
import zarr

from napari_lightmic.metadata.privacy import scan
from napari_lightmic.session import Session
from napari_lightmic.writing import write
from tests.conftest import real_file


def _found(source):
    return {(f.kind, f.value) for f in scan(source.ome, source.original_metadata,
                                            source.format.name)}


def _marked(path):
    """The file opened again after marking its personal data for removal (in its sidecar)."""
    session = Session.open(path)
    session.edit("privacy.remove_on_export", "yes")
    session.save()
    return Session.open(path)


def _exported_xml(source, target):
    """The OME-XML of `source` (a file, or a session with its edits) written to `target`
    (OME-TIFF or OME-Zarr)."""
    if isinstance(source, Session):
        out = write(source.effective_source(), target, record=source.record)
    else:
        out = write(source, target)
    if str(target).endswith(".zarr"):
        return (out / "OME" / "METADATA.ome.xml").read_text()
    return tifffile.TiffFile(out).pages[0].description


def test_lsm_user_name(opened):
    assert ("name", "Jefferis") in _found(opened(real_file("lsm/test.lsm")))


def test_micromanager_user_name_and_home_folder(micromanager_dataset, opened):
    source = opened(micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif")
    found = _found(source)
    assert ("name", "chriswei") in found and ("user folder", "chriswei") in found


def test_czi_user_name_and_windows_user_folders(opened):
    found = _found(opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")))
    assert ("name", "M1SRH") in found
    assert ("user folder", "zeiss") in found  # D:\Users\zeiss\Pictures


def test_ome_experimenter_and_lif_user_folder(opened):
    assert ("name", "ruiany") in _found(opened(
        real_file("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff")))
    assert ("user folder", "TCS-User") in _found(opened(
        real_file("lif/LeicaLASX_wavelength-sweep_example.lif")))


def test_email_identifier_and_notes_in_text():
    from napari_lightmic.metadata.privacy import Findings, scan_text

    found = scan_text('<Experiment><PatientID>P-0042</PatientID><Notes>mouse 3 of Dr Who'
                      '</Notes></Experiment> contact jane.doe@lab.example.org', "test",
                      Findings())
    kinds = {(f.kind, f.value) for f in found}
    assert {("identifier", "P-0042"), ("free text", "mouse 3 of Dr Who"),
            ("e-mail", "jane.doe@lab.example.org")} <= kinds


def test_marked_personal_data_is_absent_from_exports(vendor_copy, tmp_path, opened):
    source = _marked(vendor_copy("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"))
    xml = _exported_xml(source, tmp_path / "a.ome.tif")
    zarr_xml = _exported_xml(source, tmp_path / "a.ome.zarr")
    for text in (xml, zarr_xml):
        assert "M1SRH" not in text and "m1srh" not in text.lower()
        assert "Users\\zeiss" not in text and "[removed]" in text
        assert "Plan-Apochromat 50x/1.2" in text  # the rest of the metadata stays
    assert zarr.open_group(tmp_path / "a.ome.zarr").attrs["lightmic"]["rembi"]["image_data"][
        "file_format"] == "CZI"
    # without the mark, the original metadata is kept whole
    kept = write(opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")),
                 tmp_path / "b.ome.tif")
    assert "M1SRH" in tifffile.TiffFile(kept).pages[0].description


def test_personal_data_in_xml_annotations_is_removed(vendor_copy, tmp_path):
    """The Bio-Formats OME-TIFF keeps ZEN's XML (with <UserName>) as an XMLAnnotation."""
    source = _marked(vendor_copy("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff"))
    for target in ("a.ome.tif", "a.ome.zarr"):
        xml = _exported_xml(source, tmp_path / target)
        assert "ruiany" not in xml and "[removed]" in xml


def test_redaction_replaces_whole_values_only():
    """A user called 'User' must not turn <UserName> into <[removed]Name>."""
    import xml.etree.ElementTree as ET

    from napari_lightmic.metadata.privacy import Finding, redact_text

    text = ('<Doc><UserName>User</UserName><Note a="User">User manual</Note>'
            '<Path>C:\\Users\\User\\data</Path></Doc>')
    out = redact_text(text, [Finding("name", "User"), Finding("user folder", "User")])
    ET.fromstring(out)  # still well-formed
    assert "<UserName>[removed]</UserName>" in out and 'a="[removed]"' in out
    assert "User manual" in out and "C:\\Users\\[removed]\\data" in out
    escaped = "&lt;UserName&gt;User&lt;/UserName&gt; {&quot;User&quot;: &quot;User&quot;}"
    assert redact_text(escaped, [Finding("name", "User")]) == \
        "&lt;UserName&gt;[removed]&lt;/UserName&gt; {&quot;User&quot;: &quot;[removed]&quot;}"


def test_computer_names_are_found(micromanager_dataset, opened):
    source = opened(micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif")
    assert ("computer name", "Chriss-MacBook-Pro-2.local") in _found(source)


def test_names_with_xml_special_characters_and_map_annotations(tmp_path, opened):
    """Values stored escaped (&amp;, &lt;) and names only in annotations are found and
    removed from exports."""
    import numpy as np

    xml = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
<Experimenter ID="Experimenter:0" UserName="O'Brien &amp; Co"/>
<Image ID="Image:0" Name="img"><ExperimenterRef ID="Experimenter:0"/>
<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="32" SizeY="16" SizeZ="1"
 SizeC="1" SizeT="1"><Channel ID="Channel:0:0" SamplesPerPixel="1"/>
<TiffData IFD="0" PlaneCount="1"/></Pixels></Image>
<StructuredAnnotations>
<XMLAnnotation ID="Annotation:0"><Value><Doc><Login>hidden_person</Login>
<UserName>O'Brien &amp; Co</UserName></Doc></Value></XMLAnnotation>
<MapAnnotation ID="Annotation:1"><Value><M K="Author">map_only_person</M></Value>
</MapAnnotation></StructuredAnnotations></OME>"""
    path = tmp_path / "special.ome.tif"
    tifffile.imwrite(path, np.arange(512, dtype=np.uint8).reshape(16, 32), description=xml,
                     metadata=None)
    source = opened(path)
    found = {value for _, value in _found(source)}
    assert {"O'Brien & Co", "hidden_person", "map_only_person"} <= found
    text = _exported_xml(_marked(path), tmp_path / "out.ome.tif")
    for value in ("O'Brien", "hidden_person", "map_only_person"):
        assert value not in text


def _shared_files():
    from tests.conftest import TESTDATA

    suffixes = (".czi", ".lif", ".nd2", ".lsm", ".ims", ".tif", ".tiff")
    return sorted(str(p.relative_to(TESTDATA)) for p in TESTDATA.rglob("*")
                  if p.suffix in suffixes and "reference_planes" not in p.parts) or ["none"]


@pytest.mark.parametrize("relpath", _shared_files())
def test_labels_are_not_personal_in_any_shared_file(relpath, opened):
    """A channel, filter or dye name ("DAPI", "FITC BP"), a reader's own note and a list of
    numbers are not free text a person wrote."""
    source = opened(real_file(relpath))
    findings = scan(source.ome, source.original_metadata, source.format.name)
    print(relpath, [str(f) for f in findings])
    labels = {c.name.lower() for s in source.scenes for c in s.channels if c.name}
    for finding in findings:
        assert finding.value.lower() not in labels, finding
        if finding.kind == "free text":
            assert len(finding.value.split()) >= 3 and "=" not in finding.value, finding
        assert "unstructured metadata" not in finding.value, finding


def test_nd2_channel_descriptions_are_not_findings(opened):
    source = opened(real_file("nd2/example-multichannel.nd2"))
    assert _found(source) == set()  # before: DAPI, FITC BP, TRITC BP, Mono, 'Custom', nd2's note


def test_each_finding_removed_or_kept_on_its_own(vendor_copy, tmp_path):
    """The sidecar says which findings exports remove; the rest stay."""
    path = vendor_copy("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")
    session = Session.open(path)
    folder = {f.value: f for f in session.privacy_findings if f.kind == "user folder"}["zeiss"]
    ids = {f.id for f in session.privacy_findings}
    assert len(ids) == len(session.privacy_findings) and all(session.chosen_for_removal(f)
                                                            for f in session.privacy_findings)
    session.edit("privacy.remove_on_export", "yes")
    session.choose_removal(folder.id, False)
    assert not session.chosen_for_removal(folder) and folder not in session.removed_findings
    saved = json.loads(session.save().read_text())
    assert set(saved["privacy"]["removed"]) == ids - {folder.id}
    again = Session.open(path)  # the choice comes back with the sidecar, ids are stable
    assert [f.id for f in again.privacy_findings] == [f.id for f in session.privacy_findings]
    xml = _exported_xml(again, tmp_path / "a.ome.tif")
    assert "M1SRH" not in xml and "m1srh" not in xml.lower()
    assert "Users\\zeiss" in xml  # kept: unticked
    again.edit("rembi.study.authors", "M1SRH; Jane Doe")  # a login typed as an author
    idr = "".join(p.read_text() for p in again.export_idr(tmp_path / "idr"))
    assert "M1SRH" not in idr and "[removed]" in idr and "Doe" in idr
    again.choose_removal(session.privacy_findings[0].id, False)  # the name kept after all
    assert "M1SRH" in "".join(p.read_text() for p in again.export_idr(tmp_path / "idr2"))


def test_cli_privacy_json(vendor_copy):
    from tests.test_cli import lightmic

    path = vendor_copy("lsm/test.lsm")
    done = lightmic("metadata", path, "--privacy", "--json")
    assert done.returncode == 0, done.stderr
    [finding] = json.loads(done.stdout)
    assert finding["text"] == "Jefferis" and finding["field"] == "OME Experimenter 1 user name"
    assert finding["reason"] and finding["removed"] is False
    assert finding["id"].startswith("name-") and "Jefferis" not in finding["id"]
    assert lightmic("metadata", path, "--set", "privacy.remove_on_export=yes").returncode == 0
    [finding] = json.loads(lightmic("metadata", path, "--privacy", "--json").stdout)
    assert finding["removed"] is True
