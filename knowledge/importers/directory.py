"""Write an agency directory file an admin fills in: one People's Committee (and, if asked,
one police station) per commune of the province, ready for `agencies import`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from knowledge.places import Gazetteer, Unit
from knowledge.records import (
    AGENCY_FIELDS,
    KIND_COMMUNE_COMMITTEE,
    KIND_COMMUNE_POLICE,
    AgencyRecord,
)

__all__ = ["commune_agencies", "directory_bytes"]

# Code prefixes of the generated agencies; the commune's statistics code follows.
COMMITTEE_PREFIX = "UBND-"
POLICE_PREFIX = "CA-"


def _lower_type(unit: Unit) -> str:
    """ "Phường Xuân Hương - Đà Lạt" → "phường Xuân Hương - Đà Lạt" (as in "UBND phường …")."""
    return unit.name[:1].lower() + unit.name[1:]


def commune_agencies(
    places: Gazetteer,
    *,
    police: bool = False,
    committee_parent: str | None = None,
    police_parent: str | None = None,
) -> list[AgencyRecord]:
    """One "Ủy ban nhân dân <commune>" per commune (and "Công an <commune>" with `police`),
    coded UBND-<statistics code> / CA-<statistics code>, without chat ids."""
    records: list[AgencyRecord] = []
    for unit in places.directory_rows():
        records.append(
            AgencyRecord(
                code=f"{COMMITTEE_PREFIX}{unit.code}",
                name=f"Ủy ban nhân dân {_lower_type(unit)}",
                parent=committee_parent,
                unit_code=unit.code,
                kind=KIND_COMMUNE_COMMITTEE,
            )
        )
        if police:
            records.append(
                AgencyRecord(
                    code=f"{POLICE_PREFIX}{unit.code}",
                    name=f"Công an {_lower_type(unit)}",
                    parent=police_parent,
                    unit_code=unit.code,
                    kind=KIND_COMMUNE_POLICE,
                )
            )
    return records


def directory_bytes(records: Sequence[AgencyRecord], fmt: str) -> bytes:
    """The records as a "csv" (UTF-8 with BOM, so Excel shows the diacritics), "xlsx" or
    "json" file with the canonical column keys the import reads."""
    rows = [[getattr(r, f) for f in AGENCY_FIELDS] for r in records]
    if fmt == "json":
        return json.dumps([r.as_dict() for r in records], ensure_ascii=False, indent=2).encode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AGENCY_FIELDS)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "agencies"
        sheet.append(list(AGENCY_FIELDS))
        for row in rows:
            sheet.append(row)
        # Statistics codes keep their leading zeros as text ("00070", not 70).
        unit_col = AGENCY_FIELDS.index("unit_code") + 1
        for cells in sheet.iter_cols(min_col=unit_col, max_col=unit_col, min_row=2):
            for cell in cells:
                cell.number_format = "@"
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r} (csv, xlsx or json)")
