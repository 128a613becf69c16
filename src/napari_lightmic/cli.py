"""The `lightmic` command line: the plugin's jobs without a viewer."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from .errors import LightmicError, NoSuchScene, UsageError, json_text, one_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .metadata.record import MetadataRecord
    from .rois import Roi
    from .session import Session

EXIT_DONE = 0
EXIT_FAILED = 1  # the work failed: an unreadable file, an invalid output, a failed write
EXIT_USAGE = 2  # a usage error: argparse's own, and option values the command refuses
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a tool whose reader quit


def _scene_arg(text: str) -> int | str:
    """--scene's value: an index or a name (argparse names the type by this function)."""
    from .writing.options import scene_arg

    return scene_arg(text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("napari-lightmic")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from . import __version__

        return __version__


EXIT_CODES = """exit status: 0 done, 1 the work failed (an unreadable file, an invalid output, a
failed conversion), 2 a usage error (a bad option or value), 130 interrupted, 141 the
output was closed early (e.g. by `| head`)."""


def _sub(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str,
         examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with examples, kept as written."""
    return sub.add_parser(name, help=help_text, description=help_text,
                          epilog="examples:\n" + examples.strip("\n") + "\n\n" + EXIT_CODES,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `lightmic`: info, convert, validate, metadata, audit, rois and view."""
    parser = argparse.ArgumentParser(
        prog="lightmic", description="Light-microscopy files: inspect, view, convert.",
        epilog="examples:\n  lightmic info cells.czi\n  lightmic convert cells.czi "
        "cells.ome.zarr\n  lightmic COMMAND --help\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print the libraries' own warnings (tifffile's and others')")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = _sub(sub, "info", "describe a file's scenes, sizes, channels and acquisition", """
  lightmic info cells.czi                  format, scenes, pixel sizes, channels, acquisition
  lightmic info cells.czi --scene 1        one scene, by index
  lightmic info plate.lif --scene "A1/P2"  one scene, by name
  lightmic info cells.nd2 --json | jq '.scenes[0].shape'
""")
    info.add_argument("path", help="a microscopy file (CZI, LIF, LAS X LOF/XLIF/XLEF, ND2, "
                      "FluoView OIF/OIB, LSM, OME-TIFF, TIFF, Imaris, BigDataViewer XML, HDF5, "
                      "PNG, JPEG), an OME-Zarr folder or URL, or idr:<IDR image id or path>")
    info.add_argument("--scene", type=_scene_arg, help="one scene, by index or name")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    convert = _sub(sub, "convert", "write files as OME-Zarr or OME-TIFF, losslessly: one file, "
                   "or whole folders on dask.distributed", """
  lightmic convert cells.czi cells.ome.zarr                 every scene, NGFF 0.5
  lightmic convert cells.czi cells.ome.tif --scene P1       one scene, as OME-TIFF
  lightmic convert cells.lif cells.ome.zarr --ngff-version 0.4 --overwrite
  lightmic convert big.czi big.ome.zarr --shard --pyramid-levels 4
  lightmic convert wells.nd2 wells.ome.zarr --layout plate  scenes named A1, A2... as a plate
  lightmic convert day1/ --output-dir converted/            a folder, its tree mirrored
  lightmic convert day1/ "day2/*.czi" --output-dir out/ --to ome-tiff --workers 4
  lightmic convert day1/ --output-dir out/ --dry-run        the plan only; nothing written
  lightmic convert --jobs jobs.csv --output-dir out/        columns input, output, scene...
  lightmic convert day1/ --output-dir /shared/out --scheduler tcp://10.0.0.5:8786
  lightmic convert plates/ --output-dir out/ --split-size 500MB   a task per scene above 500 MB

A batch (--output-dir) keeps lightmic-manifest.jsonl and report.json in DIR: run the same
command again to resume (done jobs whose input did not change are skipped, failed ones
retried). The manifest is locked while a batch runs: a second batch into DIR is refused.
Inputs and DIR must be on storage every worker sees.
""")
    convert.usage = ("%(prog)s [options] INPUT OUTPUT\n"
                     "       %(prog)s [options] INPUT... --output-dir DIR [--jobs JOBS.csv]")
    convert.add_argument("input", nargs="*",
                         help="the file to convert (anything `lightmic info` reads) and its "
                         "output, *.ome.zarr or *.ome.tif(f): the format follows; with "
                         "--output-dir, any number of files, folders (walked recursively) "
                         "and globs")
    convert.add_argument("--scene", type=_scene_arg, default="all",
                         help="one scene, by index or name (default: every scene)")
    convert.add_argument("--ngff-version", choices=["0.4", "0.5"], default="0.5")
    convert.add_argument("--compression", help="zstd (OME-Zarr default), lz4, zlib (OME-TIFF "
                         "default), lzw, none")
    convert.add_argument("--pyramid-levels", type=int, help="levels including full resolution "
                         "(default: down to about 256 px)")
    convert.add_argument("--shard", action="store_true", help="zarr v3 shards (NGFF 0.5)")
    convert.add_argument("--layout", choices=["auto", "plate", "images"], default="auto",
                         help="OME-Zarr of several scenes: an HCS plate of wells (plate), the "
                         "bioformats2raw layout (images), or a plate when the file records "
                         "a well for every scene (auto, the default)")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing output")
    batch = convert.add_argument_group("batches (with --output-dir)")
    batch.add_argument("--output-dir", metavar="DIR",
                       help="convert every input into DIR, mirroring the input tree")
    batch.add_argument("--to", choices=["ome-zarr", "ome-tiff"], default="ome-zarr",
                       help="the format written (default: ome-zarr)")
    batch.add_argument("--jobs", metavar="JOBS.csv",
                       help="a job list: columns input, output (relative: inputs from the "
                       "list's folder, outputs in DIR) and optional scene, compression, "
                       "ngff_version, pyramid_levels, shard, layout per row")
    batch.add_argument("--dry-run", action="store_true",
                       help="print the plan (inputs, outputs, scenes, sizes, estimated "
                       "output size) and write nothing")
    batch.add_argument("--retries", type=int, default=1, metavar="N",
                       help="more attempts of a failed job in this run (default: 1)")
    batch.add_argument("--split-size", metavar="SIZE",
                       help="OME-Zarr of every scene: an input larger than SIZE (e.g. 1GiB, "
                       "the default; 0 or none: never) holding several scenes is written a "
                       "task per scene, into a hidden staging folder beside the output, "
                       "then one task finishes it (the same output, one record)")
    batch.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of the local cluster (default: the cores)")
    batch.add_argument("--threads-per-worker", type=int, metavar="N",
                       help="threads of each worker (default: 1)")
    batch.add_argument("--memory-limit", metavar="X",
                       help="memory limit per worker, e.g. 4GB (default: the memory shared "
                       "among the workers)")
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing dask cluster, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--scheduler-file", metavar="FILE",
                       help="run on the existing dask cluster that FILE describes")
    check = _sub(sub, "validate", "check an OME-Zarr or OME-TIFF against its spec", """
  lightmic validate cells.ome.zarr            exit 0 when valid, else 1 and the problems
  lightmic validate cells.ome.zarr --strict   also what NGFF says a file SHOULD carry
  lightmic validate cells.ome.tif             the OME-XML against the OME schema
""")
    check.add_argument("path", help="an OME-Zarr folder (*.ome.zarr, *.zarr, or any folder "
                       "with NGFF metadata) or an OME-TIFF file (*.ome.tif, *.ome.tiff)")
    check.add_argument("--strict", action="store_true",
                       help="OME-Zarr: also what NGFF says a file SHOULD carry (its strict "
                       "schemas: versions, names, a label's colours)")
    meta = _sub(sub, "metadata", "show, edit and export a file's metadata record (edits are "
                "kept in PATH.lightmic.json; the file is never written)", """
  lightmic metadata cells.czi                  the record and its REMBI completeness
  lightmic metadata cells.czi --json           the record as JSON
  lightmic metadata cells.czi --set rembi.study.title=Mitosis \\
      --set "rembi.image_acquisition.imaging_method=Confocal microscopy"
  lightmic metadata cells.czi --set scenes.0.channels.1.name=GFP
  lightmic metadata cells.czi --privacy        personal data found in the metadata
  lightmic metadata cells.czi --export-idr submission/
""")
    meta.add_argument("path", help="a microscopy file or OME-Zarr; its edits are read from and "
                      "saved to PATH.lightmic.json beside it")
    meta.add_argument("--show", action="store_true", help="the record as text (the default)")
    meta.add_argument("--json", action="store_true", help="the record as JSON")
    meta.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="set a field, e.g. rembi.study.title=Mitosis, "
                      "rembi.image_acquisition.imaging_method='Confocal microscopy', "
                      "scenes.0.channels.1.name=GFP (repeatable; empty VALUE clears)")
    meta.add_argument("--export-idr", metavar="DIR",
                      help="write an IDR submission folder and a BioImage Archive file list")
    meta.add_argument("--privacy", action="store_true",
                      help="list personal data found in the metadata (with --json: as JSON, "
                      "each finding's id, field, text, reason and whether exports remove it)")
    _audit_parser(sub)
    _rois_parser(sub)
    view = _sub(sub, "view", "open napari with a file (or the sample data)", """
  lightmic view                                the synthetic sample cells
  lightmic view cells.czi --scene 2            one scene of a file
  lightmic view cells.czi --screenshot shot.png
""")
    view.add_argument("path", nargs="?", help="file to open; the sample data when absent")
    view.add_argument("--scene", type=_scene_arg, default=0, help="scene index or name")
    view.add_argument("--screenshot", metavar="PNG",
                      help="save the window to PNG and quit instead of staying open")
    return parser


