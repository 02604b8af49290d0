"""Read the bytes of an admin file (CSV, JSON or XLSX) into a `Table` of clean text cells.

The content decides the format, not the extension; text must be UTF-8. Every failure of the file
as a whole is an `ImportFormatError` with a machine code from `FORMAT_ERROR_CODES`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

__all__ = [
    "FORMAT_ERROR_CODES",
    "ImportFormatError",
    "Table",
    "TableRow",
    "nfc",
    "read_table",
]

# Machine codes of ImportFormatError, for the bot's translation catalog.
FORMAT_ERROR_CODES: tuple[str, ...] = (
    "too_large",  # file bigger than max_bytes (or an XLSX that unpacks to far more)
    "too_many_rows",  # more than max_rows data rows
    "unknown_format",  # not JSON, CSV or XLSX (e.g. a picture, a PDF, an old .xls)
    "bad_encoding",  # text that is not UTF-8
    "bad_json",  # JSON syntax error
    "too_deep",  # JSON nested deeper than Python's parser can follow
    "not_a_table",  # JSON that is not a list of objects
    "empty",  # no header, or a header and no data rows
    "duplicate_header",  # the same header text twice
)

_UTF8_BOM = b"\xef\xbb\xbf"
_XLSX_UNPACKED_FACTOR = 20  # XML compresses ~10x; a bigger ratio smells like a zip bomb
_CSV_SNIFF_CHARS = 64_000


# Machine codes of Notice (warnings that do not stop an import), for the translation catalog.
NOTICE_CODES: tuple[str, ...] = (
    "headerless_column",  # values under an empty header (column, row)
    "unknown_column",  # a header we do not know (header)
    "truncated_code",  # a national code that lost its trailing zeros in Excel (row, code)
    "person_chat_id",  # a positive chat id, i.e. a person rather than a group (row, chat_id)
)


class Notice(str):
    """A warning: reads as its English text, carries `code` and `params` so the bot can say
    it in the admin's language."""

    code: str
    params: dict[str, object]

    def __new__(cls, code: str, text: str, /, **params: object) -> Notice:
        notice = super().__new__(cls, text)
        notice.code, notice.params = code, params
        return notice


class ImportFormatError(Exception):
    """The file as a whole cannot be read; `code` is machine-readable, `str()` is English."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, object] = params

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class TableRow:
    """One data row: `number` as the spreadsheet shows it, values keyed by header text."""

    number: int
    values: dict[str, str]


@dataclass(slots=True)
class Table:
    """Headers and non-empty data rows of an admin file; all cells are stripped NFC text."""

    headers: list[str]
    rows: list[TableRow]
    warnings: list[str] = field(default_factory=list)


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC (composed) form."""
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- read_table


def read_table(
    data: bytes, filename: str, *, max_bytes: int = 5_000_000, max_rows: int = 20_000
) -> Table:
    """Read a JSON, CSV or XLSX admin file into a Table, or raise ImportFormatError."""
    if len(data) > max_bytes:
        raise ImportFormatError(
            "too_large",
            f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.",
            size=len(data),
            max_bytes=max_bytes,
        )
    if not data.removeprefix(_UTF8_BOM).strip():
        raise ImportFormatError("empty", "The file is empty.")
    kind = _detect_format(data, filename)
    if kind == "xlsx":
        table = _read_xlsx(data, max_bytes=max_bytes, max_rows=max_rows)
    elif kind == "json":
        table = _read_json(data, max_rows=max_rows)
    else:
        table = _read_csv(data, filename, max_rows=max_rows)
    if not table.rows:
        raise ImportFormatError("empty", "The file has a header row but no data rows.")
    return table


