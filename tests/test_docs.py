"""The user guide (mkdocs.yml, docs/): it builds with no warning and without the network, its
command line reference is the parser's, and every picture it shows is in docs/ and made by a
test of the suite (run with LIGHTMIC_SCREENSHOTS=docs to store them there)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
# what a page loads when it is shown (a link to a web site is followed by a reader, not loaded)
LOADED = re.compile(r"<(?:img|script|iframe|source)\b[^>]*\bsrc=\"([^\"]+)\""
                    r"|<link\b[^>]*\bhref=\"([^\"]+)\""
                    r"|url\(['\"]?([^'\")]+)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
# The pictures of the other items of issue 11, made by their tests: named when missing.
FROM_ISSUE_11 = {
    "napari-open-quiet.png": "item 1 (one quiet info notification per session)",
    "napari-scene-picker.png": "item 3 (the Scenes dock marks the scenes already open)",
    "napari-metadata-colour.png": "item 10 (a colour swatch and picker beside the hex field)",
    "napari-metadata-privacy.png": "item 8 (a tick box for each privacy finding)",
}


def guide_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def shown_images() -> dict[str, list[str]]:
    """Each picture in docs/ that a page of the guide or the README shows, and where."""
    shown: dict[str, list[str]] = {}
    for page in [*guide_pages(), README]:
        base = page.parent
        for target in IMAGE.findall(page.read_text(encoding="utf-8")):
            path = (base / target).resolve()
            assert path.parent == DOCS, f"{page.name} shows {target}, not a picture in docs/"
            shown.setdefault(path.name, []).append(page.name)
    return shown


def makers_of(name: str) -> list[str]:
    """Node ids of the test functions that save the picture `name` (``_keep(shot, name)``)."""
    saves = re.compile(r"""_keep\([^)]*["']""" + re.escape(name) + "[\"']")
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if name not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
                    and saves.search(ast.get_source_segment(text, node) or "")):
                found.append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


SHOWN = shown_images()


@pytest.mark.parametrize("image", sorted(SHOWN))
def test_each_picture_is_made_by_a_test_and_kept_in_docs(image):
    makers = makers_of(image)
    later = f" (issue 11, {FROM_ISSUE_11[image]})" if image in FROM_ISSUE_11 else ""
    assert makers, (f"{image}, shown by {SHOWN[image]}: no test makes it{later}; a screenshot "
                    f"test keeps it with _keep(shot, {image!r})")
    assert (DOCS / image).is_file(), (
        f"docs/{image}, shown by {SHOWN[image]}, is missing{later}: run "
        f"LIGHTMIC_SCREENSHOTS=docs pytest {' '.join(makers)}")


def test_every_picture_in_docs_is_shown():
    kept = {path.name for path in DOCS.glob("*.png")}
    assert kept - set(SHOWN) == set(), "pictures in docs/ that no page shows"


def test_the_readme_links_into_every_page_of_the_guide():
    import yaml  # mkdocs's own dependency

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = [page for entry in config["nav"] for page in entry.values()]
    assert sorted(nav) == sorted(p.name for p in guide_pages())  # no page outside the nav
    readme = README.read_text(encoding="utf-8")
    for page in nav:
        if page != "index.md":
            assert f"(docs/{page}" in readme, f"the README does not link to docs/{page}"


def build(target: Path, strict: bool = True) -> subprocess.CompletedProcess:
    """`mkdocs build` as CI runs it, with the network out of reach: any request goes to a
    proxy that does not exist."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead,
               ALL_PROXY=dead, NO_PROXY="", no_proxy="")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "mkdocs", "build",
                           "--strict" if strict else "--no-strict",
                           "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(target)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def warnings_of(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]


def test_the_guide_builds_strictly(tmp_path):
    """As CI builds it: any warning (a missing picture, a broken link or anchor, a docstring
    mkdocstrings cannot read) fails the build."""
    done = build(tmp_path / "site")
    assert done.returncode == 0 and not warnings_of(done), done.stdout + done.stderr
    for page in guide_pages():
        assert (tmp_path / "site" / page.with_suffix(".html").name).is_file(), page.name


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The guide as built, for what its pages hold (a missing picture fails the strict
    build above, not these)."""
    target = tmp_path_factory.mktemp("guide") / "site"
    done = build(target, strict=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_the_guide_loads_nothing_from_the_web(site):
    """Offline and private: no web fonts, scripts or pictures fetched when a page shows."""
    loaded = set()
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        for groups in LOADED.findall(path.read_text(encoding="utf-8", errors="replace")):
            loaded.update((path.name, url) for url in groups if url and EXTERNAL.match(url))
    assert loaded == set()


def test_the_command_line_reference_is_the_parser(site):
    import argparse

    from napari_lightmic.cli import build_parser

    page = (site / "cli.html").read_text(encoding="utf-8")
    [commands] = [a for a in build_parser()._actions
                  if isinstance(a, argparse._SubParsersAction)]
    assert commands.choices, "lightmic has no subcommands?"
    for name, parser in commands.choices.items():
        assert f'id="lightmic-{name}"' in page, f"lightmic {name} is not in the reference"
        for action in parser._actions:
            for option in action.option_strings:
                assert f"{option}" in page, f"lightmic {name} {option} is not in the reference"


def test_the_api_page_documents_the_public_names(site):
    import napari_lightmic

    page = (site / "api.html").read_text(encoding="utf-8")
    for name in ["open_image", "view", *[n for n in napari_lightmic.__all__
                                         if n.endswith("Error")]]:
        assert re.search(rf'id="napari_lightmic\.[\w.]*{name}"', page), name
    for name in ["model.ImageSource", "model.Scene", "model.Channel", "session.Session",
                 "writing.write", "writing.WriteOptions", "batch.audit.audit",
                 "batch.audit.audit_dataset", "batch.report.write_reports"]:
        assert f'id="napari_lightmic.{name}"' in page, name


def test_screenshot_of_the_sample_through_lightmic_view(tmp_path):
    """The picture of `bash scripts/napari.sh` on a machine without a screen: `lightmic view
    --screenshot`, run as a user runs it (under the tests' Xvfb display)."""
    from PIL import Image

    from tests._napari.test_reader import _keep

    out = tmp_path / "sample.png"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "napari_lightmic", "view", "--screenshot",
                           str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"saved {out}" in done.stdout
    shot = np.asarray(Image.open(out).convert("RGBA"))
    assert shot.shape[:2] == (750, 1100)
    rgb = shot[..., :3].astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    assert ((b > 120) & (r < 80) & (g < 80)).mean() > 0.001   # DAPI nuclei, blue
    assert ((g > 120) & (r < 80) & (b < 80)).mean() > 0.01    # GFP cells, green
    assert ((r > 150) & (b > 150) & (g < r - 60)).sum() > 50  # mCherry spots, magenta
    _keep(shot, "napari-sample-cells.png")
