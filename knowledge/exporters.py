"""Spreadsheets out: XLSX and CSV files that officials open in Excel or LibreOffice.

Every sheet has a bold, frozen header row, column widths that fit the content, and dates as
dd/mm/yyyy (real date cells in XLSX, so they sort). Text that begins with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) would be read as a formula by a spreadsheet
(OWASP, "CSV Injection"): in XLSX such a cell is stored as text with Excel's quote prefix,
in CSV it gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from knowledge.records import PROCEDURE_FIELDS, ProcedureRecord

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MAX_WIDTH = 60


@dataclass
class Sheet:
    """One table: header labels, rows of str / int / float / date / datetime / None."""

    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    # Minimum widths in characters, by column index (headers and content widen them).
    widths: Mapping[int, int] = field(default_factory=dict)
    # Columns whose numbers are ratios shown as percentages (0.925 → 92.5 %).
    percent_columns: frozenset[int] = frozenset()


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def neutralise(text: str) -> str:
    """The CSV form of a text cell: a leading apostrophe before formula-like text."""
    return "'" + text if is_formula_like(text) else text


def _local(value: datetime, tz: ZoneInfo | None) -> datetime:
    if value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return value.replace(tzinfo=None)  # spreadsheets have no time zones


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value) if value is not None else ""
    return max((len(line) for line in text.splitlines()), default=0)


def to_xlsx(sheets: Sequence[Sheet], tz: ZoneInfo | None = None) -> bytes:
    """An XLSX workbook with one worksheet per sheet."""
    # openpyxl takes a fifth of a second to import: only the exports pay for it.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for sheet in sheets:
        ws = workbook.create_sheet(title=sheet.title[:31])  # Excel's limit on sheet names
        ws.append(sheet.headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [max(len(h), sheet.widths.get(i, 0)) for i, h in enumerate(sheet.headers)]
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, datetime):
                    cell.value = _local(value, tz)
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.value = value
                    cell.number_format = DATE_FORMAT
                elif isinstance(value, str):
                    # Assigning a str that starts with "=" makes openpyxl write a formula:
                    # set the value and then force the type back to text.
                    cell.value = value
                    cell.data_type = "s"
                    if is_formula_like(value):
                        cell.quotePrefix = True
                    if "\n" in value:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                else:
                    cell.value = value
                    if c - 1 in sheet.percent_columns and value is not None:
                        cell.number_format = "0.0%"
                if c - 1 < len(widths):
                    widths[c - 1] = max(widths[c - 1], _width(value))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, w + 2)
        ws.freeze_panes = "A2"  # the header row stays in view
        ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(sheet: Sheet, tz: ZoneInfo | None = None, *, locale_decimal: str = ",") -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads the diacritics), comma-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.headers])
    for row in sheet.rows:
        cells: list[str] = []
        for c, value in enumerate(row):
            if value is None:
                cells.append("")
            elif isinstance(value, datetime):
                cells.append(_local(value, tz).strftime("%d/%m/%Y %H:%M"))
            elif isinstance(value, date):
                cells.append(value.strftime("%d/%m/%Y"))
            elif isinstance(value, float):
                number = value * 100 if c in sheet.percent_columns else value
                cells.append(f"{number:.1f}".replace(".", locale_decimal))
            elif isinstance(value, int):
                cells.append(str(value))
            else:
                cells.append(neutralise(str(value)))
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def procedures_sheet(
    records: Sequence[ProcedureRecord], columns: Mapping[str, str], title: str = "TTHC"
) -> Sheet:
    """The procedures with the columns of an import (field key → header as the file had it);
    without one, every field under its canonical key, so the file imports back as it is."""
    order = [f for f in PROCEDURE_FIELDS if f in columns] or list(PROCEDURE_FIELDS)
    headers = [columns.get(f, f) for f in order]
    rows: list[list[Any]] = []
    for rec in records:
        row: list[Any] = []
        for f in order:
            value = getattr(rec, f)
            row.append("; ".join(value) if f == "keywords" else value)
        rows.append(row)
    return Sheet(title=title, headers=headers, rows=rows)
