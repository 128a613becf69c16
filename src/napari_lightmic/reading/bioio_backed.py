"""ND2, PNG and JPEG through bioio and its plugins.

bioio reduces every file to TCZYX(S); these formats have no other axes, so nothing is lost.
What is fixed here: a single plane's invented Z size (ND2 reports 1.0) is reported unknown,
and placeholder channel names become plain numbers.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ..colors import complete_colors, parse_color
from ..formats import FileFormat, file_stem
from ..model import Channel, ImageSource, Scene
from ..scene.axes import SerialReads, canonical
from .acquisition import given
from .contract import ReaderBase

if TYPE_CHECKING:
    from bioio import BioImage
    from bioio_base.reader import Reader
    from ome_types import OME

# The bioio plugin that reads each format; pinned so the generic fallbacks never guess.
READERS = {
    "ND2": "bioio_nd2",
    "PNG": "bioio_imageio",
    "JPEG": "bioio_imageio",
}


def _reader_class(fmt: FileFormat) -> type[Reader]:
    import importlib

    reader: type[Reader] = importlib.import_module(READERS[fmt.name]).Reader
    return reader


def open_bioio(path: str, fmt: FileFormat) -> ImageSource:
    """Open an ND2, PNG or JPEG file with its bioio plugin, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row, which names the plugin (`READERS`).

    Returns
    -------
    ImageSource
        One scene per bioio scene, with the file's OME metadata where the plugin gives it.
    """
    from bioio import BioImage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = BioImage(path, reader=_reader_class(fmt))
        scene_ids = list(image.scenes)
        ome = _ome_or_none(image)
        scenes = []
        for index, scene_id in enumerate(scene_ids):
            image.set_scene(scene_id)
            scenes.append(_scene(image, index, scene_id, ome, path))
    return ImageSource(
        path=path,
        format=fmt,
        scenes=scenes,
        reader=READERS[fmt.name].replace("_", "-"),
        ome_factory=given(ome) if ome is not None else None,
    )


def _ome_or_none(image: BioImage) -> OME | None:
    try:
        return image.ome_metadata
    except Exception:  # noqa: BLE001 - a plugin's OME is extra: any failure means none
        return None


def _scene(image: BioImage, index: int, scene_id: str, ome: OME | None, path: str) -> Scene:
    data, dims = canonical(SerialReads(image.dask_data).to_dask(), image.dims.order)
    sizes = dict(zip(dims, data.shape))
    pps = image.physical_pixel_sizes
    reported = {"Z": pps.Z, "Y": pps.Y, "X": pps.X}
    # A single plane has no Z step; a reported one is invented.
    if sizes.get("Z", 1) == 1:
        reported["Z"] = None
    physical = {k: (float(v) if v else None) for k, v in reported.items()}
    units = {k: "µm" for k, v in physical.items() if v is not None}

    ome_image = ome.images[index] if ome is not None and index < len(ome.images) else None
    t_note = None
    if ome_image is not None and sizes.get("T", 1) == ome_image.pixels.size_t > 1:
        from .ome_xml import time_step

        step, unit, t_note = time_step(ome_image.pixels)
        if step and unit:
            physical["T"], units["T"] = float(step), unit
    n_channels = sizes.get("C", 1)
    names = [str(n) for n in (image.channel_names or [])]
    colors: list[str | None] = [None] * n_channels
    emissions: list[float | None] = [None] * n_channels
    excitations: list[float | None] = [None] * n_channels
    fluors: list[str | None] = [None] * n_channels
    if ome_image is not None and len(ome_image.pixels.channels) == n_channels:
        chans = ome_image.pixels.channels
        all_white = all(c.color is None or c.color.as_rgb_tuple()[:3] == (255, 255, 255)
                        for c in chans)
        for i, c in enumerate(chans):
            if c.color is not None and not (all_white and n_channels > 1):
                colors[i] = parse_color(c.color.as_rgb_tuple()[:3])
            emissions[i] = c.emission_wavelength
            excitations[i] = c.excitation_wavelength
            fluors[i] = c.fluor
    if len(names) != n_channels or not all(names):
        names = [f"Channel:{i}" for i in range(n_channels)]
    named = [not n.startswith("Channel:") for n in names]
    names = [_clean_placeholder(n, i) for i, n in enumerate(names)]
    shown = complete_colors(colors, emissions)
    channels = [
        Channel(name=names[i], color=shown[i], excitation_nm=excitations[i],
                emission_nm=emissions[i], fluor=fluors[i], named=named[i])
        for i in range(n_channels)
    ]
    name = ome_image.name if ome_image is not None and ome_image.name else None
    if not name:
        stem = file_stem(path)
        name = stem if len(image.scenes) == 1 else f"{stem} #{index + 1}"
    return Scene(index=index, name=name, data=data, dims=dims, physical_pixel_sizes=physical,
                 units=units, channels=channels, notes=[t_note] if t_note else [])


def _clean_placeholder(name: str, i: int) -> str:
    # bioio's invented 'Channel:0:1' names say nothing; number channels as a person would.
    if name.startswith("Channel:"):
        return f"Channel {i}"
    return name


class _Reader(ReaderBase):
    library = "bioio"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_bioio(path, fmt)


READER = _Reader()
