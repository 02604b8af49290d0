"""Read and validate admin files for the procedure knowledge base and the agency directory.

Three steps, all pure (no database, no Telegram):

1. `read_table` turns the bytes of a JSON, CSV or XLSX file into a `Table` of text cells, or
   raises `ImportFormatError` when the file as a whole is unusable.
2. `parse_procedures` / `parse_agencies` map the headers (English keys or the Vietnamese headers
   the national portal exports, see DOMAIN.md "A procedure record"), validate each row and return
   a `ParseResult` with the records of the valid rows and a `Problem` for every invalid cell.
3. `diff_records` compares the parsed records with what is stored, so the admin can confirm
   before anything is written.

Row numbers are the ones a spreadsheet shows: the header is row 1 and the first data row is row
2. JSON files have no rows on screen, so element ``i`` of the list is reported as row ``i + 2``;
the same file exported to a spreadsheet then gives the same numbers.

Every error carries a machine `code` next to its English message so the bot can show a
translated text; the codes are listed in `FORMAT_ERROR_CODES` and `PROBLEM_CODES`.
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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from knowledge.records import ONLINE_FULL, ONLINE_PARTIAL, AgencyRecord, ProcedureRecord

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

__all__ = [
    "FORMAT_ERROR_CODES",
    "PROBLEM_CODES",
    "ImportDiff",
    "ImportFormatError",
    "ParseResult",
    "Problem",
    "Table",
    "TableRow",
    "diff_records",
    "fold_header",
    "parse_agencies",
    "parse_procedures",
    "read_table",
]

# Machine codes of ImportFormatError, for the bot's translation catalog.
FORMAT_ERROR_CODES: tuple[str, ...] = (
    "too_large",  # file bigger than max_bytes (or an XLSX that unpacks to far more)
    "too_many_rows",  # more than max_rows data rows
    "unknown_format",  # not JSON, CSV or XLSX (e.g. a picture, a PDF, an old .xls)
    "bad_encoding",  # text that is not UTF-8
    "bad_json",  # JSON syntax error
    "not_a_table",  # JSON that is not a list of objects
    "empty",  # no header, or a header and no data rows
    "duplicate_header",  # the same header text twice
)

# Machine codes of Problem, for the bot's translation catalog.
PROBLEM_CODES: tuple[str, ...] = (
    "missing_column",  # a required column is absent (row is None)
    "duplicate_column",  # two columns mean the same field (row is None)
    "missing_required",  # a required cell is empty
    "bad_code_format",  # a code that does not look like a code
    "duplicate_code",  # the same code on an earlier row
    "unknown_agency",  # procedure agency is neither a known code nor a known name
    "ambiguous_agency",  # agency name shared by several agencies
    "unknown_parent",  # agency parent is not in the file nor in the directory
    "parent_cycle",  # agency parents loop back (A -> B -> A)
    "bad_value",  # a value the field cannot hold (online level, chat id, days, URL)
)

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


_UTF8_BOM = b"\xef\xbb\xbf"
_XLSX_UNPACKED_FACTOR = 20  # XML compresses ~10x; a bigger ratio smells like a zip bomb
_CSV_SNIFF_CHARS = 64_000


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


@dataclass(slots=True)
class Problem:
    """One invalid cell or column; `row` is None for problems of a whole column."""

    row: int | None
    column: str | None  # the header as written in the file, or the field key when absent
    message: str
    code: str
    value: str = ""


T = TypeVar("T")


@dataclass(slots=True)
class ParseResult(Generic[T]):
    """Records of the rows without problems, plus problems, warnings and unknown agencies."""

    records: list[T] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_agencies: list[str] = field(default_factory=list)
    # Field key -> the header as written in the file (for exporting with the same columns).
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when no row or column has a problem (warnings do not count)."""
        return not self.problems


