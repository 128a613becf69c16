"""An OME model for sources whose files carry no OME-XML, built from what the reader found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ome_types import model as ome

if TYPE_CHECKING:
    from ..model import ImageSource, Scene

PIXEL_TYPES = {
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "int8": "int8",
    "int16": "int16", "int32": "int32", "float32": "float", "float64": "double",
}


def ome_from_source(source: ImageSource) -> ome.OME:
    return ome.OME(
        images=[_image(scene, i) for i, scene in enumerate(source.scenes)],
        creator="napari-lightmic",
    )


def _image(scene: Scene, index: int) -> ome.Image:
    sizes = scene.sizes
    physical = scene.physical_pixel_sizes
    channels = [
        ome.Channel(
            id=f"Channel:{index}:{c}",
            name=ch.name,
            color=ome.Color(ch.color),
            emission_wavelength=ch.emission_nm,
            excitation_wavelength=ch.excitation_nm,
            fluor=ch.fluor,
            samples_per_pixel=sizes.get("S", 1),
        )
        for c, ch in enumerate(scene.channels)
    ]
    # OME has T, C, Z only: further axes (Airyscan phase, lambda) are folded into T.
    size_t = 1
    for axis, n in sizes.items():
        if axis not in "CZYXS":
            size_t *= n
    pixels = ome.Pixels(
        id=f"Pixels:{index}",
        dimension_order="XYZCT",
        type=PIXEL_TYPES.get(scene.dtype, "uint16"),
        size_x=sizes.get("X", 1),
        size_y=sizes.get("Y", 1),
        size_z=sizes.get("Z", 1),
        size_c=sizes.get("C", 1) * sizes.get("S", 1),
        size_t=size_t,
        physical_size_x=physical.get("X"),
        physical_size_y=physical.get("Y"),
        physical_size_z=physical.get("Z"),
        channels=channels,
        metadata_only=True,
    )
    return ome.Image(id=f"Image:{index}", name=scene.name, pixels=pixels)
