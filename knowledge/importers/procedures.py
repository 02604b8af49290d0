"""Validate procedure rows into `ProcedureRecord`s: agency, online level, link and keywords."""

from __future__ import annotations

import re
from collections.abc import Mapping

from knowledge.importers.columns import (
    PROCEDURE_ALIASES,
    ParseResult,
    RowReader,
    check_row_code,
    fold_value,
    map_columns,
    name_key,
)
from knowledge.importers.tables import Notice, Table
from knowledge.records import ONLINE_FULL, ONLINE_PARTIAL, ProcedureRecord

__all__ = ["parse_procedures"]

_TRUNCATED_NATIONAL_RE = re.compile(r"\d\.\d{3,5}")


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
    folded = fold_value(value)
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
        key = name_key(keyword)
        if keyword and key not in seen:
            seen.add(key)
            out.append(keyword)
    return tuple(out)


class _AgencyResolver:
    """Resolve an agency cell (code or exact name) to a directory code."""

    def __init__(self, agencies: Mapping[str, str]) -> None:
        self.codes = dict(agencies)
        self.by_folded_code: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        for code, name in agencies.items():
            self.by_folded_code.setdefault(name_key(code), []).append(code)
            self.by_name.setdefault(name_key(name), []).append(code)

    def resolve(self, value: str) -> list[str]:
        """Return the matching codes: one when resolved, none or several otherwise."""
        if value in self.codes:
            return [value]
        key = name_key(value)
        by_code = self.by_folded_code.get(key, [])
        if len(by_code) == 1:
            return by_code
        return self.by_name.get(key, [])


def parse_procedures(table: Table, agencies: Mapping[str, str]) -> ParseResult[ProcedureRecord]:
    """Validate procedure rows; `agencies` maps directory codes to names for the agency column."""
    result: ParseResult[ProcedureRecord] = ParseResult()
    columns = map_columns(table, PROCEDURE_ALIASES, ("code", "name"), result)
    if columns is None:
        return result
    resolver = _AgencyResolver(agencies)
    unknown_seen: set[str] = set()
    first_row_of_code: dict[str, int] = {}
    for row in table.rows:
        reader = RowReader(row, columns)
        code = check_row_code(reader, row, columns, first_row_of_code, min_length=2)
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
                if name_key(agency_value) not in unknown_seen:
                    unknown_seen.add(name_key(agency_value))
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