@dataclass(slots=True)
class ImportDiff:
    """Codes added, updated, unchanged, and `removed` (stored but missing from the file).

    `removed` is a report only: an import never deletes, the admin decides separately.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """Return True when importing would add or update at least one record."""
        return bool(self.added or self.updated)


# --------------------------------------------------------------------------- text helpers

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD_RE = re.compile(r"[\W_]+")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold_header(text: str) -> str:
    """Fold a header for matching: no diacritics or case, đ→d, no "(*)"/punctuation."""
    text = _PARENS_RE.sub(" ", _strip_marks(text).casefold())
    return " ".join(_NON_WORD_RE.sub(" ", text).split())


def _fold_value(text: str) -> str:
    """Fold a cell value for matching keywords such as the online level."""
    return " ".join(_NON_WORD_RE.sub(" ", _strip_marks(text).casefold()).split())


def _name_key(text: str) -> str:
    """Key for comparing names: NFC, casefold and collapsed whitespace."""
    return _nfc(" ".join(_nfc(text).casefold().split()))


def _clean_text(text: str, *, multiline: bool) -> str:
    """NFC, no control characters, trimmed; single-line fields get their whitespace collapsed."""
    text = _nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    if not multiline:
        return " ".join(text.split())
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


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
    return _nfc(value).strip()


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


# --------------------------------------------------------------------------- header mapping

_PROCEDURE_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("Mã thủ tục", "Mã TTHC", "Mã số", "Mã thủ tục hành chính", "Mã"),
    "name": ("Tên thủ tục", "Tên TTHC", "Tên thủ tục hành chính", "Tên"),
    "field": ("Lĩnh vực",),
    "level": ("Cấp thực hiện",),
    "agency": ("Cơ quan thực hiện", "Cơ quan giải quyết"),
    "steps": ("Trình tự thực hiện",),
    "channels": ("Cách thức thực hiện",),
    "documents": ("Thành phần hồ sơ", "Thành phần, số lượng hồ sơ"),
    "processing_time": ("Thời hạn giải quyết",),
    "fee": ("Phí, lệ phí", "Lệ phí", "Phí"),
    "result": ("Kết quả thực hiện",),
    "conditions": ("Yêu cầu, điều kiện", "Yêu cầu, điều kiện thực hiện"),
    "legal_basis": ("Căn cứ pháp lý",),
    "online": ("Mức độ dịch vụ công", "Dịch vụ công trực tuyến"),
    "url": ("Đường dẫn", "Link", "URL"),
    "keywords": ("Từ khóa", "Từ khoá"),
}

_AGENCY_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("Mã cơ quan", "Mã"),
    "name": ("Tên cơ quan", "Tên"),
    "chat_id": ("Chat ID", "Nhóm Telegram"),
    "parent": ("Cơ quan cấp trên", "Cơ quan chủ quản"),
    "reply_days": ("Số ngày trả lời", "Thời hạn trả lời"),
}

# Multi-line cells keep their line breaks; the others are collapsed to one line.
_MULTILINE_FIELDS = frozenset(
    {
        "steps",
        "channels",
        "documents",
        "processing_time",
        "fee",
        "result",
        "conditions",
        "legal_basis",
        "keywords",  # split on ";" and line breaks later
    }
)


def _alias_index(headers: Mapping[str, Iterable[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, aliases in headers.items():
        for alias in (key, *aliases):
            index[fold_header(alias)] = key
    return index


_PROCEDURE_ALIASES = _alias_index(_PROCEDURE_HEADERS)
_AGENCY_ALIASES = _alias_index(_AGENCY_HEADERS)


def _map_columns(
    table: Table,
    aliases: Mapping[str, str],
    required: Sequence[str],
    result: ParseResult[T],
) -> dict[str, str] | None:
    """Return field key -> header; record column problems; None when a required one is missing."""
    columns: dict[str, str] = {}
    result.warnings.extend(table.warnings)
    for header in table.headers:
        key = aliases.get(fold_header(header))
        if key is None:
            result.warnings.append(
                Notice("unknown_column", f"Unknown column {header!r} was ignored.", header=header)
            )
        elif key in columns:
            result.problems.append(
                Problem(
                    row=None,
                    column=header,
                    message=f"Column {header!r} means the same as column {columns[key]!r}; "
                    "keep only one of them.",
                    code="duplicate_column",
                    value=header,
                )
            )
        else:
            columns[key] = header
    result.columns = dict(columns)
    missing = [key for key in required if key not in columns]
    for key in missing:
        result.problems.append(
            Problem(
                row=None,
                column=key,
                message=f"The required column {key!r} is missing.",
                code="missing_column",
            )
        )
    return None if missing else columns


class _RowReader:
    """Cleaned cell access for one row, collecting the row's problems."""

    def __init__(self, row: TableRow, columns: Mapping[str, str]) -> None:
        self.row = row
        self.columns = columns
        self.problems: list[Problem] = []

    def get(self, key: str) -> str:
        header = self.columns.get(key)
        if header is None:
            return ""
        return _clean_text(self.row.values.get(header, ""), multiline=key in _MULTILINE_FIELDS)

    def problem(self, key: str, code: str, message: str, value: str = "") -> None:
        column = self.columns.get(key, key)
        self.problems.append(
            Problem(
                row=self.row.number,
                column=column,
                message=f"Row {self.row.number}, column {column!r}: {message}",
                code=code,
                value=value,
            )
        )

    def required(self, key: str, what: str) -> str:
        value = self.get(key)
        if not value:
            self.problem(key, "missing_required", f"the {what} is required.")
        return value


