"""Map a Table's headers to record fields and read a row's cells as clean, validated text.

Headers match by their folded form (no diacritics, case or "(*)"), in English keys or the
Vietnamese wording of the national portal. Problems found here (a missing or doubled column, a
bad or repeated code) are reported as `Problem`s with a machine code from `PROBLEM_CODES`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from knowledge.importers.tables import Notice, Table, TableRow, nfc

__all__ = [
    "AGENCY_ALIASES",
    "PROBLEM_CODES",
    "PROCEDURE_ALIASES",
    "ParseResult",
    "Problem",
    "RowReader",
    "check_row_code",
    "fold_header",
    "fold_value",
    "map_columns",
    "name_key",
]

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


# --------------------------------------------------------------------------- text helpers

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD_RE = re.compile(r"[\W_]+")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold_header(text: str) -> str:
    """Fold a header for matching: no diacritics or case, đ→d, no "(*)"/punctuation."""
    text = _PARENS_RE.sub(" ", _strip_marks(text).casefold())
    return " ".join(_NON_WORD_RE.sub(" ", text).split())


def fold_value(text: str) -> str:
    """Fold a cell value for matching keywords such as the online level."""
    return " ".join(_NON_WORD_RE.sub(" ", _strip_marks(text).casefold()).split())


def name_key(text: str) -> str:
    """Key for comparing names: NFC, casefold and collapsed whitespace."""
    return nfc(" ".join(nfc(text).casefold().split()))


def _clean_text(text: str, *, multiline: bool) -> str:
    """NFC, no control characters, trimmed; single-line fields get their whitespace collapsed."""
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    if not multiline:
        return " ".join(text.split())
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


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


PROCEDURE_ALIASES = _alias_index(_PROCEDURE_HEADERS)
AGENCY_ALIASES = _alias_index(_AGENCY_HEADERS)


def map_columns(
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


class RowReader:
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


# --------------------------------------------------------------------------- codes

_NATIONAL_CODE_RE = re.compile(r"\d\.\d{6}")
_LOCAL_CODE_RE = re.compile(r"(?=.*[^\W_])[\w.\-/]+")


def _check_code(reader: RowReader, code: str, *, min_length: int) -> bool:
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


def check_row_code(
    reader: RowReader,
    row: TableRow,
    columns: Mapping[str, str],
    first_row_of_code: dict[str, int],
    *,
    min_length: int,
) -> str:
    """Return the row's valid, first-seen code, or "" after recording a problem."""
    raw = nfc(_raw_cell(row, columns, "code")).strip()
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


def guess_kind(table: Table) -> str | None:
    """ "procedures" or "agencies" from the headers alone (an admin who sends a file need not
    say which it is); None when the headers do not tell."""
    shared = {fold_header(h) for h in ("code", "name", "Mã", "Tên")}
    procedure_only = {
        fold_header(alias)
        for key, aliases in _PROCEDURE_HEADERS.items()
        for alias in (key, *aliases)
    } - shared
    agency_only = {
        fold_header(alias) for key, aliases in _AGENCY_HEADERS.items() for alias in (key, *aliases)
    } - shared
    headers = {fold_header(h) for h in table.headers}
    procedures, agencies = len(headers & procedure_only), len(headers & agency_only)
    if procedures == agencies:
        return None
    return "procedures" if procedures > agencies else "agencies"
