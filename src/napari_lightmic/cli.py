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
    convert = sub.add_parser("convert", help="write a file as OME-Zarr or OME-TIFF, losslessly")
    convert.add_argument("input")
    convert.add_argument("output", help="*.ome.zarr or *.ome.tif(f): the format follows")
    convert.add_argument("--scene", default="0", help="scene index or name, or 'all'")
    convert.add_argument("--ngff-version", choices=["0.4", "0.5"], default="0.5")
    convert.add_argument("--compression", help="zstd (OME-Zarr default), lz4, zlib (OME-TIFF "
                         "default), lzw, none")
    convert.add_argument("--pyramid-levels", type=int, help="levels including full resolution "
                         "(default: down to about 256 px)")
    convert.add_argument("--shard", action="store_true", help="zarr v3 shards (NGFF 0.5)")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing output")
    check = sub.add_parser("validate", help="check an OME-Zarr or OME-TIFF against its spec")
    check.add_argument("path")
    view = sub.add_parser("view", help="open napari with a file (or the sample data)")
    view.add_argument("path", nargs="?", help="file to open; the sample data when absent")
    view.add_argument("--scene", type=_scene_arg, default=0, help="scene index or name")
    view.add_argument("--screenshot", metavar="PNG",
                      help="save the window to PNG and quit instead of staying open")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .writing import WriteError

    try:
        if args.command == "info":
            return _info(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "view":
            return _view(args)
    except (LightmicReadError, WriteError) as err:
        print(f"lightmic: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lightmic: interrupted; nothing was written at the output path", file=sys.stderr)
        return 130
    return 1


class TerminalProgress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, label: str, stream=sys.stderr):
        self.label, self.stream = label, stream
        self.active = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.active or total <= 0:
            return
        percent = int(100 * done / total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            self.stream.flush()

    def close(self) -> None:
        if self.active and self.shown >= 0:
            self.stream.write("\n")


def _convert(args) -> int:
    import time

    from .writing import convert

    scene = "all" if args.scene == "all" else _scene_arg(args.scene)
    progress = TerminalProgress(f"writing {args.output}")
    start = time.perf_counter()
    try:
        out = convert(args.input, args.output, scene, ngff_version=args.ngff_version,
                      compression=args.compression, pyramid_levels=args.pyramid_levels,
                      overwrite=args.overwrite, shard=args.shard, progress=progress)
    finally:
        progress.close()
    print(f"lightmic: wrote {out} in {time.perf_counter() - start:.1f} s")
    return 0


def _validate(args) -> int:
    from .writing import validate

    problems = validate(args.path)
    for problem in problems:
        print(f"{args.path}: {problem}")
    if not problems:
        print(f"{args.path}: valid")
    return 1 if problems else 0


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
