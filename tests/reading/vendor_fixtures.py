"""Small Leica LAS X (LOF, XLIF, XLEF) and Olympus FluoView (OIF, OIB) files, written here.

No real files of these formats are in the shared test data, so each is built from the
structure its reader (liffile, oiffile) parses, as LAS X and FluoView lay them out:

- LOF: a binary header naming 'LMS_Object_File', the pixel block, then the image's XML
  (UTF-16), each part led by liffile's test bytes (0x70, 0x2A).
- XLIF: the image's XML (UTF-8), its pixels in a LOF or in one TIFF per plane (``Frame``).
- XLEF: a project's XML referencing its images (XLIF) and folders (XLEF).
- OIF: the settings (UTF-16 INI) and a folder ``NAME.oif.files`` of one TIFF per plane.
- OIB: the same files in an OLE compound file (MS-CFB version 3), with its ``OibInfo.txt``.

Each carries a personal value (a user name, a user folder) for the privacy scan to find.
"""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import numpy as np
import tifffile

USER_FOLDER = "C:\\Users\\jdoe\\Documents\\LASX"
PIXEL_UM = 0.25
Z_STEP_UM = 1.5
DYES = [("DAPI", "Blue", 430, 480), ("Alexa 488", "Green", 500, 550)]


def cells(shape: tuple[int, ...] = (3, 2, 24, 32), seed: int = 0) -> np.ndarray:
    """Distinct uint16 planes (Z, C, Y, X by default): each plane tells where it came from."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4096, size=shape, dtype=np.uint16)


# -- Leica ---------------------------------------------------------------------------------

def image_xml(name: str, data: np.ndarray) -> str:
    """The ``Element`` of a Z, C, Y, X uint16 image as LAS X describes it (LIF XML)."""
    nz, nc, ny, nx = data.shape
    plane = ny * nx * 2
    channels = "".join(
        f'<ChannelDescription DataType="0" ChannelTag="0" Resolution="12" '
        f'NameOfMeasuredQuantity="" Min="0" Max="4095" Unit="" LUTName="{DYES[c][1]}" '
        f'IsLUTInverted="0" BytesInc="{c * plane}" BitInc="0"/>' for c in range(nc))
    dims = "".join(
        f'<DimensionDescription DimID="{dim}" NumberOfElements="{n}" Origin="0" '
        f'Length="{step * 1e-6 * (n - 1)!r}" Unit="m" BitInc="0" BytesInc="{inc}"/>'
        for dim, n, step, inc in ((1, nx, PIXEL_UM, 2), (2, ny, PIXEL_UM, 2 * nx),
                                  (3, nz, Z_STEP_UM, plane * nc)))
    bands = "".join(f'<MultiBand Channel="{c + 1}" DyeName="{DYES[c][0]}" '
                    f'LeftWorld="{DYES[c][2]}" RightWorld="{DYES[c][3]}"/>' for c in range(nc))
    detectors = "".join(f'<Detector Name="HyD S{c + 1}" IsActive="1" Channel="{c + 1}"/>'
                        for c in range(nc))
    return (
        f'<Element Name="{name}" Visibility="1" CopyOption="1" UniqueID="{uuid.uuid4()}">'
        '<Data><Image TextDescription="">'
        '<Attachment Name="HardwareSetting" UserName="Jane Doe">'
        '<ATLConfocalSettingDefinition ObjectiveName="HC PL APO    63x/1.40 OIL" '
        'Magnification="63" NumericalAperture="1.4" Immersion="OIL" MicroscopeModel="DMi8" '
        f'SystemSerialNumber="8100000123"><Spectro>{bands}</Spectro>'
        f'<DetectorList>{detectors}</DetectorList></ATLConfocalSettingDefinition>'
        '</Attachment>'
        f'<ImageDescription><Channels>{channels}</Channels>'
        f'<Dimensions>{dims}</Dimensions></ImageDescription></Image></Data>'
        f'<Memory Size="{data.nbytes}" MemoryBlockID="MemBlock_{name}"/>'
        '<Children/></Element>')


def _header(text: str) -> bytes:
    """A liffile header: 0x70, the size that follows, 0x2A, the UTF-16 length, the text."""
    raw = text.encode("utf-16-le")
    return struct.pack("<IIBI", 0x70, len(raw) + 5, 0x2A, len(raw) // 2) + raw


def write_lof(path: Path, data: np.ndarray, name: str | None = None) -> Path:
    """A LOF of a Z, C, Y, X uint16 image: header, pixel block, the image's XML."""
    name = name or path.stem
    xml = f'<LMSDataContainerHeader Version="2">{image_xml(name, data)}</LMSDataContainerHeader>'
    pixels = np.ascontiguousarray(data, "<u2").tobytes()
    path.write_bytes(_header("LMS_Object_File") + struct.pack("<BIBI", 0x2A, 2, 0x2A, 0)
                     + struct.pack("<BQ", 0x2A, len(pixels)) + pixels + _header(xml))
    return path


