"""A metadata record prefilled from what the file knows.

REMBI image acquisition and image data, the contrast mechanism, and an EDAM imaging method
from the OME acquisition mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .edam import search
from .record import EdamTerm, ImageAcquisition, ImageData, MetadataRecord, Rembi, Specimen

if TYPE_CHECKING:
    from ome_types.model import OME, Image, Objective

    from ..model import ImageSource

# OME Channel AcquisitionMode -> EDAM-bioimaging label.
METHODS = {
    "LaserScanningConfocalMicroscopy": "Confocal microscopy",
    "SpinningDiskConfocal": "Confocal fluorescence microscopy",
    "SlitScanConfocal": "Confocal microscopy",
    "TotalInternalReflection": "Total internal reflection fluorescence microscopy",
    "SPIM": "Light-sheet microscopy",
    "StructuredIllumination": "Structured illumination microscopy",
    "FluorescenceLifetime": "Fluorescence lifetime imaging microscopy",
    "BrightField": "Bright-field microscopy",
    "PhaseContrast": "Phase-contrast microscopy",
    "DifferentialInterferenceContrast": "DIC microscopy",
}
CONFOCAL_ORDER = ("LaserScanningConfocalMicroscopy", "SpinningDiskConfocal", "SlitScanConfocal")


def edam_by_label(label: str) -> EdamTerm | None:
    """The EDAM topic labelled exactly `label` (any case), or None."""
    for hit in search(label, limit=5, branch="topic"):
        if hit.label.lower() == label.lower():
            return EdamTerm(label=hit.label, iri=hit.iri)
    return None


def record_from_source(source: ImageSource) -> MetadataRecord:
    """A record of what the source's first scene and its OME say about the acquisition."""
    ome = source.ome
    image = ome.images[0] if ome.images else None
    scene = source.scenes[0]
    channels = image.pixels.channels if image is not None else []
    modes = [c.acquisition_mode.value for c in channels if c.acquisition_mode]
    fluorescent = any(c.emission_wavelength or c.fluor for c in channels) or any(
        ch.emission_nm or ch.fluor for ch in scene.channels)
    return MetadataRecord(rembi=Rembi(
        image_acquisition=_acquisition(ome, image, modes, fluorescent, scene.dims),
        image_data=_image_data(source),
        specimen=Specimen(
            signal_contrast_mechanism="fluorescence" if fluorescent else None,
            channel_content="; ".join(
                ch.name + (f" ({ch.fluor})" if ch.fluor else "") for ch in scene.channels)
            or None),
    ))


@dataclass
class AcquisitionFacts:
    """How an image was acquired, as text, from its OME."""

    instrument: str | None = None
    objectives: list[str] = field(default_factory=list)
    detector: str | None = None
    date: datetime | None = None
    modes: list[str] = field(default_factory=list)


def acquisition_facts(ome: OME, image: Image | None) -> AcquisitionFacts:
    """Instrument, objectives, detector, date and modes of `image`.

    The instrument is the one the image names, else the file's first.
    """
    facts = AcquisitionFacts()
    instrument = None
    if image is not None and image.instrument_ref is not None:
        instrument = next((i for i in ome.instruments if i.id == image.instrument_ref.id), None)
    if instrument is None and ome.instruments:
        instrument = ome.instruments[0]
    if instrument is not None:
        if instrument.microscope is not None:
            facts.instrument = " ".join(v for v in (instrument.microscope.manufacturer,
                                                    instrument.microscope.model) if v) or None
        facts.objectives = [describe_objective(o) for o in instrument.objectives]
        facts.detector = ", ".join(dict.fromkeys(
            d.model for d in instrument.detectors if d.model)) or None
    if image is not None:
        facts.date = image.acquisition_date
        facts.modes = list(dict.fromkeys(c.acquisition_mode.value for c in image.pixels.channels
                                         if c.acquisition_mode))
    return facts


def _acquisition(ome: OME, image: Image | None, modes: list[str], fluorescent: bool,
                 dims: str) -> ImageAcquisition:
    facts = acquisition_facts(ome, image)
    return ImageAcquisition(
        imaging_method=_method(modes, fluorescent, dims),
        instrument=facts.instrument,
        objective=facts.objectives[0] if facts.objectives else None,
        detector=facts.detector,
        acquisition_date=facts.date.isoformat(timespec="seconds") if facts.date else None,
        imaging_mode=", ".join(facts.modes) or None,
    )


def describe_objective(objective: Objective) -> str:
    """'Model (63×, NA 1.4, Oil)', from what the OME objective records."""
    parts = []
    if objective.nominal_magnification:
        parts.append(f"{objective.nominal_magnification:g}×")
    if objective.lens_na:
        parts.append(f"NA {objective.lens_na:.3g}")
    if objective.immersion is not None:
        parts.append(objective.immersion.value)
    text = objective.model or ""
    return f"{text} ({', '.join(parts)})" if parts and text else text or ", ".join(parts)


def _method(modes: list[str], fluorescent: bool, dims: str) -> EdamTerm | None:
    if "H" in dims:
        return edam_by_label("Airyscan")
    for mode in CONFOCAL_ORDER:
        if mode in modes:
            return edam_by_label(METHODS[mode])
    for mode in modes:
        if mode in METHODS:
            return edam_by_label(METHODS[mode])
    if "WideField" in modes or "Epifluorescence" in modes:
        return edam_by_label("Widefield fluorescence microscopy" if fluorescent
                             else "Bright-field microscopy")
    return None


def _image_data(source: ImageSource) -> ImageData:
    scene = source.scenes[0]
    physical = ", ".join(f"{a} {v:.4g} {scene.units.get(a, '')}".strip()
                         for a, v in scene.physical_pixel_sizes.items() if v)
    return ImageData(
        image_type="raw" if not source.format.open_format else None,  # as the instrument wrote it
        file_format=source.format.name,
        dimensions=f"{scene.shape_text}, {scene.dtype}" + (
            f" ({len(source.scenes)} scenes)" if len(source.scenes) > 1 else ""),
        physical_pixel_sizes=physical or None,
        channels=", ".join(scene.channel_names) or None,
    )