def _rois_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rois = _sub(sub, "rois", "list, import, export and measure a scene's regions of interest "
                "(imports are kept in PATH.lightmic.json; the file is never written)", """
  lightmic rois cells.ome.tif                  the ROIs: kind, plane, name, box
  lightmic rois cells.ome.tif --export-geojson cells.geojson   for QuPath
  lightmic rois cells.czi --import-geojson qupath.geojson      kept beside the file;
  lightmic convert cells.czi cells.ome.zarr                    ...written with the image
  lightmic rois cells.ome.zarr --csv areas.csv  area in µm², mean intensity per channel
  lightmic rois cells.czi --clear              forget the imported ROIs
""")
    rois.add_argument("path", help="a microscopy file or OME-Zarr (its OME ROIs, and those "
                      "imported into PATH.lightmic.json)")
    rois.add_argument("--scene", type=_scene_arg, default=0,
                      help="the scene, by index or name (default: the first)")
    rois.add_argument("--import-geojson", metavar="IN", help="QuPath GeoJSON "
                      "(annotations in full-resolution pixels): its ROIs replace those "
                      "imported before and are saved in PATH.lightmic.json; the file's own "
                      "ROIs stay, and `lightmic convert` writes both")
    rois.add_argument("--clear", action="store_true",
                      help="forget the imported ROIs (the file's own stay)")
    rois.add_argument("--export-geojson", metavar="OUT",
                      help="write the scene's ROIs as GeoJSON (*.geojson or *.json) for QuPath")
    rois.add_argument("--csv", nargs="?", const="-", metavar="OUT",
                      help="one row per ROI: name, kind, plane, area in pixels and µm², mean "
                      "intensity per channel (reads each ROI's bounding box only); to OUT, or "
                      "printed when no OUT is given")
    rois.add_argument("--json", action="store_true", help="the ROIs as JSON")