def _xml_file(path: Path, element: str) -> Path:
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<LMSDataContainerHeader '
                    f'Version="2">{element}</LMSDataContainerHeader>', encoding="utf-8")
    return path


def write_xlif(path: Path, data: np.ndarray, frames: bool = False) -> Path:
    """An XLIF of a Z, C, Y, X image, its pixels in a LOF beside it or one TIFF per plane."""
    name = path.stem
    if frames:
        folder = path.parent / f"{name}_frames"
        folder.mkdir(exist_ok=True)
        plane = data.shape[2] * data.shape[3] * 2
        blocks = []
        for k, (z, c) in enumerate(np.ndindex(*data.shape[:2])):
            tifffile.imwrite(folder / f"{name}_z{z}_c{c}.tif", data[z, c])
            blocks.append(f'<Frame File="{folder.name}/{name}_z{z}_c{c}.tif" '
                          f'Offset="{k * plane}" Size="{plane}" UUID="{uuid.uuid4()}"/>')
    else:
        write_lof(path.with_suffix(".lof"), data, name)
        blocks = [f'<Block File="{name}.lof" Offset="0" Size="{data.nbytes}" '
                  f'UUID="{uuid.uuid4()}"/>']
    element = image_xml(name, data).replace(
        f'<Memory Size="{data.nbytes}" MemoryBlockID="MemBlock_{name}"/>',
        f'<Memory Size="{data.nbytes}" MemoryBlockID="MemBlock_{name}">{"".join(blocks)}'
        '</Memory>')
    return _xml_file(path, element)


def write_xlef(path: Path, children: list[Path]) -> Path:
    """An XLEF project referencing its images (XLIF) and folders (XLEF), relative to it."""
    refs = "".join(f'<Reference Name="{c.stem}" File="{c.relative_to(path.parent)}" '
                   f'UUID="{uuid.uuid4()}"/>' for c in children)
    element = (f'<Element Name="{path.stem}" UniqueID="{uuid.uuid4()}"><Data>'
               f'<Experiment IsSavedFlag="1" Path="{USER_FOLDER}\\{path.name}"/></Data>'
               f'<Memory Size="0" MemoryBlockID="MemBlock_{path.stem}"/>'
               f'<Children>{refs}</Children></Element>')
    return _xml_file(path, element)


