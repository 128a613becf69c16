"""Bio-Formats' ImageInfo (showinf) on a file: its series, resolutions and OME-XML."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def image_info(java: str, jar: Path, path: Path) -> dict:
    """{'series_count', 'resolutions': [n per series], 'ome_xml'} as Bio-Formats reads them.

    -nopix: metadata only; -noflat: pyramid levels as resolutions of a series (not as more
    series); -omexml: the OME-XML Bio-Formats builds from what it read; -nometa: no
    original-metadata table; -novalid: no schema validation (not the point here).
    """
    cmd = [java, "-Xmx1g", "-cp", str(jar), "loci.formats.tools.ImageInfo", "-nopix", "-noflat",
           "-omexml", "-novalid", "-nometa", "-no-upgrade", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or "<OME" not in done.stdout:
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}:\n"
                             f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    text = done.stdout
    head, xml = text[:text.index("<?xml")], text[text.index("<?xml"):]
    count = int(re.search(r"Series count = (\d+)", head).group(1))
    blocks = re.split(r"\nSeries #\d+", head)[1:]
    resolutions = []
    for block in blocks:
        found = re.search(r"Resolutions = (\d+)", block)
        resolutions.append(int(found.group(1)) if found else 1)
    return {"series_count": count, "resolutions": resolutions, "ome_xml": xml.strip()}


def convert(java: str, jar: Path, path: Path, target: Path) -> None:
    """Bio-Formats' bfconvert: its decoding of every plane of every series (full resolution,
    -noflat), written uncompressed to a new OME-TIFF that tifffile can read."""
    cmd = [java, "-Xmx1g", "-Djava.awt.headless=true", "-cp", str(jar),
           "loci.formats.tools.ImageConverter", "-noflat", "-novalid", "-no-upgrade",
           "-overwrite", str(path), str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not target.exists():
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}:\n"
                             f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
