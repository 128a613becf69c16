"""Acquisition facts from a vendor's own metadata, as OME: instrument, objective, detectors,
acquisition date and operator, for files whose readers give no OME (CZI, LIF, LSM)."""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from ome_types import model as ome

from .._xml import parse_xml

IMMERSIONS = {"oil": "Oil", "water": "Water", "w": "Water", "glyc": "Glycerol",
              "glycerol": "Glycerol", "air": "Air", "multi": "Multi", "imm": "Multi",
              "wl": "WaterDipping", "silicone": "Other", "sil": "Other"}


@dataclass
class Acquisition:
    instrument: ome.Instrument | None = None
    acquisition_date: datetime | None = None
    experimenters: list[ome.Experimenter] = field(default_factory=list)
    acquisition_mode: str | None = None  # an OME Channel AcquisitionMode value


def acquisition(format_name: str, text: str | None) -> Acquisition:
    """What the vendor metadata says about how the image was acquired (empty if unreadable)."""
    if not text:
        return Acquisition()
    with suppress(Exception):
        if format_name == "CZI":
            return _czi(parse_xml(text.encode()))
        if format_name == "LIF":
            return _lif(parse_xml(text.encode()))
        if format_name == "LSM":
            return _lsm(json.loads(text).get("ScanInformation") or {})
    return Acquisition()


def _text(element, path: str) -> str | None:
    value = element.findtext(path) if element is not None else None
    value = (value or "").strip()
    return value or None


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _immersion(value: str | None) -> str | None:
    return IMMERSIONS.get((value or "").strip().lower()) if value else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    with suppress(ValueError):
        return datetime.fromisoformat(value)
    return None


def _czi(root) -> Acquisition:
    info = root.find(".//Metadata/Information")
    instrument_xml = info.find("Instrument") if info is not None else None
    out = Acquisition(acquisition_date=_date(_text(info, "Image/AcquisitionDateAndTime"))
                      or _date(_text(info, "Document/CreationDate")))
    user = _text(info, "Document/UserName") or _text(info, "User/DisplayName")
    if user:
        out.experimenters.append(ome.Experimenter(id="Experimenter:0", user_name=user))
    modes = [m.text.strip() for m in root.iterfind(
        ".//Information/Image/Dimensions/Channels/Channel/AcquisitionMode") if m.text]
    out.acquisition_mode = modes[0] if modes else None
    if instrument_xml is None or not len(instrument_xml):
        return out
    microscope = instrument_xml.find("Microscopes/Microscope")
    objectives = [
        ome.Objective(
            id=f"Objective:{i}",
            model=obj.get("Name") or _text(obj, "Manufacturer/Model"),
            nominal_magnification=_float(_text(obj, "NominalMagnification")),
            lens_na=_float(_text(obj, "LensNA")),
            immersion=_immersion(_text(obj, "Immersion")),
            working_distance=_float(_text(obj, "WorkingDistance")),
        )
        for i, obj in enumerate(instrument_xml.iterfind("Objectives/Objective"))
    ]
    detectors = [
        ome.Detector(id=f"Detector:{i}",
                     model=det.get("Name") or _text(det, "Manufacturer/Model") or det.get("Id"),
                     gain=_float(_text(det, "Gain")))
        for i, det in enumerate(instrument_xml.iterfind("Detectors/Detector"))
    ]
    scope = None
    if microscope is not None:
        model = microscope.get("Name") or _text(microscope, "System")
        kind = _text(microscope, "Type")
        scope = ome.Microscope(model=model, manufacturer="Carl Zeiss",
                               type=kind if kind in ("Upright", "Inverted", "Dissection",
                                                     "Electrophysiology") else None)
    out.instrument = ome.Instrument(id="Instrument:0", microscope=scope, objectives=objectives,
                                    detectors=detectors)
    return out


def _lif(root) -> Acquisition:
    settings = next(root.iter("ATLConfocalSettingDefinition"), None)
    if settings is None:
        settings = next(root.iter("ATLCameraSettingDefinition"), None)
    out = Acquisition(acquisition_mode="LaserScanningConfocalMicroscopy"
                      if settings is not None and "Confocal" in settings.tag else None)
    if settings is None:
        return out
    name = (settings.get("ObjectiveName") or "").strip()
    objective = ome.Objective(
        id="Objective:0", model=re.sub(r"\s+", " ", name) or None,
        nominal_magnification=_float(settings.get("Magnification")),
        lens_na=_float(settings.get("NumericalAperture")),
        immersion=_immersion(settings.get("Immersion")),
    )
    system = next((e.get("SystemTypeName") for e in root.iter("Attachment")
                   if e.get("SystemTypeName")), "").strip()
    stand = (settings.get("MicroscopeModel") or "").strip()
    scope = ome.Microscope(manufacturer="Leica Microsystems",
                           model=" on ".join(v for v in (system, stand) if v) or None,
                           serial_number=settings.get("SystemSerialNumber") or None)
    out.instrument = ome.Instrument(id="Instrument:0", microscope=scope, objectives=[objective])
    return out


def _lsm(scan: dict) -> Acquisition:
    out = Acquisition(acquisition_mode="LaserScanningConfocalMicroscopy")
    user = str(scan.get("User") or "").strip()
    if user:
        out.experimenters.append(ome.Experimenter(id="Experimenter:0", user_name=user))
    name = str(scan.get("Objective") or "").strip()
    if name:
        match = re.search(r"(\d+(?:\.\d+)?)x/(\d(?:\.\d+)?)\s*(\w+)?", name)
        objective = ome.Objective(
            id="Objective:0", model=name,
            nominal_magnification=_float(match.group(1)) if match else None,
            lens_na=_float(match.group(2)) if match else None,
            immersion=_immersion(match.group(3)) if match else None)
        out.instrument = ome.Instrument(id="Instrument:0", objectives=[objective],
                                        microscope=ome.Microscope(manufacturer="Carl Zeiss"))
    return out
