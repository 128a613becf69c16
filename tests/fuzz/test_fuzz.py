"""Damaged, truncated and hostile input: every case opens and reads, or fails cleanly.

Each case is a seeded mutation (mutate.py) of one dataset — a small file of every family of
the shared test data, and synthetic OME-Zarr 0.4/0.5, PNG, JPEG and HDF5 — put through
``open_image`` and a read of the first and a random plane of every scene, ``lightmic info
--json`` and ``lightmic convert``, each in a subprocess limited to 10 s and 4 GiB of address
space (run.py). A case passes when every stage ends "ok" (opened and read) or "clean" (a
`LightmicError` naming the file, on one line; a failed conversion leaves nothing behind);
it fails on "refused" (a good file under an odd name), "accepted" (a DTD opened), "escaped"
(another exception type, a traceback), "leaked", "hang", "memory" or "crash".

By default a smoke set of `SMOKE_CASES` cases runs, drawn only from the mutation kinds and
families that already end well (`SMOKE_KINDS`, `SMOKE_FAMILIES`); widen it as the causes are
fixed. Set
``LIGHTMIC_FUZZ=500`` to run 500 cases of every kind instead (``LIGHTMIC_FUZZ_SEED`` picks
another seed), e.g.::

    LIGHTMIC_FUZZ=300 pytest -q tests/fuzz/test_fuzz.py

A failing test names its case id; replay it with everything printed, and keep its damaged
copy to look at::

    python -m tests.fuzz.run --replay 14-37 --keep

or run the fuzzer on its own for a summary table by outcome, family and kind::

    python -m tests.fuzz.run --seed 7 --cases 5000 --out report.jsonl
"""

from __future__ import annotations

import json
import os

import pytest

from tests.fuzz.mutate import FAMILIES, KINDS
from tests.fuzz.run import BAD, cases, run_case

SEED = os.environ.get("LIGHTMIC_FUZZ_SEED", "14")
SMOKE_CASES = 20
# What ended "ok" or "clean" in every case of a run on main (issue 14): truncations, except
# of PNG and JPEG (bioio's error for them is several lines long) and of OME-Zarr (a cut
# chunk's codec error escapes at read time). The other kinds still find escaping errors,
# hangs and memory blow-ups, being fixed.
SMOKE_KINDS = ("truncate",)
SMOKE_FAMILIES = tuple(f for f in FAMILIES if f not in ("png", "jpeg", "zarr"))


def _chosen() -> list:
    wanted = os.environ.get("LIGHTMIC_FUZZ", "")
    if wanted:
        return cases(SEED, int(wanted), kinds=KINDS)
    return cases(SEED, SMOKE_CASES, families=SMOKE_FAMILIES, kinds=SMOKE_KINDS)


CASES = _chosen()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.id}-{c.source.family}-{c.kind}" for c in CASES])
def test_case_opens_and_reads_or_fails_cleanly(case, tmp_path):
    record = run_case(case, tmp_path)
    if record["outcome"] in BAD:
        stages = {stage: f"{r['outcome']}: {r['detail']}" for stage, r in record["stages"].items()}
        pytest.fail(f"case {case.id} ({case.source.name}, {record['mutation']}) ended "
                    f"{record['outcome']}:\n{json.dumps(stages, indent=2, ensure_ascii=False)}\n"
                    f"replay: python -m tests.fuzz.run --replay {case.id} --keep")
    assert record["outcome"] in ("ok", "clean")