def _audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = _sub(sub, "audit", "audit a collection: per dataset its format, scenes, pixel "
                 "sizes, channel names, REMBI completeness, personal data and whether to "
                 "convert it; totals by format (metadata only: no pixel is read)", """
  lightmic audit /data/lab                     a table, then totals by format
  lightmic audit /data/lab --json | jq '.totals.convert'
  lightmic audit /data/lab "/scans/*.czi" --csv audit.csv --html audit.html
  lightmic audit cells.czi cells.ome.zarr --json audit.json
""")
    audit.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="a file, an OME-Zarr, a folder (walked recursively: each file "
                       "of a known format is a dataset; an OME-Zarr folder counts once) or "
                       "a glob pattern (quoted; ** crosses folders)")
    audit.add_argument("--json", nargs="?", const="-", metavar="OUT",
                       help="the rows and totals as JSON: to OUT (*.json), or printed when "
                       "no OUT is given (then put --json after the inputs)")
    audit.add_argument("--csv", nargs="?", const="-", metavar="OUT",
                       help="one CSV line per dataset: to OUT (*.csv), or printed when no "
                       "OUT is given (then put --csv after the inputs)")
    audit.add_argument("--html", metavar="OUT", help="a self-contained HTML page (*.html): "
                       "a chart of bytes by format and a table that sorts by any column")
    cluster = audit.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=int, metavar="N", help="audit on a dask "
                         "LocalCluster of N worker processes (default: here, one by one)")
    cluster.add_argument("--scheduler", metavar="ADDRESS", help="audit on an existing dask "
                         "cluster (its workers must see the files)")
    audit.epilog = (audit.epilog or "").replace(
        "exit status: 0 done, 1 the work failed",
        "exit status: 0 done, 1 the work failed (here: some dataset could not be opened; "
        "its row says why)")


