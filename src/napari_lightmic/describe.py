"""The JSON description of a source: the contract of `lightmic info --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import ImageSource, Scene
from .plate import describe_plate

if TYPE_CHECKING:
    from .metadata.record import MetadataRecord

SIZE_AXES = ("T", "Z", "Y", "X")
ACQUISITION = "image_acquisition."


def describe_acquisition(record: MetadataRecord) -> dict[str, str]:
    """How the image was acquired, as far as the record says: the REMBI image-acquisition pairs.

    The same text `lightmic metadata --show` prints (imaging method, instrument, objective,
    detector, date, mode), keyed by field name, e.g. 'objective'; with the user's edits.
    """
    from .metadata.ome import rembi_pairs

    return {key.removeprefix(ACQUISITION): value for key, value in rembi_pairs(record)
            if key.startswith(ACQUISITION)}


def describe_source(source: ImageSource, scene: int | str | None = None,
                    record: MetadataRecord | None = None) -> dict:
    """The file's format, reader, acquisition and scenes (every one, or the one named).

    As JSON data; the acquisition is the metadata `record`'s (an empty mapping without one).
    """
    scenes = source.scenes if scene is None else [source.scene(scene)]
    fmt = source.format
    return {
        "path": source.path,
        "format": fmt.name,
        "vendor": fmt.vendor,
        "open_format": fmt.open_format,
        "lossy": fmt.lossy,
        "edam_format": fmt.edam,
        "advice": fmt.advice,
        "reader": source.reader,
        "scene_count": len(source.scenes),
        "acquisition": describe_acquisition(record) if record is not None else {},
        "scenes": [describe_scene(s) for s in scenes],
        # an HCS plate's rows, columns, wells and their fields, acquisitions; else null
        "plate": describe_plate(source.plate) if source.plate is not None else None,
    }


def describe_scene(scene: Scene) -> dict:
    """A scene's axes, shape, levels, pixel sizes, channels and notes, as JSON data."""
    physical = {a: scene.physical_pixel_sizes.get(a) for a in SIZE_AXES}
    # Further axes with a physical step (a lambda sweep in nm) are listed too.
    physical.update({a: v for a, v in scene.physical_pixel_sizes.items() if a not in physical})
    return {
        "index": scene.index,
        "name": scene.name,
        "dims": scene.dims,
        "shape": list(scene.shape),
        "levels": [[int(n) for n in level.shape] for level in scene.pixel_levels],
        "dtype": scene.dtype,
        "physical_pixel_sizes": physical,
        "units": {a: u for a, u in scene.units.items() if physical.get(a)},
        "channel_names": scene.channel_names,
        "channel_colors": scene.channel_colors,
        "mosaic": ({"tiles": scene.mosaic.tiles, "stitched": scene.mosaic.stitched,
                    "placement": scene.mosaic.placement} if scene.mosaic else None),
        "stage_position": scene.stage_position,
        "notes": scene.notes,
    }


def format_text(info: dict) -> str:
    """The description as text for a terminal, as `lightmic info` prints it."""
    lines = [f"{info['path']}", f"  format: {info['format']}"
             + (f" ({info['vendor']})" if info["vendor"] else "")
             + f", {'open' if info['open_format'] else 'proprietary'}"
             + f", {'lossy' if info['lossy'] else 'lossless'}; read with {info['reader']}",
             f"  scenes: {info['scene_count']}"]
    if info["advice"]:
        lines.append(f"  note: {info['advice']}")
    if info.get("acquisition"):
        lines.append("  acquisition:")
        lines.extend(f"      {key.replace('_', ' ')}: {value}"
                     for key, value in info["acquisition"].items())
    if info.get("plate"):
        lines.extend(_plate_text(info["plate"]))
    for s in info["scenes"]:
        shape = " x ".join(f"{a}{n}" for a, n in zip(s["dims"], s["shape"]))
        sizes = ", ".join(
            f"{a} {v:.4g} {s['units'].get(a, '')}".rstrip()
            for a, v in s["physical_pixel_sizes"].items() if v and a != "T"
        ) or "unknown"
        lines.append(f"  [{s['index']}] {s['name']}: {shape} {s['dtype']}")
        lines.append(f"      pixel size: {sizes}")
        step = s["physical_pixel_sizes"].get("T")
        if step:
            lines.append(f"      time step: {step:.4g} {s['units'].get('T', '')}".rstrip())
        elif dict(zip(s["dims"], s["shape"])).get("T", 1) > 1:
            lines.append("      time step: not recorded")
        lines.append("      channels: " + ", ".join(
            f"{n} {c}" for n, c in zip(s["channel_names"], s["channel_colors"])))
        mosaic = s["mosaic"]
        if mosaic:
            how = f"stitched by {mosaic['placement']}" if mosaic["stitched"] else "not stitched"
            lines.append(f"      mosaic: {mosaic['tiles']} tiles, {how}")
        for note in s["notes"]:
            lines.append(f"      note: {note}")
    return "\n".join(lines)


def _plate_text(plate: dict) -> list[str]:
    """An HCS plate in a few lines: its grid, acquisitions, wells by row, problems."""
    wells = plate["wells"]
    counts = sorted({len(w["fields"]) for w in wells if not w["problem"]})
    fields = sum(len(w["fields"]) for w in wells)
    lines = [f"  plate: {plate['name'] or '(no name)'}, {len(plate['rows'])} rows "
             f"({', '.join(plate['rows'])}) x {len(plate['columns'])} columns "
             f"({', '.join(plate['columns'])}); {len(wells)} wells, {fields} fields"
             + (f" ({counts[0]} a well)" if len(counts) == 1
                else f" ({counts[0]} to {counts[-1]} a well)" if counts else "")]
    for a in plate["acquisitions"]:
        lines.append(f"      acquisition {a['id']}: {a['name'] or '(no name)'}")
    for i, row in enumerate(plate["rows"]):
        here = [plate["columns"][w["column"]] for w in wells if w["row"] == i]
        if here:
            lines.append(f"      wells of row {row}: columns {', '.join(here)}")
    for w in wells:
        if w["problem"]:
            lines.append(f"      well {w['name']} ({w['path']}): {w['problem']}")
    return lines
