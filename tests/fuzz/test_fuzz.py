"""Damaged, truncated and hostile input: every case opens and reads, or fails cleanly.

Each case is a seeded mutation (mutate.py) of one dataset — a small file of every family of
the shared test data, and synthetic OME-Zarr 0.4/0.5, PNG, JPEG and HDF5 — put through
``open_image`` and a read of the first and a random plane of every scene, ``lightmic info
--json`` and ``lightmic convert``, each in a subprocess limited to 10 s and 4 GiB of address
space (run.py). A case passes when every stage ends "ok" (opened and read) or "clean" (a
`LightmicError` naming the file, on one line; a failed conversion leaves nothing behind);
it fails on "refused" (a good file under an odd name), "accepted" (a DTD opened), "escaped"
(another exception type, a traceback), "leaked", "hang", "memory" or "crash".

The suite runs `CI_CASES` cases of every kind and family (seed `SEED`) through one runner
process that forks each stage (``--fork``: the imports paid once, the same limits), and a few
through ``python -m napari_lightmic`` itself, as a user runs it (`SPAWNED`). Set
``LIGHTMIC_FUZZ=5000`` to run more (``LIGHTMIC_FUZZ_SEED`` picks another seed), e.g.::

    LIGHTMIC_FUZZ=5000 LIGHTMIC_FUZZ_SEED=5 pytest -q tests/fuzz/test_fuzz.py

A failing test names its case id; replay it with everything printed, and keep its damaged
copy to look at::

    python -m tests.fuzz.run --replay 14-37 --keep

or run the fuzzer on its own for a summary table by outcome, family and kind::

    python -m tests.fuzz.run --fork --seed 7 --cases 5000 --out report.jsonl
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.mutate import KINDS
from tests.fuzz.run import BAD, cases, run_case

SEED = os.environ.get("LIGHTMIC_FUZZ_SEED", "14")
CI_CASES = int(os.environ.get("LIGHTMIC_FUZZ", "") or 300)
SPAWNED = 6  # of them, also run through fresh `python -m napari_lightmic` processes
ROOT = Path(__file__).resolve().parents[2]

CASES = cases(SEED, CI_CASES, kinds=KINDS)


@pytest.fixture(scope="module")
def forked_run(tmp_path_factory) -> dict[str, dict]:
    """Every case, run once by `python -m tests.fuzz.run --fork`: the record of each by id."""
    folder = tmp_path_factory.mktemp("fuzz")
    report = folder / "report.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run", "--fork", "--seed", SEED, "--cases",
         str(CI_CASES), "--out", str(report), "--workdir", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60 * 30)
    records = {r["id"]: r for r in map(json.loads, report.read_text().splitlines())}
    assert len(records) == len(CASES), done.stderr[-3000:]
    return records


def _judge(record: dict) -> None:
    if record["outcome"] in BAD:
        stages = {stage: f"{r['outcome']}: {r['detail']}" for stage, r in record["stages"].items()}
        pytest.fail(f"case {record['id']} ({record['source']}, {record['mutation']}) ended "
                    f"{record['outcome']}:\n{json.dumps(stages, indent=2, ensure_ascii=False)}\n"
                    f"replay: python -m tests.fuzz.run --replay {record['id']} --keep")
    assert record["outcome"] in ("ok", "clean")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.id}-{c.source.family}-{c.kind}" for c in CASES])
def test_case_opens_and_reads_or_fails_cleanly(case, forked_run):
    _judge(forked_run[case.id])


# one of each family in turn, as a user runs the commands: a fresh process per stage
@pytest.mark.parametrize("case", CASES[:SPAWNED],
                         ids=[f"{c.id}-{c.source.family}-{c.kind}" for c in CASES[:SPAWNED]])
def test_case_in_fresh_processes(case, tmp_path, forked_run):
    record = run_case(case, tmp_path)
    _judge(record)
    forked = forked_run[case.id]
    assert {s: r["outcome"] for s, r in record["stages"].items()} == {
        s: r["outcome"] for s, r in forked["stages"].items()}, "forked and spawned disagree"