def main(argv: list[str] | None = None) -> int:
    """Run one `lightmic` command and give its exit status.

    0 done, 1 the work failed (an unreadable file, an invalid output, a failed write),
    2 a usage error (argparse exits with it itself), 130 interrupted, 141 when the reader of
    the output closed it early (`lightmic info F | head`), quietly, as Unix tools end then.
    """
    _tolerant_streams()
    args = build_parser().parse_args(argv)
    _library_logs(args.verbose)
    try:
        status = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit as an ignored exception
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a socket's, not the output's
        # Nothing more can be said to the reader; stdout goes nowhere so that Python's own
        # flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_PIPE_CLOSED
    except (UsageError, NoSuchScene) as err:
        print(f"lightmic: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LightmicError as err:
        print(f"lightmic: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("lightmic: interrupted; nothing was written at the output path", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


def _library_logs(verbose: bool) -> None:
    """Libraries' log records (tifffile's notes on a damaged tag...) reach stderr only when asked.

    What they mean for the file is said once, in the error or in the notes; without a handler
    Python would print each record of WARNING and above as a line of its own.
    """
    import logging

    root = logging.getLogger()
    if verbose:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    elif not root.handlers:
        root.addHandler(logging.NullHandler())


def _tolerant_streams() -> None:
    """Let stdout and stderr print any name the file system gives.

    A name whose bytes are not UTF-8 reaches Python as surrogate escapes, which a strict stream
    refuses (UnicodeEncodeError); such a byte is written as a backslash, x and two hex digits,
    as in error messages.
    Streams that already pass them (Python's UTF-8 mode: surrogateescape) are left as they are.
    """
    import codecs

    from .errors import one_line

    def escaped(exc: UnicodeError) -> tuple[str, int]:
        if not isinstance(exc, UnicodeEncodeError):
            raise exc
        text = one_line(exc.object[exc.start:exc.end])  # a name's byte as \\xff
        return text.encode("ascii", "backslashreplace").decode("ascii"), exc.end

    codecs.register_error("lightmic-escape", escaped)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="lightmic-escape")


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has quit (where the system can tell: not Windows)."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # stdout replaced by an object without a descriptor
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & select.POLLERR for _, event in poller.poll(0))


def _run(args: argparse.Namespace) -> int:
    commands = {"info": _info, "convert": _convert, "validate": _validate, "view": _view,
                "metadata": _metadata, "audit": _audit, "rois": _rois}
    return commands[args.command](args)


