"""The interop tests cover every file of the shared tree that the plugin opens."""

import pytest

from napari_lightmic.formats import format_for

from .conftest import FILES

pytestmark = pytest.mark.interop


def test_every_shared_file_is_covered(testdata):
    found = set()
    for path in testdata.rglob("*"):
        if not path.is_file() or format_for(path) is None:
            continue
        if path.suffix == ".h5" and path.with_suffix(".xml").exists():
            continue  # BigDataViewer: opened through its XML
        found.add(path.relative_to(testdata).as_posix())
    assert found - set(FILES) == set(), "shared files the interop tests do not convert"
