import json
import os
from pathlib import Path

import pytest

# Real vendor files live beside the checkout and are never copied into the repo.
TESTDATA = Path(os.environ.get("LIGHTMIC_TESTDATA",
                               Path(__file__).resolve().parents[2] / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def truth(testdata) -> dict:
    return json.loads((testdata / "truth.json").read_text())


def real_file(relpath: str) -> Path:
    """A file of the shared test data, or a skip naming what is missing."""
    path = TESTDATA / relpath
    if not path.exists():
        pytest.skip(f"shared test file {relpath} not found")
    return path
