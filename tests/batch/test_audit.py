"""`lightmic audit` and `napari_lightmic.batch.audit.audit`: one row per dataset of a folder of
real vendor files, a synthetic OME-Zarr and a broken file; totals by format; the same rows from
the command line as from the API; the reports a data steward opens."""

import csv
import io
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from napari_lightmic.batch.audit import (
    audit,
    audit_dataset,
    audit_json,
    audit_totals,
    write_audit,
)
from napari_lightmic.session import Session
from tests.conftest import real_file

FILES = {"CellDivision_T3_Z5_CH2_X240_Y170.czi": "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
         "LeicaLASX_wavelength-sweep_example.lif": "lif/LeicaLASX_wavelength-sweep_example.lif",
         "sub/example-multichannel.nd2": "nd2/example-multichannel.nd2",
         "sub/s_1_t_1_c_1_z_1.ome.tiff": "ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff"}


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A lab's share: four vendor files (one with a sidecar of edits), an OME-Zarr, a text
    file named .czi, and files that are no dataset (notes, the sidecar)."""
    from tests.reading.zarr_fixtures import write_ome_zarr

    root = tmp_path_factory.mktemp("share")
    for name, relpath in FILES.items():
        (root / name).parent.mkdir(exist_ok=True)
        shutil.copy(real_file(relpath), root / name)
    write_ome_zarr(root / "sub" / "deep" / "plate.ome.zarr", "0.5")
    (root / "broken.czi").write_text("this is a text file, not a CZI\n")
    (root / "notes.txt").write_text("acquired on Tuesday\n")
    session = Session.open(root / "CellDivision_T3_Z5_CH2_X240_Y170.czi")
    session.edit("rembi.study.title", "Mitosis")
    session.save()
    return root


@pytest.fixture(scope="module")
def rows(collection):
    return audit([str(collection)])


def by_name(rows):
    return {row["path"].rsplit("/", 1)[-1]: row for row in rows}


def test_one_row_per_dataset_in_path_order(collection, rows):
    names = [row["path"].removeprefix(str(collection) + "/") for row in rows]
    assert names == ["CellDivision_T3_Z5_CH2_X240_Y170.czi",
                     "LeicaLASX_wavelength-sweep_example.lif", "broken.czi",
                     "sub/deep/plate.ome.zarr", "sub/example-multichannel.nd2",
                     "sub/s_1_t_1_c_1_z_1.ome.tiff"]  # the OME-Zarr once, sidecar and notes not


def test_a_proprietary_file_with_its_sidecar_and_personal_data(rows):
    czi = by_name(rows)["CellDivision_T3_Z5_CH2_X240_Y170.czi"]
    assert (czi["format"], czi["vendor"], czi["open_format"], czi["lossy"]) == \
        ("CZI", "Carl Zeiss", False, False)
    assert czi["action"] == "convert" and "proprietary" in czi["advice"]
    assert czi["scenes"] == 1
    assert czi["dims"] == [{"name": "CellDivision_T3_Z5_CH2_X240_Y170", "dims": "TCZYX",
                            "shape": [3, 2, 5, 170, 240]}]
    assert (czi["pixel_sizes"], czi["channel_names"]) == ("known", "recorded")
    assert czi["rembi"]["total"] == 12 and "Study title" not in czi["rembi"]["missing"]
    assert "Study description" in czi["rembi"]["missing"]
    assert ("user folder", "zeiss") in {(f["kind"], f["text"]) for f in czi["privacy"]}
    assert czi["error"] is None and czi["size"] == real_file(FILES[
        "CellDivision_T3_Z5_CH2_X240_Y170.czi"]).stat().st_size


def test_the_rembi_count_is_that_of_the_sidecar(collection, rows):
    czi = by_name(rows)["CellDivision_T3_Z5_CH2_X240_Y170.czi"]
    (collection / "CellDivision_T3_Z5_CH2_X240_Y170.czi.lightmic.json").rename(
        collection / "away.json")
    try:
        without = audit_dataset(czi["path"])
    finally:
        (collection / "away.json").rename(
            collection / "CellDivision_T3_Z5_CH2_X240_Y170.czi.lightmic.json")
    assert without["rembi"]["filled"] == czi["rembi"]["filled"] - 1
    assert "Study title" in without["rembi"]["missing"]


def test_open_formats_are_kept_and_have_no_advice(rows):
    found = by_name(rows)
    zarr = found["plate.ome.zarr"]
    assert (zarr["format"], zarr["open_format"], zarr["advice"], zarr["action"]) == \
        ("OME-Zarr", True, None, "keep")
    assert zarr["dims"][0]["shape"][-2:] == [64, 64] and zarr["pixel_sizes"] == "known"
    assert zarr["privacy"] == [] and zarr["error"] is None
    tiff = found["s_1_t_1_c_1_z_1.ome.tiff"]
    assert (tiff["format"], tiff["action"], tiff["advice"]) == ("OME-TIFF", "keep", None)
    lif, nd2 = found["LeicaLASX_wavelength-sweep_example.lif"], found["example-multichannel.nd2"]
    assert (lif["format"], lif["vendor"], lif["action"]) == ("LIF", "Leica", "convert")
    assert lif["scenes"] == len(lif["dims"]) > 1
    assert (nd2["format"], nd2["action"], nd2["privacy"]) == ("ND2", "convert", [])


def test_a_file_that_cannot_be_opened_keeps_its_row_with_the_reason(rows):
    broken = by_name(rows)["broken.czi"]
    assert (broken["format"], broken["open_format"], broken["action"]) == ("CZI", False,
                                                                            "convert")
    assert broken["error"] and "\n" not in broken["error"] and "CZI" in broken["error"]
    assert broken["scenes"] is None and broken["privacy"] is None and broken["size"] == 31


def test_totals_by_format_and_what_to_keep_or_convert(rows):
    totals = audit_totals(rows)
    size = {name: row["size"] for name, row in by_name(rows).items()}
    assert totals["by_format"]["CZI"] == {
        "count": 2, "bytes": size["CellDivision_T3_Z5_CH2_X240_Y170.czi"] + 31}
    assert set(totals["by_format"]) == {"CZI", "LIF", "ND2", "OME-TIFF", "OME-Zarr"}
    assert totals["keep"] == {"count": 2, "bytes": size["plate.ome.zarr"]
                              + size["s_1_t_1_c_1_z_1.ome.tiff"]}
    assert totals["convert"]["count"] == 3 and totals["unreadable"] == {"count": 1, "bytes": 31}
    assert totals["all"] == {"count": 6, "bytes": sum(size.values())}


def test_privacy_findings_are_those_of_lightmic_metadata_privacy_json(rows, capsys):
    from napari_lightmic.cli import main

    czi = by_name(rows)["CellDivision_T3_Z5_CH2_X240_Y170.czi"]
    assert main(["metadata", czi["path"], "--privacy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == czi["privacy"] != []


def refuse(constant):
    raise ValueError(f"not strict JSON: {constant}")


def lightmic(*args):
    """`python -m napari_lightmic`, as a user runs the command."""
    return subprocess.run([sys.executable, "-m", "napari_lightmic", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_the_command_prints_the_rows_of_the_api_as_json(collection, rows):
    done = lightmic("audit", collection, "--json")
    assert done.returncode == 1, done.stderr  # one dataset could not be opened
    printed = json.loads(done.stdout, parse_constant=refuse)
    assert printed == json.loads(audit_json(rows))
    assert printed["datasets"] == json.loads(json.dumps(rows))
    assert printed["totals"]["unreadable"]["count"] == 1


def test_the_command_audits_on_a_local_cluster_as_here(collection, rows):
    done = lightmic("audit", collection, "--json", "--workers", "1")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["datasets"] == json.loads(json.dumps(rows))
    assert lightmic("audit", collection, "--workers", "0").returncode == 2


def test_the_command_writes_html_and_prints_csv_and_a_table(collection, tmp_path):
    out = tmp_path / "audit.html"
    done = lightmic("audit", collection, "--html", out, "--csv")
    assert done.returncode == 1 and f"wrote {out}" in done.stderr
    lines = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(lines) == 6 and lines[0]["path"].endswith(".czi")
    assert json.loads(lines[0]["privacy"])[0]["kind"] and lines[0]["action"] == "convert"
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "<table class=\"sortable\">" in page

    class Cells(HTMLParser):
        cells = []

        def handle_data(self, data):
            self.cells.append(data)

    Cells().feed(page)
    assert "OME-Zarr" in Cells.cells and "broken.czi" in "".join(Cells.cells)
    table = lightmic("audit", collection / "sub")
    assert table.returncode == 0, table.stderr
    assert "keep as is: 2 datasets" in table.stdout and "convert: 1 dataset," in table.stdout


def test_usage_errors(collection, tmp_path):
    missing = lightmic("audit", tmp_path / "nothing-here")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    folder_as_output = lightmic("audit", "--json", collection, collection / "sub")
    assert folder_as_output.returncode == 2 and "*.json" in folder_as_output.stderr
    czi = collection / "CellDivision_T3_Z5_CH2_X240_Y170.czi"
    before = czi.read_bytes()
    input_as_output = lightmic("audit", "--csv", czi, collection / "sub")
    assert input_as_output.returncode == 2 and "*.csv" in input_as_output.stderr
    assert czi.read_bytes() == before  # not overwritten
    both = lightmic("audit", collection, "--csv", "--json")
    assert both.returncode == 2
    empty = lightmic("audit", tmp_path)
    assert empty.returncode == 0 and "no dataset found" in empty.stdout


def test_names_that_are_not_text_and_markup_stay_text(tmp_path):
    """A file name may hold a newline, markup and bytes that are not UTF-8."""
    import os

    from tests.reading.zarr_fixtures import write_ome_zarr

    folder = tmp_path / "share"
    folder.mkdir()
    write_ome_zarr(folder / "two\nlines <b>.ome.zarr", "0.5")
    weird = os.fsdecode(b"caf\xe9 <script>alert(1).czi")  # no "/" in a name
    (folder / weird).write_text("not a CZI")
    out = tmp_path / "audit.html"
    done = subprocess.run([sys.executable, "-m", "napari_lightmic", "audit", str(folder),
                           "--json", "--html", str(out)], capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr
    rows = json.loads(done.stdout.decode("utf-8"), parse_constant=refuse)["datasets"]
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == [
        "caf\\xe9 <script>alert(1).czi", "two\nlines <b>.ome.zarr"]
    assert rows[1]["error"] is None and rows[1]["format"] == "OME-Zarr"
    page = out.read_bytes().decode("utf-8")
    assert "<script>alert" not in page and "<b>" not in page and page.count("<script>") == 1
    assert "caf\\xe9 &lt;script&gt;alert(1).czi" in page
    assert "two\\nlines &lt;b&gt;.ome.zarr" in page


def test_globs_and_files_as_inputs(collection):
    rows = audit([str(collection / "**" / "*.nd2"), str(collection / "broken.czi")])
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["example-multichannel.nd2",
                                                           "broken.czi"]


def test_write_audit_writes_what_it_is_given(rows, tmp_path):
    paths = write_audit(rows, json_path=tmp_path / "a.json", csv_path=tmp_path / "a.csv")
    assert [p.name for p in paths] == ["a.json", "a.csv"] and not (tmp_path / "a.html").exists()
    assert json.loads((tmp_path / "a.json").read_text())["totals"] == audit_totals(rows)


def test_on_a_dask_distributed_client(collection, rows):
    import dask
    from distributed import Client, LocalCluster, get_task_stream

    # generous time limits: the machine running the tests may be busy
    with dask.config.set({"distributed.comm.timeouts.connect": "120s",
                          "distributed.comm.timeouts.tcp": "120s"}):
        cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
        client = Client(cluster, timeout=120)
        try:
            with get_task_stream(client) as stream:
                on_cluster = audit(str(collection), client=client)
        finally:
            client.close(timeout=120)
            cluster.close(timeout=120)
    assert on_cluster == rows
    ran = [str(task["key"]) for task in stream.data]
    assert len(ran) == len(rows) and all("audit_dataset" in key for key in ran)  # a task each


class PixelRead(BaseException):
    """A pixel read where none may be (not an Exception: no reader takes it for damage)."""


@pytest.fixture
def pixel_reads(monkeypatch):
    """The pixel reads made while the test runs, each also refused.

    Every entry point by which the readers of the collection's formats read pixels: dask's
    computes, the chunk source of every lazy array (`GuardedChunks`), and the libraries'
    own plane and region reads (tifffile's pages, pylibCZIrw, nd2's frames, liffile's
    images but for their memory map, which reads nothing, the LIF reader's mapped regions,
    zarr's selections), so that a reader reading pixels directly is caught as well.
    """
    import dask
    import liffile
    import nd2
    import tifffile
    import zarr.core.array
    from pylibCZIrw import czi

    from napari_lightmic.reading import lif
    from napari_lightmic.scene import axes

    reads = []

    def refused(what, original=None, allowed=lambda *args, **kwargs: False):
        def read(*args, **kwargs):
            if allowed(*args, **kwargs):
                return original(*args, **kwargs)
            reads.append(what)
            raise PixelRead(what)
        return read

    for owner, name in [(axes.GuardedChunks, "__getitem__"), (lif.MappedArray, "__getitem__"),
                        (tifffile.TiffPage, "asarray"), (tifffile.TiffFrame, "asarray"),
                        (czi.CziReader, "read"), (nd2.ND2File, "read_frame"),
                        (zarr.core.array.AsyncArray, "_get_selection")]:
        monkeypatch.setattr(owner, name, refused(f"{owner.__name__}.{name}"))
    for owner in (liffile.LifImage, liffile.LifFlimImage):
        monkeypatch.setattr(owner, "asarray", refused(
            f"{owner.__name__}.asarray", owner.asarray,
            lambda *args, **kwargs: kwargs.get("out") == "memmap"))
    with dask.config.set(scheduler=refused("a dask compute")):
        yield reads


def test_no_pixel_is_read(collection, rows, pixel_reads):
    assert audit(str(collection)) == rows
    assert pixel_reads == []


@pytest.mark.parametrize("name", [*FILES, "sub/deep/plate.ome.zarr"])
def test_a_pixel_read_by_any_reader_or_its_library_is_caught(collection, pixel_reads, name):
    """What `test_no_pixel_is_read` relies on: each file's planes, read by its reader's
    lazy array without dask or by the library directly, are seen."""
    import liffile
    import nd2
    import tifffile
    import zarr
    from pylibCZIrw import czi

    from napari_lightmic.scene.axes import GuardedChunks

    path = collection / name
    with Session.open(path) as session:
        graph = session.scenes[0].data.__dask_graph__()
        chunks = [v for v in graph.values() if isinstance(v, GuardedChunks)]
        for source in chunks[:1]:  # bioio's ND2 arrays have none: dask's alone
            with pytest.raises(PixelRead):
                source.array[(slice(0, 1),) * source.ndim]
    read = {".czi": lambda: czi.open_czi(str(path)).__enter__().read(),
            ".lif": lambda: liffile.imread(path),
            ".nd2": lambda: nd2.imread(path),
            ".tiff": lambda: tifffile.imread(path),
            ".zarr": lambda: next(zarr.open_group(path, mode="r").arrays())[1][...]
            }[path.suffix]
    with pytest.raises(PixelRead):
        read()
    assert pixel_reads


def test_a_multi_file_dataset_is_one_row_as_a_batch_counts_it(micromanager_dataset):
    # four files, one per stage position: one dataset, as `lightmic convert --output-dir` sees
    rows = audit([str(micromanager_dataset)])
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == [
        "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"]
    assert rows[0]["scenes"] == 4 and rows[0]["error"] is None
    files = sorted(micromanager_dataset.glob("*.ome.tif"))
    assert len(files) == 4 and rows[0]["size"] == sum(p.stat().st_size for p in files)


def test_the_html_page_does_not_write_each_row_as_csv_cells(rows, monkeypatch):
    """The page shows findings as text; the CSV's JSON cell of them is not made for it."""
    from napari_lightmic.batch import audit as module

    def refuse(*args, **kwargs):
        raise AssertionError("a row's privacy findings were made JSON for the page")

    monkeypatch.setattr(module, "json_text", refuse)
    page = module.audit_html(rows)
    assert "CellDivision_T3_Z5_CH2_X240_Y170.czi" in page