# --------------------------------------------------------------------------- value checks

_NATIONAL_CODE_RE = re.compile(r"\d\.\d{6}")
_LOCAL_CODE_RE = re.compile(r"(?=.*[^\W_])[\w.\-/]+")
_TRUNCATED_NATIONAL_RE = re.compile(r"\d\.\d{3,5}")


def _check_code(reader: _RowReader, code: str, *, min_length: int) -> bool:
    if _NATIONAL_CODE_RE.fullmatch(code):
        return True
    if min_length <= len(code) <= 40 and _LOCAL_CODE_RE.fullmatch(code):
        return True
    reader.problem(
        "code",
        "bad_code_format",
        f"{code!r} is not a valid code (use the national pattern 1.001193 or "
        f"{min_length}-40 letters, digits, dots and dashes without spaces).",
        code,
    )
    return False


def _raw_cell(row: TableRow, columns: Mapping[str, str], key: str) -> str:
    header = columns.get(key)
    return row.values.get(header, "") if header else ""


_ONLINE_FULL_WORDS = frozenset(
    {
        "toan trinh",
        "dich vu cong truc tuyen toan trinh",
        "dvc truc tuyen toan trinh",
        "dvc toan trinh",
        "muc do 4",
        "muc 4",
        "4",
        "full",
    }
)
_ONLINE_PARTIAL_WORDS = frozenset(
    {
        "mot phan",
        "dich vu cong truc tuyen mot phan",
        "dvc truc tuyen mot phan",
        "dvc mot phan",
        "muc do 3",
        "muc 3",
        "3",
        "partial",
    }
)
_ONLINE_NONE_WORDS = frozenset(
    {"", "khong", "muc do 2", "muc 2", "2", "muc do 1", "muc 1", "1", "none"}
)


def _normalise_online(value: str) -> str | None:
    """Return the record's online level, or None when the value is not recognised."""
    folded = _fold_value(value)
    if folded in _ONLINE_FULL_WORDS:
        return ONLINE_FULL
    if folded in _ONLINE_PARTIAL_WORDS:
        return ONLINE_PARTIAL
    if folded in _ONLINE_NONE_WORDS:
        return ""
    return None


_BARE_DOMAIN_RE = re.compile(r"[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}(/\S*)?")


def _normalise_url(value: str) -> str | None:
    """Return an http(s) URL, adding https:// to a bare domain; None when unusable."""
    if not value:
        return ""
    if any(ch.isspace() for ch in value):
        return None
    if re.match(r"https?://[^/\s]+", value, flags=re.IGNORECASE):
        return value
    if _BARE_DOMAIN_RE.fullmatch(value):
        return "https://" + value
    return None


def _split_keywords(value: str) -> tuple[str, ...]:
    """Split on ";" and line breaks; trim, drop empties and case-insensitive duplicates."""
    seen: set[str] = set()
    out: list[str] = []
    for part in re.split(r"[;\n]", value):
        keyword = " ".join(part.split())
        key = _name_key(keyword)
        if keyword and key not in seen:
            seen.add(key)
            out.append(keyword)
    return tuple(out)


_INT_RE = re.compile(r"[+-]?\d+")


def _parse_int(value: str) -> int | None:
    text = value.replace(" ", "")
    return int(text) if _INT_RE.fullmatch(text) else None


# --------------------------------------------------------------------------- procedures


class _AgencyResolver:
    """Resolve an agency cell (code or exact name) to a directory code."""

    def __init__(self, agencies: Mapping[str, str]) -> None:
        self.codes = dict(agencies)
        self.by_folded_code: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        for code, name in agencies.items():
            self.by_folded_code.setdefault(_name_key(code), []).append(code)
            self.by_name.setdefault(_name_key(name), []).append(code)

    def resolve(self, value: str) -> list[str]:
        """Return the matching codes: one when resolved, none or several otherwise."""
        if value in self.codes:
            return [value]
        key = _name_key(value)
        by_code = self.by_folded_code.get(key, [])
        if len(by_code) == 1:
            return by_code
        return self.by_name.get(key, [])


