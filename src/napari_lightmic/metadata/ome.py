"""An OME model for sources whose files carry no OME-XML, built from what the reader found."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ome_types import model as ome

from ..formats import file_stem
from ..reading.ome_xml import NOTES_NS  # what the writer did to fit an image: read back

if TYPE_CHECKING:
    from ..model import Channel, ImageSource, Scene, Well
    from ..scene.chunked import LazyPixels
    from .record import MetadataRecord, Privacy

PIXEL_TYPES = {
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "int8": "int8",
    "int16": "int16", "int32": "int32", "float32": "float", "float64": "double",
}


def ome_from_source(source: ImageSource) -> ome.OME:
    """An OME model of the source's scenes and the acquisition its reader found."""
    images = [_image(scene, i) for i, scene in enumerate(source.scenes)]
    found = source.acquisition
    modes = {m.value for m in ome.Channel_AcquisitionMode}
    for image in images:
        image.acquisition_date = found.acquisition_date
        if found.instrument is not None:
            image.instrument_ref = ome.InstrumentRef(id=found.instrument.id)
            if len(found.instrument.objectives) == 1:
                image.objective_settings = ome.ObjectiveSettings(
                    id=found.instrument.objectives[0].id)
        if found.experimenters:
            image.experimenter_ref = ome.ExperimenterRef(id=found.experimenters[0].id)
        if found.acquisition_mode in modes:
            for channel in image.pixels.channels:
                channel.acquisition_mode = ome.Channel_AcquisitionMode(found.acquisition_mode)
    return ome.OME(
        images=images,
        instruments=[found.instrument] if found.instrument is not None else [],
        experimenters=list(found.experimenters),
        creator="napari-lightmic",
    )