_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls or Word .doc file; save it as .xlsx or CSV UTF-8"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"%PDF", "a PDF document"),
    (b"Rar!", "a RAR archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def _detect_format(data: bytes, filename: str) -> str:
    """Return "xlsx", "json" or "csv"; the content wins over a misleading extension."""
    ext = filename.rsplit(".", 1)[-1].casefold() if "." in filename else ""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"  # a zip: only XLSX is supported; other zips fail in _read_xlsx
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ImportFormatError(
                "unknown_format",
                f"The file looks like {what}, not JSON, CSV or XLSX.",
                filename=filename,
            )
    if ext == "xlsx":
        raise ImportFormatError(
            "unknown_format",
            "The file is named .xlsx but is not an Excel workbook.",
            filename=filename,
        )
    head = data.removeprefix(_UTF8_BOM).lstrip()[:1]
    if ext == "json" or (ext not in ("csv", "tsv") and head in (b"[", b"{")):
        return "json"
    if ext in ("csv", "tsv"):
        return "csv"
    raise ImportFormatError(
        "unknown_format",
        f"Unsupported file type {filename!r}: send a .json, .csv or .xlsx file.",
        filename=filename,
    )


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError(
            "bad_encoding",
            "The file is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8').",
            encoding="utf-16",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            "bad_encoding",
            f"The file is not UTF-8 text (first bad byte at offset {exc.start}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8').",
            offset=exc.start,
        ) from None
    if "\x00" in text:
        raise ImportFormatError(
            "unknown_format", "The file contains binary data, not JSON or CSV text."
        )
    return text


class _TableBuilder:
    """Collects raw rows (header first) into a Table, enforcing limits and header rules."""

    def __init__(self, max_rows: int, column_name: Callable[[int], str]) -> None:
        self.max_rows = max_rows
        self.column_name = column_name
        self.headers: list[str] | None = None
        self.rows: list[TableRow] = []
        self.warnings: list[str] = []
        self._headerless_warned: set[int] = set()

    def add(self, number: int, cells: Sequence[str]) -> None:
        cells = [_clean_cell(c) for c in cells]
        if not any(cells):
            return
        if self.headers is None:
            self._set_headers(cells)
            return
        values: dict[str, str] = {}
        for index, value in enumerate(cells):
            header = self.headers[index] if index < len(self.headers) else ""
            if header:
                values[header] = value
            elif value and index not in self._headerless_warned:
                self._headerless_warned.add(index)
                self.warnings.append(
                    Notice(
                        "headerless_column",
                        f"Column {self.column_name(index)} has values but no header "
                        f"(first at row {number}); it was ignored.",
                        column=self.column_name(index),
                        row=number,
                    )
                )
        if not any(values.values()):
            return
        for header in self.headers:
            if header:
                values.setdefault(header, "")
        if len(self.rows) >= self.max_rows:
            raise ImportFormatError(
                "too_many_rows",
                f"The file has more than {self.max_rows:,} data rows.",
                max_rows=self.max_rows,
            )
        self.rows.append(TableRow(number=number, values=values))

    def _set_headers(self, cells: list[str]) -> None:
        seen: set[str] = set()
        for cell in cells:
            if cell and cell in seen:
                raise ImportFormatError(
                    "duplicate_header",
                    f"The header {cell!r} appears twice.",
                    header=cell,
                )
            seen.add(cell)
        self.headers = cells

    def build(self) -> Table:
        if self.headers is None:
            raise ImportFormatError("empty", "The file has no rows.")
        headers = [h for h in self.headers if h]
        return Table(headers=headers, rows=self.rows, warnings=self.warnings)


def _clean_cell(value: str) -> str:
    return nfc(value).strip()


def _spreadsheet_column(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _read_csv(data: bytes, filename: str, *, max_rows: int) -> Table:
    text = _decode_text(data)
    delimiter = _detect_delimiter(text)
    builder = _TableBuilder(max_rows, _spreadsheet_column)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # A record that spans several lines (a quoted multi-line cell) is one spreadsheet row,
        # so rows are counted per record, blank lines included, not per line.
        for number, record in enumerate(reader, start=1):
            builder.add(number, record)
    except csv.Error as exc:
        raise ImportFormatError(
            "unknown_format", f"The CSV file cannot be read: {exc}.", filename=filename
        ) from None
    return builder.build()


def _detect_delimiter(text: str) -> str:
    """Pick `,` `;` or tab: the one that splits the sample into the most consistent columns.

    csv.Sniffer alone often picks `,` for semicolon files because Vietnamese headers contain
    commas ("Phí, lệ phí"), so it is only the fallback when no candidate splits the header.
    """
    sample = text[:_CSV_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best: tuple[float, int, int] | None = None
    best_delimiter = ""
    for preference, delimiter in enumerate(("\t", ";", ",")):
        try:
            records = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)]
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]  # the sample may cut the last record
        records = [r for r in records if any(cell.strip() for cell in r)][:50]
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = records[1:]
        consistency = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (consistency, width, -preference)
        if best is None or score > best:
            best, best_delimiter = score, delimiter
    if best_delimiter:
        return best_delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _read_json(data: bytes, *, max_rows: int) -> Table:
    text = _decode_text(data)
    try:
        parsed = json.loads(text)
    except RecursionError:
        # json.loads recurses once per level; a file of 100,000 "[" exhausts the stack.
        raise ImportFormatError(
            "too_deep", "The JSON is nested too deeply to be a table of records."
        ) from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            "bad_json",
            f"The JSON is invalid at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if not isinstance(parsed, list):
        raise ImportFormatError(
            "not_a_table",
            f"The JSON must be a list of objects ([{{...}}, {{...}}]), not {_json_kind(parsed)}.",
        )
    headers: list[str] = []
    known: set[str] = set()
    objects: list[dict[str, str]] = []
    for index, item in enumerate(parsed):
        if not isinstance(item, dict):
            raise ImportFormatError(
                "not_a_table",
                f"Element {index} of the JSON list (row {index + 2}) is {_json_kind(item)}, "
                "not an object.",
                row=index + 2,
            )
        obj: dict[str, str] = {}
        for raw_key, raw_value in item.items():
            key = _clean_cell(str(raw_key))
            if not key or key in obj:
                continue
            obj[key] = _clean_cell(_json_cell(raw_value))
            if key not in known:
                known.add(key)
                headers.append(key)
        objects.append(obj)
    if not parsed:
        raise ImportFormatError("empty", "The JSON list is empty.")
    builder = _TableBuilder(max_rows, lambda index: repr(headers[index]))
    builder.add(1, headers)
    for index, obj in enumerate(objects):
        # Element i is reported as row i + 2, as if the list were a sheet under a header row.
        builder.add(index + 2, [obj.get(h, "") for h in headers])
    return builder.build()


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _format_general(value)
    if isinstance(value, list):
        # Lists are keyword lists: parse_procedures splits them on ";" again.
        return ";".join(_clean_cell(_json_cell(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_xlsx(data: bytes, *, max_bytes: int, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise ImportFormatError(
            "unknown_format", "The file starts like a zip archive but is damaged."
        ) from None
    limit = max_bytes * _XLSX_UNPACKED_FACTOR
    if unpacked > limit:
        raise ImportFormatError(
            "too_large",
            f"The workbook unpacks to {unpacked:,} bytes; the limit is {limit:,} bytes.",
            size=unpacked,
            max_bytes=limit,
        )
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, default styles...);
            # they do not matter for reading values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a zip that is not a workbook
        raise ImportFormatError(
            "unknown_format",
            f"The file is a zip archive but not an Excel .xlsx workbook ({type(exc).__name__}).",
        ) from None
    try:
        return _read_first_sheet(workbook, max_rows=max_rows)
    except ImportFormatError:
        raise
    except Exception as exc:  # a damaged sheet XML fails deep inside openpyxl
        raise ImportFormatError(
            "unknown_format", f"The workbook cannot be read ({type(exc).__name__})."
        ) from None
    finally:
        workbook.close()


def _read_first_sheet(workbook: Workbook, *, max_rows: int) -> Table:
    if not workbook.worksheets:
        raise ImportFormatError("empty", "The workbook has no sheets.")
    sheet = workbook.worksheets[0]
    # Some generators write a wrong <dimension>; read every row present instead.
    reset = getattr(sheet, "reset_dimensions", None)
    if reset is not None:
        reset()
    builder = _TableBuilder(max_rows, _spreadsheet_column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
            builder.add(
                number,
                [_xlsx_cell(c.value, getattr(c, "number_format", None)) for c in cells],
            )
    return builder.build()


def _xlsx_cell(value: object, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _format_number(value, number_format or "General")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


_FIXED_FORMAT_RE = re.compile(r"[#,]*(0+)(?:\.(0+))?")


def _format_number(value: int | float, number_format: str) -> str:
    """Render a number as the sheet shows it, without grouping or currency.

    XLSX stores a code such as 1.001193 or 001234 as a number; the cell's format ("0.000000",
    "000000") keeps trailing and leading zeros that the stored number has lost.
    """
    section = number_format.split(";", 1)[0].strip()
    match = _FIXED_FORMAT_RE.fullmatch(section)
    if match is None:
        return _format_general(value)
    min_digits = len(match.group(1))
    decimals = len(match.group(2) or "")
    try:
        number = Decimal(_format_general(value))
        # Excel rounds halves away from zero when it shows fewer decimals.
        rounded = abs(number).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return _format_general(value)
    integer, dot, fraction = f"{rounded:f}".partition(".")
    text = integer.zfill(min_digits) + dot + fraction
    return "-" + text if number < 0 and rounded != 0 else text


def _format_general(value: int | float) -> str:
    """Exact digits for ints; floats to Excel's 15 significant digits, never in e-notation."""
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text