def write_project(folder: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A LAS X project: two images (one in a LOF, one in TIFF frames), one in a subfolder."""
    folder.mkdir(parents=True, exist_ok=True)
    first, second = cells(seed=1), cells((2, 2, 16, 20), seed=2)
    sub = folder / "Region 2"
    sub.mkdir(exist_ok=True)
    a = write_xlif(folder / "Image 1.xlif", first)
    b = write_xlif(sub / "Image 2.xlif", second, frames=True)
    write_xlef(sub / "Region 2.xlef", [b])
    project = write_xlef(folder / "project.xlef", [a, sub / "Region 2.xlef"])
    return project, {"Image 1": first, "Image 2": second}


# -- Olympus -------------------------------------------------------------------------------

INTERVAL_MS = 2500  # between time points of an OIF time series


def oif_settings(data: np.ndarray, name: str) -> str:
    """The main settings of a (T,) C, Z, Y, X uint16 image as FluoView writes them (INI)."""
    nt = data.shape[0] if data.ndim == 5 else 0
    nc, nz, ny, nx = data.shape[-4:]
    axes = [("X", nx, 0, (nx - 1) * PIXEL_UM, "um"), ("Y", ny, 0, (ny - 1) * PIXEL_UM, "um"),
            ("C", nc, 0, 0, ""), ("Z", nz, 0, (nz - 1) * Z_STEP_UM * 1000, "nm"),
            ("T", nt, 0, (nt - 1) * INTERVAL_MS if nt else 0, "ms"), ("A", 0, 0, 0, ""),
            ("L", 0, 0, 0, ""), ("P", 0, 0, 0, "")]
    lines = ["[ProfileSaveInfo]", f'Name="{name}"', 'Version="1.0.0.0"',
             f'IniFileName0="{USER_FOLDER}\\{name}.oif.files\\s_C001Z001.pty"',
             "[Version Info]", 'SystemName="FV1000"', 'SystemVersion="4.2.1.20"',
             "[Acquisition Parameters Common]", "ImageCaputreDate='2012-03-04 10:11:12'",
             "Magnification=60.0", 'ObjectiveLens Name="UPLSAPO 60X O"',
             "ObjectiveLens NAValue=1.35", "ObjectiveLens WDValue=0.15",
             "[Axis Parameter Common]", 'AxisOrder="XYCZ"', "AxisCount=4"]
    for i, (code, n, start, end, unit) in enumerate(axes):
        lines += [f"[Axis {i} Parameters Common]", f'AxisCode="{code}"', f"MaxSize={n}",
                  f"StartPosition={start}", f"EndPosition={end}", f'UnitName="{unit}"']
    for c in range(nc):
        dye = DYES[c]
        lines += [f"[GUI Channel {c + 1} Parameters]", "CH Activate=1", f'CH Name="CH{c + 1}"',
                  f'DyeName="{dye[0]}"', f"ExcitationWavelength={dye[2] - 25}",
                  f"EmissionWavelength={(dye[2] + dye[3]) // 2}"]
    lines += ["[Reference Image Parameter]", "ImageDepth=2", "ValidBitCounts=12",
              f"WidthConvertValue={PIXEL_UM}", f"HeightConvertValue={PIXEL_UM}",
              'WidthUnit="um"', 'HeightUnit="um"']
    return "\r\n".join(lines) + "\r\n"


def _utf16(text: str, at_least: int = 0) -> bytes:
    """UTF-16 with its byte-order mark, padded with line ends to `at_least` bytes."""
    text += "\r\n" * max(0, (at_least - 2 - 2 * len(text)) // 4 + 1) if at_least else ""
    return b"\xff\xfe" + text.encode("utf-16-le")


def _planes(data: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each plane's TIFF name (s_C001Z002[T003].tif) and its pixels."""
    if data.ndim == 4:
        return [(f"s_C{c + 1:03d}Z{z + 1:03d}.tif", data[c, z])
                for c, z in np.ndindex(*data.shape[:2])]
    return [(f"s_C{c + 1:03d}Z{z + 1:03d}T{t + 1:03d}.tif", data[t, c, z])
            for t, c, z in np.ndindex(*data.shape[:3])]


def _tiff(plane: np.ndarray) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    tifffile.imwrite(buffer, plane)
    return buffer.getvalue()


def write_oif(path: Path, data: np.ndarray) -> Path:
    """An OIF (settings) and its ``.oif.files`` folder of one TIFF per plane ((T,) C, Z, Y, X)."""
    path.write_bytes(_utf16(oif_settings(data, path.stem)))
    folder = path.parent / f"{path.name}.files"
    folder.mkdir(exist_ok=True)
    for name, plane in _planes(data):
        (folder / name).write_bytes(_tiff(plane))
    return path


def write_oib(path: Path, data: np.ndarray) -> Path:
    """An OIB: the OIF's files as streams of an OLE compound file, named by OibInfo.txt."""
    main = f"{path.stem}.oif"
    storage = "Storage00001"
    files = [("Stream00000", main, _utf16(oif_settings(data, path.stem), CUTOFF))]
    for k, (name, plane) in enumerate(_planes(data)):
        files.append((f"Stream{k + 1:05d}", f"{storage}/{name}", _tiff(plane)))
    info = ["[OibSaveInfo]", f'Name="{path.stem}"', 'Version="2.0.0.0"',
            "MainFileName=Stream00000", f"{storage}={main}.files"]
    info += [f"{stream}={name}" for stream, name, _ in files]
    tree: dict[str, bytes | dict[str, bytes]] = {
        "OibInfo.txt": _utf16("\r\n".join(info) + "\r\n", CUTOFF), files[0][0]: files[0][2],
        storage: {stream: raw for stream, _, raw in files[1:]}}
    path.write_bytes(compound_file(tree))
    return path


# MS-CFB constants (version 3: 512-byte sectors)
SECTOR = 512
FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
CUTOFF = 4096  # streams shorter than this belong in the mini stream: padded here, not written


def compound_file(tree: dict[str, bytes | dict[str, bytes]]) -> bytes:
    """A minimal OLE compound file (MS-CFB v3) of streams and one level of storages.

    Every stream is padded (with zeros) to the mini-stream cutoff, so all live in regular
    sectors (no mini stream is needed); siblings are linked as a chain of black nodes, as readers
    (oiffile, olefile) walk the tree.
    """
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": []}]

    def add(items: dict, parent: int) -> None:
        for name, value in sorted(items.items(), key=lambda kv: (len(kv[0]), kv[0].upper())):
            entries.append({"name": name, "type": 1 if isinstance(value, dict) else 2,
                            "children": [], "data": None if isinstance(value, dict) else
                            value.ljust(CUTOFF, b"\x00"), "size": 0 if isinstance(value, dict)
                            else max(len(value), CUTOFF)})
            entries[parent]["children"].append(len(entries) - 1)
            if isinstance(value, dict):
                add(value, len(entries) - 1)

    add(tree, 0)
    sectors: list[bytes] = []
    fat: list[int] = []
    for entry in entries:
        data = entry.get("data")
        if data is None:
            entry["start"] = END if entry["type"] != 1 else 0
            continue
        n = -(-len(data) // SECTOR)
        entry["start"] = len(sectors)
        for i in range(n):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(len(sectors) if i < n - 1 else END)
    directory = b""
    for entry in entries:
        kids = entry["children"]
        for a, b in zip(kids, kids[1:]):  # each child's right sibling is the next
            entries[a]["right"] = b
        entry["child"] = kids[0] if kids else NONE
    for entry in entries:
        name = (entry["name"] + "\x00").encode("utf-16-le")
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry["type"], 1, NONE,
                                 entry.get("right", NONE), entry["child"], b"\x00" * 16, 0,
                                 0, 0, entry["start"], entry.get("size", 0))
    unused = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NONE, NONE, NONE, b"\x00" * 16,
                         0, 0, 0, 0, 0)
    directory += unused * (-len(entries) % (SECTOR // 128))
    dir_start = len(sectors)
    n_dir = len(directory) // SECTOR
    for i in range(n_dir):
        sectors.append(directory[i * SECTOR:(i + 1) * SECTOR])
        fat.append(len(sectors) if i < n_dir - 1 else END)
    n_fat = 1
    while len(sectors) + n_fat > n_fat * (SECTOR // 4):
        n_fat += 1
    fat_ids = list(range(len(sectors), len(sectors) + n_fat))
    fat += [FAT_SECTOR] * n_fat
    fat += [FREE] * (n_fat * (SECTOR // 4) - len(fat))
    table = struct.pack(f"<{len(fat)}I", *fat)
    sectors += [table[i * SECTOR:(i + 1) * SECTOR] for i in range(n_fat)]
    difat = fat_ids + [FREE] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6, 0, n_fat,
                            dir_start, 0, CUTOFF, END, 0, END, 0)
              + struct.pack("<109I", *difat))
    return header + b"".join(sectors)
