"""Write the JSON Schema of the metadata record into the package (run after changing record.py;
tests/metadata/test_record.py fails while the shipped schema and the model disagree)."""

import json
from pathlib import Path

from napari_lightmic.metadata.record import SCHEMA_VERSION, json_schema

out = (Path(__file__).resolve().parents[1] / "src" / "napari_lightmic" / "metadata" / "data"
       / f"metadata-record-{SCHEMA_VERSION}.schema.json")
out.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(out)
