"""One error base for reading, writing and sidecars: the path and the cause, one line."""

import pytest

from napari_lightmic import LightmicError, LightmicReadError, SidecarError, WriteError, open_image
from napari_lightmic.writing import write


@pytest.mark.parametrize("kind", [LightmicReadError, WriteError, SidecarError])
def test_every_error_names_path_and_cause(kind):
    err = kind("/data/a.czi", "is truncated")
    assert isinstance(err, LightmicError)
    assert (err.path, err.cause, str(err)) == ("/data/a.czi", "is truncated",
                                               "/data/a.czi: is truncated")


def test_raised_errors_share_the_base(tmp_path):
    with pytest.raises(LightmicError, match="no such file"):
        open_image(tmp_path / "missing.czi")
    import numpy as np
    import tifffile

    tifffile.imwrite(tmp_path / "a.ome.tif", np.zeros((8, 8), np.uint8), ome=True)
    with pytest.raises(LightmicError, match="must end in"):
        write(open_image(tmp_path / "a.ome.tif"), tmp_path / "out.png")


def test_utf8_tree_escapes_every_text_and_leaves_clean_parts_alone():
    import math
    import os
    from pathlib import Path

    from napari_lightmic.errors import json_text, utf8_tree

    name = os.fsdecode(b"caf\xe9")
    clean = {"a": [1, "b"]}
    tree = {name: [name, (name, 2.5)], "clean": clean, "path": Path(name), "nan": math.nan}
    mended = utf8_tree(tree)
    assert mended == {"caf\\xe9": ["caf\\xe9", ("caf\\xe9", 2.5)], "clean": clean,
                      "path": "caf\\xe9", "nan": mended["nan"]}
    assert mended["clean"] is clean and utf8_tree(clean) is clean
    assert math.isnan(mended["nan"])  # only strict JSON makes it unknown
    assert json_text({"nan": math.nan, "lone": "\ud800", 1: name}, compact=True) == (
        '{"nan":null,"lone":"\\\\ud800","1":"caf\\\\xe9"}')


def test_a_librarys_error_is_one_line_of_its_type_and_message():
    from napari_lightmic.errors import MAX_CAUSE, cause_of

    # several lines kept whole (pydantic and HTTP errors put the detail on the next line)
    assert cause_of(ValueError("1 validation error\n  size_x\n    must be > 0")) == \
        "ValueError: 1 validation error size_x must be > 0"
    assert cause_of(KeyError()) == "KeyError"
    assert cause_of(RuntimeError(""), "the task failed") == "RuntimeError: the task failed"
    long = cause_of(OSError("x" * 1000))
    assert long.startswith("OSError: ") and long.endswith("…")
    assert len(long) == len("OSError: ") + MAX_CAUSE
    assert cause_of(ValueError("bad \x1b[31m name")) == "ValueError: bad \\x1b[31m name"
