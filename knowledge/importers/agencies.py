"""Validate agency rows into `AgencyRecord`s: chat id, reply days, parents without loops."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping

from knowledge.importers.columns import (
    AGENCY_ALIASES,
    ParseResult,
    RowReader,
    check_row_code,
    fold_value,
    map_columns,
    name_key,
)
from knowledge.importers.tables import Notice, Table
from knowledge.records import AgencyRecord

__all__ = ["parse_agencies"]

_INT_RE = re.compile(r"[+-]?\d+")


def _parse_int(value: str) -> int | None:
    text = value.replace(" ", "")
    return int(text) if _INT_RE.fullmatch(text) else None


def parse_agencies(table: Table, existing_codes: Collection[str] = ()) -> ParseResult[AgencyRecord]:
    """Validate agency rows; a parent must be in the file or in `existing_codes`, without loops.

    Loops are only detected among agencies of the file: the parents of `existing_codes` are
    not known here.
    """
    result: ParseResult[AgencyRecord] = ParseResult()
    columns = map_columns(table, AGENCY_ALIASES, ("code", "name"), result)
    if columns is None:
        return result

    first_row_of_code: dict[str, int] = {}
    pending: list[tuple[RowReader, AgencyRecord | None, str]] = []
    for row in table.rows:
        reader = RowReader(row, columns)
        code = check_row_code(reader, row, columns, first_row_of_code, min_length=1)
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
            match = re.fullmatch(r"(\d+)\s*(ngay)?", fold_value(days_value))
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
        folded_known.setdefault(name_key(known_code), []).append(known_code)
    parents: dict[str, str] = {}
    rows_of: dict[str, RowReader] = {}
    for reader, record, parent_value in pending:
        parent: str | None = None
        if parent_value:
            candidates = (
                [parent_value]
                if parent_value in known
                else folded_known.get(name_key(parent_value), [])
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
