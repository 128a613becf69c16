"""The `lightmic` command line: the plugin's jobs without a viewer."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import LightmicReadError

EXIT_BAD_INPUT = 2


def _scene_arg(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lightmic", description="Light-microscopy files: inspect, view, convert."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="describe a file's scenes, sizes and channels")
    info.add_argument("path")
    info.add_argument("--scene", type=_scene_arg, help="one scene, by index or name")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    view = sub.add_parser("view", help="open napari with a file (or the sample data)")
    view.add_argument("path", nargs="?", help="file to open; the sample data when absent")
    view.add_argument("--scene", type=_scene_arg, default=0, help="scene index or name")
    view.add_argument("--screenshot", metavar="PNG",
                      help="save the window to PNG and quit instead of staying open")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            return _info(args)
        if args.command == "view":
            return _view(args)
    except LightmicReadError as err:
        print(f"lightmic: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 1


def _info(args) -> int:
    from .describe import describe_source, format_text
    from .reading import open_image

    info = describe_source(open_image(args.path), args.scene)
    if args.json:
        print(json.dumps(info, indent=1, ensure_ascii=False))
    else:
        print(format_text(info))
    return 0


def _view(args) -> int:
    import napari

    viewer = napari.Viewer()
    if args.path:
        from ._napari.view import view
        from .reading import open_image

        open_image(args.path).scene(args.scene)  # a bad path or scene fails here, before the GUI
        view(args.path, args.scene, viewer=viewer)
    else:
        viewer.open_sample("napari-lightmic", "cells")
    viewer.scale_bar.visible = True
    if args.screenshot:
        from qtpy.QtWidgets import QApplication

        viewer.window._qt_window.resize(1100, 750)
        viewer.reset_view()
        QApplication.processEvents()
        viewer.screenshot(args.screenshot, canvas_only=False, flash=False)
        print(f"lightmic: saved {args.screenshot}")
        viewer.close()
        return 0
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
