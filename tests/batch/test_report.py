"""A batch's report files, from job records as the manifest keeps them: strict JSON, a CSV
that reads back, and a self-contained HTML page where no file name can inject markup."""

import csv
import json
import os
from html.parser import HTMLParser

import pytest

from napari_lightmic.batch.report import CSV_COLUMNS, write_reports
from napari_lightmic.errors import one_line, utf8_text

NEWLINE = "/data/two\nlines.czi"
MARKUP = "/data/<script>alert(1)</script>.lif"
NOT_UTF8 = os.fsdecode(b"/data/caf\xe9.nd2")  # a Latin-1 name: its byte kept as a surrogate


def record(path, state="done", **over):
    base = {
        "input": path, "output": path + ".ome.zarr", "format": "CZI", "size": 4_000_000,
        "mtime": 1_764_900_000.5, "fingerprint": "ab" * 32,
        "options": {"compression": "zstd", "ngff_version": "0.5"}, "state": state,
        "output_size": 2_000_000, "seconds": 2.0, "scenes": 3, "error": None,
        "worker": {"name": "tcp://127.0.0.1:40001", "address": "tcp://127.0.0.1:40001"},
        "started": "2026-12-05T01:00:00+00:00", "finished": "2026-12-05T01:00:02+00:00",
        "attempts": 1}
    base.update(over)
    return base


RECORDS = [
    record(NEWLINE),
    record(MARKUP, format="LIF", size=1_000_000, output_size=500_000, seconds=0.5,
           finished="2026-12-05T01:00:04+00:00", worker={"name": "w<b>1", "address": "a"}),
    record(NOT_UTF8, state="failed", format="ND2", size=3_000, output_size=None,
           seconds=float("nan"), scenes=None, error="the file is truncated <at 1 kB>",
           finished="2026-12-05T01:00:05+00:00"),
    record("/data/later.czi", state="planned", output_size=None, seconds=None, worker=None,
           started=None, finished=None, attempts=0),
]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    paths = write_reports(RECORDS, folder, title="Day 3 <acquisitions>",
                          started="2026-12-05T01:00:00+00:00",
                          finished="2026-12-05T01:00:10+00:00",
                          dashboard="http://127.0.0.1:8787/status")
    return folder, paths


def test_three_files_and_nothing_partial(written):
    folder, paths = written
    assert [p.name for p in paths] == ["report.json", "report.csv", "report.html"]
    assert sorted(p.name for p in folder.iterdir()) == ["report.csv", "report.html",
                                                       "report.json"]


def refuse(constant):
    raise ValueError(f"not strict JSON: {constant}")


def test_json_is_strict_and_keeps_every_record_and_a_summary(written):
    folder, _ = written
    text = (folder / "report.json").read_bytes().decode("utf-8")  # valid UTF-8
    data = json.loads(text, parse_constant=refuse)
    jobs = data["jobs"]
    assert [set(j) for j in jobs] == [set(r) for r in RECORDS]  # every key of the contract
    assert [j["input"] for j in jobs] == [NEWLINE, MARKUP, utf8_text(NOT_UTF8),
                                          "/data/later.czi"]
    assert jobs[2]["input"] == "/data/caf\\xe9.nd2" and jobs[2]["seconds"] is None
    assert jobs[0]["options"] == {"compression": "zstd", "ngff_version": "0.5"}
    summary = data["summary"]
    assert summary["states"] == {"planned": 1, "running": 0, "done": 2, "failed": 1,
                                 "skipped": 0}
    assert summary["bytes_in"] == 9_003_000 and summary["bytes_out"] == 2_500_000
    assert summary["bytes_done"] == 5_000_000
    assert summary["seconds"] == 10.0 and summary["job_seconds"] == 2.5
    assert summary["mb_per_s"] == pytest.approx(0.5)  # 5 MB done in 10 s
    assert data["title"] == "Day 3 <acquisitions>"
    assert data["dashboard"] == "http://127.0.0.1:8787/status"


def test_csv_reads_back_one_row_per_job(written):
    folder, _ = written
    with open(folder / "report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["input"] for r in rows] == [one_line(r["input"]) for r in RECORDS]
    assert rows[0]["input"] == "/data/two\\nlines.czi" and rows[2]["input"].endswith("\\xe9.nd2")
    first, second, failed, planned = rows
    assert (first["size_in"], first["size_out"], first["ratio"]) == ("4000000", "2000000", "0.5")
    assert float(first["mb_per_s"]) == 2.0 and float(second["mb_per_s"]) == 2.0
    assert (second["worker_name"], second["worker_address"]) == ("w<b>1", "a")
    assert (failed["state"], failed["reason"]) == ("failed", "the file is truncated <at 1 kB>")
    assert failed["seconds"] == failed["mb_per_s"] == failed["size_out"] == ""
    assert (planned["state"], planned["worker_name"], planned["scenes"]) == ("planned", "", "3")


class Page(HTMLParser):
    """The tags of a page, the text of its table cells, and its scripts."""

    def __init__(self):
        super().__init__()
        self.tags, self.cells, self.scripts, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "script"):
            self._in = tag
            (self.cells if tag == "td" else self.scripts).append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "td":
            self.cells[-1] += data
        elif self._in == "script":
            self.scripts[-1] += data


def test_html_is_self_contained_with_charts_and_escaped_names(written):
    folder, _ = written
    text = (folder / "report.html").read_bytes().decode("utf-8")
    page = Page()
    page.feed(text)
    tags = [t for t, _ in page.tags]
    assert tags.count("script") == 1 and "alert" not in page.scripts[0]  # only the sorter's
    assert "<script>alert" not in text and "<b>1" not in text
    assert tags.count("svg") == 2  # throughput over time, bytes by format
    assert "circle" in tags and "rect" in tags  # the finished jobs' points, the formats' bars
    # nothing is loaded from anywhere: no src or href, no CSS url()
    assert not [a for _, a in page.tags if "src" in a or "href" in a] and "url(" not in text
    assert "/data/<script>alert(1)</script>.lif" in page.cells  # shown as text, as named
    assert "/data/two\\nlines.czi" in page.cells and "/data/caf\\xe9.nd2" in page.cells
    assert "the file is truncated <at 1 kB>" in page.cells and "w<b>1" in page.cells
    assert sum(1 for t, a in page.tags if t == "tr" and a.get("class") == "failed") == 1
    assert "Day 3 <acquisitions>" in text.replace("&lt;", "<").replace("&gt;", ">")


def test_a_folder_that_cannot_be_written_is_a_write_error(tmp_path):
    from napari_lightmic.errors import WriteError

    with pytest.raises(WriteError, match="cannot be written"):
        write_reports(RECORDS, tmp_path / "missing", title="t", started="", finished="")
