"""Which datasets a batch's inputs hold: files, folders walked by the format registry, globs.

A multi-file dataset counts once, through its main file: a Micro-Manager set (its
``*_MMStack_*`` files in one folder, through the first by name), a BigDataViewer XML and the
HDF5 file it names (through the XML), an OME-TIFF set (through the file whose OME-XML names
the others) and an OME-Zarr folder, known by its name or its NGFF metadata (not walked into:
a plate's fields are the plate's). A Zarr group that is no OME-Zarr is skipped, not walked
into; other files are skipped with a reason.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..formats import format_for, format_of, is_zarr_group
from ..paths import disk_bytes


@dataclass(frozen=True)
class Dataset:
    """One dataset to convert: its main file (or folder), format, member files and bytes."""

    path: Path
    format: str
    members: tuple[Path, ...]
    size: int


@dataclass(frozen=True)
class Found:
    """What inputs hold: the datasets, each one's root (for mirrored outputs), and the rest.

    Attributes
    ----------
    datasets : list of Dataset
        In the order found (folders sorted by name).
    roots : dict of Path to Path
        Each dataset's input root: the folder given, or the glob's fixed part; outputs
        mirror the dataset's path relative to it.
    inputs : dict of Path to int
        Each dataset's input: the index of the file, folder or glob that named it first.
    skipped : list of (Path, str)
        Files that are no dataset of their own, with the reason.
    """

    datasets: list[Dataset] = field(default_factory=list)
    roots: dict[Path, Path] = field(default_factory=dict)
    inputs: dict[Path, int] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def find_datasets(inputs: list[str]) -> list[Dataset]:
    """The datasets that files, folders (walked recursively) and globs hold, each once.

    Raises
    ------
    UsageError
        An input that names nothing (no such path, a glob that matches nothing).
    """
    return discover(inputs).datasets


def discover(inputs: list[str], exclude: Path | None = None) -> Found:
    """As `find_datasets`, with each dataset's root and the files skipped.

    Parameters
    ----------
    inputs : list of str
        Files, folders and glob patterns.
    exclude : Path, optional
        A folder not walked into (a batch's output folder inside its input).

    Returns
    -------
    Found
        The datasets, their roots, and what was skipped and why.

    Raises
    ------
    UsageError
        An input that names nothing.
    """
    found = Found()
    seen: set[Path] = set()
    skip = exclude.resolve() if exclude is not None else None
    for index, text in enumerate(inputs):
        for path, root in _expand(text):
            for dataset in _datasets_in(path, found, skip):
                key = dataset.path.resolve()
                if key not in seen:
                    seen.add(key)
                    found.datasets.append(dataset)
                    found.roots[dataset.path] = root
                    found.inputs[dataset.path] = index
    _drop_members(found)
    return found


def _drop_members(found: Found) -> None:
    """Skip the datasets that are files of another one found in another folder or input.

    A BigDataViewer XML's HDF5 file may lie in the folder its BasePath names; given or
    walked apart from its XML, it is still part of that dataset, not one of its own.
    """
    owner: dict[Path, Path] = {}
    for dataset in found.datasets:  # the first found (outermost: a project before its folders)
        for member in dataset.members[1:]:
            owner.setdefault(member.resolve(), dataset.path)
    kept = []
    for dataset in found.datasets:
        main = owner.get(dataset.path.resolve())
        if main is None or main == dataset.path:
            kept.append(dataset)
        else:
            found.skipped.append((dataset.path, f"part of {main}"))
            del found.roots[dataset.path]
            del found.inputs[dataset.path]
    found.datasets[:] = kept


def _expand(text: str) -> list[tuple[Path, Path]]:
    """The paths an input names, each with its root."""
    path = Path(text)
    if path.exists():
        return [(path, path if path.is_dir() and not _is_dataset_folder(path) else path.parent)]
    if glob.has_magic(text):
        matches = sorted(glob.glob(text, recursive=True))
        if matches:
            fixed = Path(*[p for p in path.parts[:_first_magic(path)]]) if path.parts else path
            return [(Path(m), fixed) for m in matches]
        raise UsageError(text, "the pattern matches no file")
    raise UsageError(text, "no such file or folder")


def _first_magic(path: Path) -> int:
    return next(i for i, part in enumerate(path.parts) if glob.has_magic(part))


def _is_dataset_folder(path: Path) -> bool:
    """An OME-Zarr folder: by its name, or by its NGFF metadata (`formats.format_of`)."""
    fmt = format_of(path)
    return fmt is not None and fmt.directory


# a zarr group that is no OME-Zarr: neither a dataset nor a folder of them (its arrays' chunks)
NOT_NGFF = "a Zarr group with no NGFF image, plate, well or bioformats2raw layout"


def _datasets_in(path: Path, found: Found, skip: Path | None) -> list[Dataset]:
    """The datasets at `path`: itself, or what a folder holds."""
    if path.is_dir() and _is_dataset_folder(path):
        return [Dataset(path, "OME-Zarr", (path,), disk_bytes(path) or 0)]
    if is_zarr_group(path):
        found.skipped.append((path, NOT_NGFF))
        return []
    if path.is_file():
        return _files_datasets(path.parent, [path], found)
    if not path.is_dir():
        found.skipped.append((path, "not a regular file or folder"))
        return []
    out: list[Dataset] = []
    for folder, dirs, files in os.walk(path):
        here = Path(folder)
        dirs.sort()
        kept = []
        for name in dirs:
            sub = here / name
            if skip is not None and sub.resolve() == skip:
                continue
            if name.startswith("."):
                found.skipped.append((sub, "hidden"))
            elif _is_dataset_folder(sub):
                out.append(Dataset(sub, "OME-Zarr", (sub,), disk_bytes(sub) or 0))
            elif is_zarr_group(sub):
                found.skipped.append((sub, NOT_NGFF))
            else:
                kept.append(name)
        dirs[:] = kept
        out.extend(_files_datasets(here, [here / name for name in sorted(files)], found))
    return out


def _files_datasets(folder: Path, files: list[Path], found: Found) -> list[Dataset]:
    """The datasets among files of one folder; the others are skipped with the reason."""
    candidates: list[Path] = []
    for path in files:
        if path.name.startswith("."):
            found.skipped.append((path, "hidden"))
        elif format_for(path) is None:
            found.skipped.append((path, "not a microscopy file (unknown file type)"))
        elif not path.is_file():
            found.skipped.append((path, "not a regular file"))
        else:
            candidates.append(path)
    groups = _groups(folder, candidates)
    out: list[Dataset] = []
    part_of: dict[Path, Path] = {}
    for main, members in groups.items():
        if main in part_of:
            continue
        for other in members[1:]:
            part_of.setdefault(other, main)
    for path in candidates:
        fmt = format_for(path)
        if path in part_of:
            found.skipped.append((path, f"part of {part_of[path]}"))
        elif fmt is not None and fmt.name == "BigDataViewer" and path not in groups:
            found.skipped.append((path, "an XML file that is no BigDataViewer dataset"))
        else:
            out.append(_dataset(path, groups.get(path, (path,))))
    return out


def _groups(folder: Path, candidates: list[Path]) -> dict[Path, tuple[Path, ...]]:
    """Multi-file datasets among a folder's files: main file -> members (main first)."""
    groups: dict[Path, tuple[Path, ...]] = {}
    mm = [p for p in candidates if "_MMStack_" in p.name and p.suffix.lower() in (".tif", ".tiff")]
    if mm:
        groups[mm[0]] = tuple(mm)
    for path in candidates:
        fmt = format_for(path)
        if fmt is None or path in mm:
            continue
        if fmt.name == "BigDataViewer":
            h5 = _bdv_hdf5(path)
            if h5 is not None:
                groups[path] = (path, h5)
        elif fmt.name in ("XLEF", "XLIF"):  # a LAS X project: its images, LOFs and frames
            from ..reading.lasx import project_files

            used = [Path(p) for p in dict.fromkeys(project_files(path))]
            if used:
                groups[path] = (path, *used)
        elif fmt.name == "OIF":  # the settings file, then its folder of TIFFs and settings
            files = path.parent / f"{path.name}.files"
            if files.is_dir():
                groups[path] = (path, *sorted(p for p in files.iterdir() if p.is_file()))
        elif fmt.name == "OME-TIFF":
            others = [folder / name for name in _ome_file_names(path)]
            others = [p for p in others if p != path and p.is_file()]
            if others:
                groups[path] = (path, *others)
    return groups


def _dataset(main: Path, members: tuple[Path, ...]) -> Dataset:
    fmt = format_for(main)
    size = sum(disk_bytes(p) or 0 for p in members)
    return Dataset(main, fmt.name if fmt else "unknown", members, size)


def _bdv_hdf5(xml: Path) -> Path | None:
    """The HDF5 file a BigDataViewer XML names, as its reader finds it; None if none is."""
    from .._xml import parse_xml
    from ..reading.files import read_regular
    from ..reading.hdf5 import READER, bdv_hdf5_path

    fmt = format_for(xml)
    if fmt is None or not READER.claims(str(xml), fmt):
        return None
    try:
        root = parse_xml(read_regular(xml), "the BigDataViewer XML")
        h5 = Path(bdv_hdf5_path(root, str(xml.parent)))
    except (OSError, ValueError):
        return None
    return h5 if h5.is_file() else None


def _ome_file_names(path: Path) -> list[str]:
    """The file names beside it that an OME-TIFF's OME-XML gives (none when unreadable)."""
    import tifffile

    from .._xml import parse_xml_or_none
    from ..reading.ome_tiff_set import ome_file_names

    try:
        with tifffile.TiffFile(path) as tif:
            text = tif.pages.first.description if tif.pages else ""
        root = parse_xml_or_none(text, "the OME-XML")
    except (OSError, ValueError, IndexError, tifffile.TiffFileError):
        return []
    names = ome_file_names(root) if root is not None else []
    return [name for name in names if "/" not in name and "\\" not in name]
