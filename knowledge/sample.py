"""Load the sample knowledge base shipped with the project (`knowledge/data/procedures.json`)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.records import PROCEDURE_FIELDS, ProcedureRecord

__all__ = ["DEFAULT_PROCEDURES_PATH", "load_procedures_json", "record_from_dict"]

DEFAULT_PROCEDURES_PATH = Path(__file__).with_name("data") / "procedures.json"


def record_from_dict(data: dict[str, object]) -> ProcedureRecord:
    """Build a record from a JSON object with ProcedureRecord field names (extra keys ignored)."""
    values: dict[str, object] = {}
    for name in PROCEDURE_FIELDS:
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if name == "keywords":
            if isinstance(value, str):
                value = [k for k in value.split(";")]
            if not isinstance(value, list | tuple):
                raise ValueError(f"keywords must be a list, got {type(value).__name__}")
            values[name] = tuple(str(k).strip() for k in value if str(k).strip())
        else:
            values[name] = str(value)
    if not values.get("code") or not values.get("name"):
        raise ValueError("a procedure needs a code and a name")
    return ProcedureRecord(**values)  # type: ignore[arg-type]


def load_procedures_json(path: str | Path = DEFAULT_PROCEDURES_PATH) -> list[ProcedureRecord]:
    """Read a JSON list of procedure objects into records."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of procedure objects")
    return [record_from_dict(item) for item in data]