def parse_procedures(table: Table, agencies: Mapping[str, str]) -> ParseResult[ProcedureRecord]:
    """Validate procedure rows; `agencies` maps directory codes to names for the agency column."""
    result: ParseResult[ProcedureRecord] = ParseResult()
    columns = _map_columns(table, _PROCEDURE_ALIASES, ("code", "name"), result)
    if columns is None:
        return result
    resolver = _AgencyResolver(agencies)
    unknown_seen: set[str] = set()
    first_row_of_code: dict[str, int] = {}
    for row in table.rows:
        reader = _RowReader(row, columns)
        code = _check_row_code(reader, row, columns, first_row_of_code, min_length=2)
        if code and _TRUNCATED_NATIONAL_RE.fullmatch(code):
            result.warnings.append(
                Notice(
                    "truncated_code",
                    f"Row {row.number}: code {code!r} looks like a national code (1.001193) "
                    "that lost trailing zeros as an Excel number; format the column as text.",
                    row=row.number,
                    code=code,
                )
            )
        name = reader.required("name", "procedure name")

        agency = ""
        agency_value = reader.get("agency")
        if agency_value:
            matches = resolver.resolve(agency_value)
            if len(matches) == 1:
                agency = matches[0]
            elif matches:
                reader.problem(
                    "agency",
                    "ambiguous_agency",
                    f"several agencies are named {agency_value!r} ({', '.join(matches)}); "
                    "use the agency code.",
                    agency_value,
                )
            else:
                reader.problem(
                    "agency",
                    "unknown_agency",
                    f"{agency_value!r} is not a code or name in the agency directory.",
                    agency_value,
                )
                if _name_key(agency_value) not in unknown_seen:
                    unknown_seen.add(_name_key(agency_value))
                    result.unknown_agencies.append(agency_value)

        online_value = reader.get("online")
        online = _normalise_online(online_value)
        if online is None:
            reader.problem(
                "online",
                "bad_value",
                f"{online_value!r} is not an online level (use 'toàn trình', 'một phần' "
                "or leave it empty).",
                online_value,
            )

        url_value = reader.get("url")
        url = _normalise_url(url_value)
        if url is None:
            reader.problem("url", "bad_value", f"{url_value!r} is not an http(s) link.", url_value)

        if reader.problems:
            result.problems.extend(reader.problems)
            continue
        result.records.append(
            ProcedureRecord(
                code=code,
                name=name,
                field=reader.get("field"),
                level=reader.get("level"),
                agency=agency,
                steps=reader.get("steps"),
                channels=reader.get("channels"),
                documents=reader.get("documents"),
                processing_time=reader.get("processing_time"),
                fee=reader.get("fee"),
                result=reader.get("result"),
                conditions=reader.get("conditions"),
                legal_basis=reader.get("legal_basis"),
                online=online or "",
                url=url or "",
                keywords=_split_keywords(reader.get("keywords")),
            )
        )
    return result


def _check_row_code(
    reader: _RowReader,
    row: TableRow,
    columns: Mapping[str, str],
    first_row_of_code: dict[str, int],
    *,
    min_length: int,
) -> str:
    """Return the row's valid, first-seen code, or "" after recording a problem."""
    raw = _nfc(_raw_cell(row, columns, "code")).strip()
    if not raw:
        reader.problem("code", "missing_required", "the code is required.")
        return ""
    if not _check_code(reader, raw, min_length=min_length):
        return ""
    first = first_row_of_code.get(raw)
    if first is not None:
        reader.problem(
            "code", "duplicate_code", f"the code {raw!r} already appears on row {first}.", raw
        )
        return ""
    first_row_of_code[raw] = row.number
    return raw


# --------------------------------------------------------------------------- agencies