def _image(scene: Scene, index: int) -> ome.Image:
    sizes = scene.sizes
    physical = scene.physical_pixel_sizes
    channels = [
        ome.Channel(
            id=f"Channel:{index}:{c}",
            name=ch.name if ch.named else None,
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
        dimension_order=ome.Pixels_DimensionOrder.XYZCT,
        type=ome.PixelType(PIXEL_TYPES.get(scene.dtype, "uint16")),
        size_x=sizes.get("X", 1),
        size_y=sizes.get("Y", 1),
        size_z=sizes.get("Z", 1),
        size_c=sizes.get("C", 1) * sizes.get("S", 1),
        size_t=size_t,
        physical_size_x=physical.get("X"),
        physical_size_y=physical.get("Y"),
        physical_size_z=physical.get("Z"),
        time_increment=physical.get("T") if "T" in scene.units else None,
        **_units(scene.units, physical),
        channels=channels,
        metadata_only=ome.MetadataOnly(),
    )
    return ome.Image(id=f"Image:{index}", name=scene.name, pixels=pixels)


def _units(units: dict[str, str],
           physical: dict[str, float | None] | None = None) -> dict[str, Any]:
    """OME unit fields for the sizes that have a unit OME knows (lengths and T).

    Keyword arguments of `ome.Pixels`, which turns the symbols into its unit enums.
    """
    from ..units import is_length, is_time, symbol

    out: dict[str, Any] = {}
    for axis in "XYZ":
        unit = units.get(axis)
        if is_length(unit):
            out[f"physical_size_{axis.lower()}_unit"] = symbol(unit)
    if is_time(units.get("T")) and (physical is None or physical.get("T")):
        out["time_increment_unit"] = symbol(units["T"])
    return out


class WrittenImage(Protocol):
    """What a writer wrote of one scene (the writers' Image5D): data, axes, sizes, notes."""

    data: LazyPixels
    dims: str
    physical: dict[str, float | None]
    units: dict[str, str]
    channels: list[Channel]
    notes: list[str]


ORIGINAL_METADATA_NS = "https://github.com/napari-lightmic/original-metadata"


def ome_for_export(source: ImageSource, scenes: Sequence[Scene],
                   images: Sequence[WrittenImage],
                   record: MetadataRecord, wells: Sequence[Well] | None = None) -> ome.OME:
    """The OME of written images.

    The source's metadata (instruments, experimenters, annotations, acquisition settings) with
    Pixels describing what was written, and the REMBI record. With `wells` (each written
    image's), a Plate of them, unless the source's own OME already places them in one.
    """
    base = source.ome.model_copy(deep=True)
    out_images: list[ome.Image] = []
    for index, (scene, image) in enumerate(zip(scenes, images)):
        original = base.images[scene.ome_image] if scene.ome_image < len(base.images) else None
        sizes = dict(zip(image.dims, image.data.shape))
        channels = []
        for c, ch in enumerate(image.channels):
            old = (original.pixels.channels[c] if original is not None
                   and len(original.pixels.channels) == len(image.channels) else None)
            fields = old.model_dump(exclude={"id", "name", "color", "samples_per_pixel"}) \
                if old is not None else {}
            fields.update(emission_wavelength=ch.emission_nm or fields.get("emission_wavelength"),
                          excitation_wavelength=ch.excitation_nm
                          or fields.get("excitation_wavelength"),
                          fluor=ch.fluor or fields.get("fluor"))
            channels.append(ome.Channel(id=f"Channel:{index}:{c}",
                                        name=ch.name if ch.named else None,
                                        color=ome.Color(ch.color), samples_per_pixel=1,
                                        **fields))
        physical = image.physical
        pixels = ome.Pixels(
            id=f"Pixels:{index}", dimension_order=ome.Pixels_DimensionOrder.XYZCT,
            type=ome.PixelType(PIXEL_TYPES.get(str(image.data.dtype), "uint16")),
            size_x=sizes.get("X", 1),
            size_y=sizes.get("Y", 1), size_z=sizes.get("Z", 1),
            size_c=sizes.get("C", 1), size_t=sizes.get("T", 1),
            physical_size_x=physical.get("X"),
            physical_size_y=physical.get("Y"), physical_size_z=physical.get("Z"),
            **_units(image.units, physical),
            time_increment=physical.get("T") if "T" in image.units else None,
            channels=channels, metadata_only=ome.MetadataOnly(),
        )
        if original is not None:
            pixels.planes = _planes(original.pixels, pixels)
        fields = original.model_dump(exclude={"id", "pixels", "name"}) if original else {}
        out_images.append(ome.Image(id=_image_id(base, original, index, out_images),
                                    name=scene.name, pixels=pixels, **fields))
    _drop_image_refs(base, {image.id for image in out_images})
    _set_rois(base, scenes, out_images)
    base.images = out_images
    if wells and not any(sample.image_ref is not None for plate in base.plates
                         for well in plate.wells for sample in well.well_samples):
        base.plates = [_plate(wells, out_images, file_stem(source.path))]
    notes = []
    for index, (image, meta) in enumerate(zip(images, out_images)):
        for k, text in enumerate(image.notes):
            note = ome.CommentAnnotation(id=f"Annotation:notes-{index}-{k}", namespace=NOTES_NS,
                                         value=text)
            notes.append(note)
            meta.annotation_refs.append(ome.AnnotationRef(id=note.id))
    base.creator = "napari-lightmic"
    original_text = source.original_metadata
    annotations = [a for a in base.structured_annotations or []
                   if getattr(a, "namespace", None) not in (REMBI_NS, NOTES_NS)]
    kept = {a.id for a in annotations} | {n.id for n in notes}
    for meta in out_images:
        meta.annotation_refs = [r for r in meta.annotation_refs if r.id in kept]
    if original_text and not any(getattr(a, "namespace", None) == ORIGINAL_METADATA_NS
                            for a in annotations):
        annotations.append(ome.CommentAnnotation(
            id=f"Annotation:original-{len(annotations)}",
            namespace=ORIGINAL_METADATA_NS,
            description=f"Original {source.format.name} metadata of "
                        f"{source.file_name}",
            value=original_text))
    rembi = rembi_pairs(record)
    if rembi:
        annotations.append(ome.MapAnnotation(
            id=f"Annotation:rembi-{len(annotations)}", namespace=REMBI_NS,
            description="REMBI metadata record (napari-lightmic schema "
                        f"{record.lightmic_metadata})",
            value=ome.Map(ms=[ome.Map.M(k=k, value=v) for k, v in rembi])))
    # ome-types' validator turns the list into StructuredAnnotations on assignment
    base.structured_annotations = annotations + notes  # type: ignore[assignment]
    return base


def _set_rois(base: ome.OME, scenes: Sequence[Scene], written: list[ome.Image]) -> None:
    """The written images' ROIs: a scene's own (`Scene.rois`), else the file's as they were.

    ROIs that only images not written (or ROIs replaced) linked are dropped; ROIs no image
    of the source linked are kept as they were.
    """
    from ..rois.ome import image_roi_ids, set_image_rois

    linked = {ref.id for image in base.images for ref in image.roi_refs}
    replaced: set[str] = set()
    for index, (scene, image) in enumerate(zip(scenes, written)):
        if scene.rois is not None:
            replaced |= set(image_roi_ids(base, scene.ome_image)) \
                if scene.ome_image < len(base.images) else set()
            replaced |= set_image_rois(base, image, scene.rois, index)
    kept = {ref.id for image in written for ref in image.roi_refs}
    base.rois = [roi for roi in base.rois if roi.id in kept
                 or (roi.id not in linked and roi.id not in replaced)]


def _plate(wells: Sequence[Well], images: Sequence[ome.Image], name: str) -> ome.Plate:
    """A Plate of the written images: a Well per well, a WellSample per field.

    As bioformats2raw and Bio-Formats describe plates: rows named by letter, columns by number.
    """
    by_well: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, well in enumerate(wells):
        by_well.setdefault((well.row, well.column), []).append((well.field or 0, i))
    out_wells = []
    for k, ((row, column), fields) in enumerate(sorted(by_well.items())):
        samples = [ome.WellSample(id=f"WellSample:0:{k}:{field}", index=i,
                                  image_ref=ome.ImageRef(id=images[i].id))
                   for field, i in sorted(fields)]
        out_wells.append(ome.Well(id=f"Well:0:{k}", row=row, column=column,
                                  well_samples=samples))
    return ome.Plate(id="Plate:0", name=name, rows=max(w.row for w in wells) + 1,
                     columns=max(w.column for w in wells) + 1,
                     row_naming_convention=ome.NamingConvention.LETTER,
                     column_naming_convention=ome.NamingConvention.NUMBER, wells=out_wells)


def _planes(old: ome.Pixels, new: ome.Pixels) -> list[ome.Plane]:
    """The source's Plane records (time, exposure, stage position of each plane).

    Only where the written image has the source's Z, C and T sizes, so each record still
    names its plane.
    """
    if (old.size_z, old.size_c, old.size_t) != (new.size_z, new.size_c, new.size_t):
        return []
    return [plane.model_copy(deep=True) for plane in old.planes]


def _image_id(base: ome.OME, original: ome.Image | None, index: int,
              written: list[ome.Image]) -> str:
    """The source image's ID, so that what refers to it still does; else a new one.

    What refers to it: Datasets, Folders, Plates' wells. A new ID is one no image of the
    source has.
    """
    taken = {image.id for image in written}
    if original is not None and original.id not in taken:
        return original.id
    known = taken | {image.id for image in base.images}
    new, k = f"Image:{index}", 0
    while new in known:
        k += 1
        new = f"Image:{index}.{k}"
    return new


def _drop_image_refs(base: ome.OME, written: set[str]) -> None:
    """Remove the references to images that were not written (another scene of the file).

    A Dataset, Folder or WellSample of the export never points at a missing image.
    """
    for dataset in base.datasets:
        dataset.image_refs = [ref for ref in dataset.image_refs if ref.id in written]
    for folder in base.folders:
        folder.image_refs = [ref for ref in folder.image_refs if ref.id in written]
    for plate in base.plates:
        for well in plate.wells:
            for sample in well.well_samples:
                if sample.image_ref is not None and sample.image_ref.id not in written:
                    sample.image_ref = None


def export_xml(source: ImageSource, model: ome.OME,
               remove_personal: Privacy | bool = False) -> str:
    """The OME-XML text of an export.

    With personal data marked for removal (the record's privacy decision: every finding or
    those chosen; True: every finding), the values found are taken out of the text wherever
    they stand: attributes, elements, XML and map annotations, and the vendor metadata
    embedded (escaped) in a CommentAnnotation.
    """
    try:
        xml = model.to_xml()
    except UnicodeEncodeError:  # text from a file name that is not UTF-8 (surrogate escapes)
        from ..errors import utf8_tree

        xml = utf8_tree(model).to_xml()
    if remove_personal is True or (not isinstance(remove_personal, bool)
                                   and remove_personal.remove_on_export):
        from .privacy import redact_text, removed, scan

        found = scan(source.ome, source.original_metadata, source.format.name)
        xml = redact_text(xml, removed(found, remove_personal))
    return xml


REMBI_NS = "https://napari-lightmic.github.io/schema/rembi/1"


def rembi_pairs(record: MetadataRecord) -> list[tuple[str, str]]:
    """The filled REMBI fields as (dotted key, text) pairs, e.g. ('study.title', 'Mitosis')."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            if set(value) == {"label", "iri"}:
                pairs.append((prefix, f"{value['label']} <{value['iri']}>"))
                return
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)
        elif value not in (None, ""):
            pairs.append((prefix, str(value)))

    walk("", record.rembi.model_dump(mode="json"))
    return pairs