class TerminalProgress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label, self.stream = label, stream
        self.active = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        """Show `done` of `total` as a percentage (redrawn when it changes)."""
        if not self.active or total <= 0:
            return
        percent = int(100 * done / total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line (when one was drawn)."""
        if self.active and self.shown >= 0:
            self.stream.write("\n")


def _keep_freed_memory() -> None:
    """Let glibc reuse freed block buffers instead of returning them to the kernel.

    Returned, they come back as fresh zeroed pages faulted in for the next block (a
    conversion allocates a few MB per chunk).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD: blocks come from the heap
        libc.mallopt(-1, 512 * 2**20)  # M_TRIM_THRESHOLD: keep up to 512 MB for reuse
    except (OSError, AttributeError):
        pass  # not glibc: the defaults stay


_BATCH_ONLY = ("jobs", "dry_run", "split_size", "workers", "threads_per_worker",
               "memory_limit", "scheduler", "scheduler_file")


def _convert(args: argparse.Namespace) -> int:
    from .errors import WriteError
    from .writing import WriteOptions, convert
    from .writing.options import target_format

    if args.output_dir is not None:
        from .batch.cli import run_batch

        return run_batch(args)
    given = [name for name in _BATCH_ONLY if getattr(args, name) not in (None, False)]
    if given or args.to != "ome-zarr" or args.retries != 1:
        name = "--" + (given[0] if given else "to" if args.to != "ome-zarr" else "retries")
        raise UsageError(name.replace("_", "-"), "needs --output-dir")
    if len(args.input) != 2:
        raise UsageError("convert", "give an input and an output (INPUT OUTPUT), or inputs "
                         "and --output-dir DIR")
    args.input, args.output = args.input

    try:  # refused options are usage errors, found before any file is opened
        kind = target_format(args.output)
        options = WriteOptions(ngff_version=args.ngff_version, compression=args.compression,
                               pyramid_levels=args.pyramid_levels, shard=args.shard,
                               overwrite=args.overwrite, layout=args.layout)
        options.compression_for(kind)
    except WriteError as err:
        raise UsageError(err.path, err.cause) from err
    except ValueError as exc:
        raise UsageError(args.output, str(exc)) from exc
    _keep_freed_memory()

    scene = args.scene
    progress = TerminalProgress(f"writing {args.output}")
    try:
        done = convert(args.input, args.output, scene, options, progress=progress)
    finally:
        progress.close()
    names = _scenes_text([name for name, _ in done.scenes])
    print(f"lightmic: wrote {one_line(str(done.path))}: {names} in {done.seconds:.1f} s",
          file=sys.stderr)
    for name, notes in done.scenes:
        for note in notes:
            print(f"lightmic: {name}: {note}", file=sys.stderr)
    return EXIT_DONE


def _scenes_text(names: list[str]) -> str:
    """'1 scene (TR1)', '3 scenes (TR1, P1, TR2)'; long lists are cut."""
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f"{len(names)} scene{'s' if len(names) != 1 else ''} ({shown})"


def _audit(args: argparse.Namespace) -> int:
    from .batch.audit import audit_csv, audit_json, audit_text, write_audit

    printed = [name for name in ("json", "csv") if getattr(args, name) == "-"]
    if len(printed) > 1:
        raise UsageError("--json, --csv", "only one of them can be printed; give the other "
                         "a file to write")
    endings = {"json": (".json",), "csv": (".csv",), "html": (".html", ".htm")}
    for name, ends in endings.items():
        out = getattr(args, name)
        # an input taken for the output (`--json cells.czi ...`) is refused, not overwritten
        if out not in (None, "-") and not out.lower().endswith(ends):
            raise UsageError(out, f"--{name} writes a file named *{ends[0]}, not this one "
                             f"(to print, put --{name} after the inputs)")
    rows = _audit_rows(args)
    written = write_audit(rows, json_path=args.json if args.json not in (None, "-") else None,
                          csv_path=args.csv if args.csv not in (None, "-") else None,
                          html_path=args.html)
    if args.json == "-":
        sys.stdout.write(audit_json(rows))
    elif args.csv == "-":
        sys.stdout.write(audit_csv(rows))
    else:
        print(audit_text(rows))
    for path in written:
        print(f"lightmic: wrote {one_line(str(path))}", file=sys.stderr)
    return EXIT_FAILED if any(row.get("error") for row in rows) else EXIT_DONE


def _audit_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    """The audit's rows: here, or on a LocalCluster / an existing cluster when asked."""
    from .batch.audit import audit

    if args.workers is None and args.scheduler is None:
        return audit(args.inputs)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers", f"must be at least 1, not {args.workers}")
    from .batch.engine import cluster_client

    with cluster_client(workers=args.workers, scheduler=args.scheduler) as client:
        return audit(args.inputs, client=client)


def _validate(args: argparse.Namespace) -> int:
    from .errors import WriteError
    from .writing import validate
    from .writing.validate import checked_format

    try:
        checked_format(args.path)
    except WriteError as err:
        raise UsageError(args.path, f"{err.cause}; `lightmic info {args.path}` describes it"
                         ) from None
    problems = validate(args.path, strict=args.strict)
    for problem in problems:
        print(f"{args.path}: {problem}")
    if not problems:
        print(f"{args.path}: valid")
    return 1 if problems else 0


def _open_session(path: str) -> Session:
    """The file with the user's edits, saying on stderr what was laid over it."""
    from .session import Session

    session = Session.open(path)
    if session.sidecar_problem:
        print(f"lightmic: warning: {session.sidecar_problem}", file=sys.stderr)
    elif session.loaded_edits:
        print(f"lightmic: edits from {one_line(str(session.sidecar_path))} applied",
              file=sys.stderr)
    return session


def _info(args: argparse.Namespace) -> int:
    from .describe import describe_source, format_text

    with _open_session(args.path) as session:
        info = describe_source(session.effective_source(), args.scene, session.record)
    if args.json:
        sys.stdout.write(json_text(info))
    else:
        print(format_text(info))
    return EXIT_DONE


def _metadata(args: argparse.Namespace) -> int:
    with _open_session(args.path) as session:
        return _metadata_job(args, session)


def _metadata_job(args: argparse.Namespace, session: Session) -> int:
    from .metadata.completeness import completeness

    if args.set:
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                print(f"lightmic: --set {item!r}: give KEY=VALUE", file=sys.stderr)
                return EXIT_USAGE
            try:
                session.edit(key.strip(), value)
            except (ValueError, IndexError, KeyError) as exc:
                print(f"lightmic: --set {item!r}: {exc}", file=sys.stderr)
                return EXIT_USAGE
        print(f"saved {one_line(str(session.save()))}", file=sys.stderr)
    if args.export_idr:
        for path in session.export_idr(args.export_idr):
            print(f"wrote {one_line(str(path))}", file=sys.stderr)
    record = session.record
    if args.json and args.privacy:
        return _print_privacy(session, as_json=True)
    if args.json:
        sys.stdout.write(json_text(record.model_dump(mode="json")))
    elif args.show or not (args.set or args.export_idr or args.privacy):
        print(_record_text(record))
        done = completeness(record)
        print(f"\n{done}" + (": missing " + ", ".join(done.missing) if done.missing else ""))
    if args.privacy:
        _print_privacy(session, as_json=False)
    return EXIT_DONE


def _print_privacy(session: Session, as_json: bool) -> int:
    """The findings, one a line or as JSON (id, field, text, reason, removed by exports)."""
    findings = session.privacy_findings
    if as_json:
        sys.stdout.write(json_text(session.privacy_report()))
    for finding in findings if not as_json else []:
        print(f"personal data? {finding}")
    if not findings and not as_json:
        print("no personal data found in the metadata")
    return EXIT_DONE


def _record_text(record: MetadataRecord) -> str:
    from .metadata.ome import rembi_pairs

    lines = [f"{key}: {value}" for key, value in rembi_pairs(record)]
    for index, scene in sorted(record.scenes.items()):
        edits = scene.model_dump(exclude_defaults=True, mode="json")
        if edits.get("rois"):  # listed by `lightmic rois`
            edits["rois"] = f"{len(edits['rois'])} added (lightmic rois)"
        if edits:
            lines.append(f"scene {index} edits: {json.dumps(edits, ensure_ascii=False)}")
    lines.append(f"privacy.remove_on_export: {record.privacy.remove_on_export}")
    return "\n".join(lines)


def _rois(args: argparse.Namespace) -> int:
    from .rois.geojson import write_geojson

    if args.import_geojson and args.clear:
        raise UsageError("--clear", "give --import-geojson or --clear, not both")
    for name, ends in (("export_geojson", (".geojson", ".json")), ("csv", (".csv",))):
        out = getattr(args, name)
        if out not in (None, "-") and not out.lower().endswith(ends):
            raise UsageError(out, f"--{name.replace('_', '-')} writes a file named "
                             f"*{ends[0]}, not this one")
    with _open_session(args.path) as session:
        scene = session.source.scene(args.scene)
        if args.import_geojson or args.clear:
            _import_rois(session, scene.index, args.import_geojson)
        rois = session.rois(scene.index)
        if args.export_geojson:
            write_geojson(rois, args.export_geojson)
            print(f"lightmic: wrote {one_line(args.export_geojson)} ({len(rois)} ROIs)",
                  file=sys.stderr)
        if args.csv:
            _rois_csv(session, scene.index, rois, args.csv)
        if args.json:
            sys.stdout.write(json_text([roi.as_dict() for roi in rois]))
        elif not (args.export_geojson or args.csv or args.import_geojson or args.clear):
            print(_rois_text(rois, scene.name))
    return EXIT_DONE


def _import_rois(session: Session, scene: int, path: str | None) -> None:
    """Keep the ROIs of a GeoJSON file (none: forget those imported) in the sidecar."""
    from .rois.geojson import read_geojson
    from .rois.model import on_scene

    imported: tuple[Roi, ...] = ()
    if path:
        try:
            found = read_geojson(path)
        except (OSError, ValueError) as exc:
            raise LightmicError(path, str(exc)) from None
        for note in found.notes:
            print(f"lightmic: {one_line(path)}: {note}", file=sys.stderr)
        imported = tuple(on_scene(found.rois, session.source.scene(scene).sizes))
    session.set_added_rois(scene, imported)
    saved = session.save()
    print(f"lightmic: {len(imported)} ROI(s) imported into scene {scene}, kept in "
          f"{one_line(str(saved))}", file=sys.stderr)


def _rois_csv(session: Session, scene: int, rois: Sequence[Roi], out: str) -> None:
    """The ROIs' areas and mean intensities as CSV, to `out` ('-': printed)."""
    from pathlib import Path

    from .rois.measure import csv_text, rows
    from .writing.common import write_text_atomic

    edited = session.effective_scene(scene)
    text = csv_text(rows(edited, rois), edited.channel_names)
    if out == "-":
        sys.stdout.write(text)
        return
    write_text_atomic(Path(out), text)
    print(f"lightmic: wrote {one_line(out)}", file=sys.stderr)


def _rois_text(rois: Sequence[Roi], scene: str) -> str:
    """One line per ROI: its index, kind, plane, name and bounding box."""
    if not rois:
        return f"scene {scene}: no ROIs"
    lines = [f"scene {scene}: {len(rois)} ROI(s)"]
    for k, roi in enumerate(rois):
        plane = " ".join(f"{a}={v}" for a, v in (("z", roi.z), ("t", roi.t), ("c", roi.c))
                         if v is not None) or "every plane"
        x0, y0, x1, y1 = roi.bounds
        lines.append(f"{k:4d}  {roi.kind:<9} {plane:<14} {one_line(roi.name or '-')}  "
                     f"x {x0:g}–{x1:g}, y {y0:g}–{y1:g}")
    return "\n".join(lines)


def _view(args: argparse.Namespace) -> int:
    import napari

    viewer = napari.Viewer()
    if args.path:
        from ._napari.view import view
        from .reading import open_image

        open_image(args.path).scene(args.scene)  # a bad path or scene fails here, before the GUI
        view(args.path, args.scene, viewer=viewer)
    else:
        viewer.open_sample("napari-lightmic", "cells")
    canvas = getattr(viewer, "canvas", None)  # napari 0.9 keeps the scale bar on the canvas
    (canvas.overlays.scale_bar if canvas is not None else viewer.scale_bar).visible = True
    if args.screenshot:
        from qtpy.QtWidgets import QApplication

        viewer.window._qt_window.resize(1100, 750)
        viewer.reset_view()
        QApplication.processEvents()
        viewer.screenshot(args.screenshot, canvas_only=False, flash=False)
        print(f"lightmic: saved {args.screenshot}")
        viewer.close()
        return EXIT_DONE
    napari.run()
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
