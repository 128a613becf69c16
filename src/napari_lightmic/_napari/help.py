"""Help > napari-lightmic guide: the user guide, the local build when there is one, else online.

napari 0.9 takes no manifest menu items for its Help menu (`napari/help` is not among the
menus plugins may contribute to: napari drops such items without a word). The command is
therefore declared in the manifest (so napari's command palette finds it from the start) and
put into the Help menu through napari's app-model when napari activates the plugin (npe2's
`on_activate`: the first time a file, sample, dock or command of the plugin is used).
"""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from npe2 import PluginContext

COMMAND = "napari-lightmic.open_guide"
TITLE = "napari-lightmic guide"
HELP_MENU = "napari/help"
GUIDE_URL = "https://napari-lightmic.github.io/guide/"
# `mkdocs build` in a checkout writes the guide to site/ at the top of the repository
LOCAL_GUIDE = Path(__file__).resolve().parents[3] / "site" / "index.html"


def guide_location() -> str:
    """The address of the guide.

    `LIGHTMIC_GUIDE` (a URL, a folder or an HTML file) when set, else the guide built in this
    checkout (`site/index.html`), else the online guide.
    """
    setting = os.environ.get("LIGHTMIC_GUIDE", "").strip()
    if urlsplit(setting).scheme in ("http", "https", "file"):  # an address, not a path
        return setting
    if setting:
        path = Path(setting).expanduser()
        path = path / "index.html" if path.is_dir() else path
        if path.is_file():
            return path.resolve().as_uri()
    if LOCAL_GUIDE.is_file():
        return LOCAL_GUIDE.as_uri()
    return GUIDE_URL


def open_guide() -> str:
    """Open the guide in the web browser; the address opened."""
    url = guide_location()
    webbrowser.open(url)
    return url


def activate(context: PluginContext) -> None:
    """npe2's `on_activate`: add the guide to napari's Help menu (removed on deactivation)."""
    try:
        from app_model.types import CommandRule, MenuItem
        from napari._app_model import get_app_model
    except ImportError:  # npe2 without napari (e.g. `npe2 validate`): no menu to add to
        return
    item = MenuItem(command=CommandRule(id=COMMAND, title=TITLE), group="9_plugins")
    context.register_disposable(get_app_model().menus.append_menu_items([(HELP_MENU, item)]))