def parse_agencies(table: Table, existing_codes: Collection[str] = ()) -> ParseResult[AgencyRecord]:
    """Validate agency rows; a parent must be in the file or in `existing_codes`, without loops.

    Loops are only detected among agencies of the file: the parents of `existing_codes` are
    not known here.
    """
    result: ParseResult[AgencyRecord] = ParseResult()
    columns = _map_columns(table, _AGENCY_ALIASES, ("code", "name"), result)
    if columns is None:
        return result

    first_row_of_code: dict[str, int] = {}
    pending: list[tuple[_RowReader, AgencyRecord | None, str]] = []
    for row in table.rows:
        reader = _RowReader(row, columns)
        code = _check_row_code(reader, row, columns, first_row_of_code, min_length=1)
        name = reader.required("name", "agency name")

        chat_value = reader.get("chat_id")
        chat_id = _parse_int(chat_value) if chat_value else None
        if chat_value and (chat_id is None or chat_id == 0 or abs(chat_id) >= 2**63):
            reader.problem(
                "chat_id",
                "bad_value",
                f"{chat_value!r} is not a Telegram chat id (a whole number such as "
                "-1001234567890).",
                chat_value,
            )
            chat_id = None
        elif chat_id is not None and chat_id > 0:
            result.warnings.append(
                Notice(
                    "person_chat_id",
                    f"Row {row.number}: chat id {chat_id} is positive, so it is a person, not "
                    "a group (group ids are negative, e.g. -1001234567890).",
                    row=row.number,
                    chat_id=chat_id,
                )
            )

        days_value = reader.get("reply_days")
        reply_days: int | None = None
        if days_value:
            match = re.fullmatch(r"(\d+)\s*(ngay)?", _fold_value(days_value))
            reply_days = int(match.group(1)) if match else None
            if reply_days is None or not 1 <= reply_days <= 90:
                reader.problem(
                    "reply_days",
                    "bad_value",
                    f"{days_value!r} is not a number of days from 1 to 90.",
                    days_value,
                )
                reply_days = None

        record = None
        if code and name:
            record = AgencyRecord(code=code, name=name, chat_id=chat_id, reply_days=reply_days)
        pending.append((reader, record, reader.get("parent")))

    # Parents may point to rows further down, so they are checked once every code is known.
    known = set(first_row_of_code) | set(existing_codes)
    folded_known: dict[str, list[str]] = {}
    for known_code in known:
        folded_known.setdefault(_name_key(known_code), []).append(known_code)
    parents: dict[str, str] = {}
    rows_of: dict[str, _RowReader] = {}
    for reader, record, parent_value in pending:
        parent: str | None = None
        if parent_value:
            candidates = (
                [parent_value]
                if parent_value in known
                else folded_known.get(_name_key(parent_value), [])
            )
            if len(candidates) == 1:
                parent = candidates[0]
            else:
                reader.problem(
                    "parent",
                    "unknown_parent",
                    f"the parent {parent_value!r} is not an agency code in this file or in "
                    "the directory.",
                    parent_value,
                )
        if record is not None:
            rows_of[record.code] = reader
            if parent is not None:
                parents[record.code] = parent

    for cycle in _find_cycles(parents):
        members = sorted(cycle, key=lambda c: rows_of[c].row.number)
        first = members[0]
        start = cycle.index(first)
        chain = [*cycle[start:], *cycle[:start], first]
        rows = ", ".join(str(rows_of[c].row.number) for c in members)
        rows_of[first].problem(
            "parent",
            "parent_cycle",
            f"the parents form a loop {' → '.join(chain)} (rows {rows}).",
            parents[first],
        )

    for reader, record, _ in pending:
        if reader.problems:
            result.problems.extend(reader.problems)
        elif record is not None:
            parent = parents.get(record.code)
            result.records.append(
                AgencyRecord(
                    code=record.code,
                    name=record.name,
                    chat_id=record.chat_id,
                    parent=parent,
                    reply_days=record.reply_days,
                )
            )
    result.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return result


def _find_cycles(parents: Mapping[str, str]) -> Iterator[list[str]]:
    """Yield each loop of the child -> parent graph once, in walking order."""
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = parents.get(node)
        if node is not None and node in on_path:
            yield path[on_path[node] :]
        done.update(path)


# --------------------------------------------------------------------------- diff


class _HasCode(Protocol):
    @property
    def code(self) -> str: ...


R = TypeVar("R", bound=_HasCode)


def diff_records(new: Sequence[R], existing: Mapping[str, R]) -> ImportDiff:
    """Compare file records with stored ones by code; `removed` is reported, never deleted."""
    diff = ImportDiff()
    seen: set[str] = set()
    for record in new:
        if record.code in seen:
            continue  # parse_* already reported the duplicate; the first one counts
        seen.add(record.code)
        stored = existing.get(record.code)
        if stored is None:
            diff.added.append(record.code)
        elif stored == record:
            diff.unchanged.append(record.code)
        else:
            diff.updated.append(record.code)
    diff.removed = [code for code in existing if code not in seen]
    return diff


def guess_kind(table: Table) -> str | None:
    """"procedures" or "agencies" from the headers alone (an admin who sends a file need not
    say which it is); None when the headers do not tell."""
    procedure_only = {
        fold_header(alias)
        for key, aliases in _PROCEDURE_HEADERS.items()
        for alias in (key, *aliases)
        if key not in ("code", "name") or alias not in ("Mã", "Tên")
    } - {fold_header("code"), fold_header("name")}
    agency_only = {
        fold_header(alias)
        for key, aliases in _AGENCY_HEADERS.items()
        for alias in (key, *aliases)
        if alias not in ("Mã", "Tên")
    } - {fold_header("code"), fold_header("name")}
    headers = {fold_header(h) for h in table.headers}
    procedures, agencies = len(headers & procedure_only), len(headers & agency_only)
    if procedures == agencies:
        return None
    return "procedures" if procedures > agencies else "agencies"
