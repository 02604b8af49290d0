"""Logs for the operator: personal data masked, text or JSON lines. No aiogram here: every
command sets up logging, and only those that talk to Telegram should pay for importing it.

Masking is belt and braces. SQLAlchemy engines are created with ``hide_parameters=True`` so a
database error never carries the statement's values; the `PersonalDataFilter` on the log
handlers then masks, in every record (message, arguments, traceback): phone numbers, e-mail
addresses, statement parameters, pydantic's ``input_value=…``, and every string a citizen
typed or Telegram told us about a person (names, addresses, contacts) recently — names and
addresses have no shape a pattern could find, so the filter remembers what it must not print.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MASK = "***"

# Vietnamese numbers: 0 or +84/84 and 9-10 more digits, spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[ .-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# SQLAlchemy's error text: "[parameters: (...)]" up to the next "(Background on this error" or
# the end; with hide_parameters it already says "[SQL parameters hidden …]".
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL)
# pydantic's validation errors quote the offending input.
_INPUT_VALUE = re.compile(r"input_value=(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\{.*?\}|\S+)")
# Strings shorter than this are not remembered: "An" would mask half of every address.
_MIN_KNOWN = 3


class KnownPersonalData:
    """Recently seen personal strings (names, typed texts, contacts), most recent last.

    Indexed by their first `_MIN_KNOWN` characters, so masking a log line costs a lookup per
    position of the line, not a scan of every remembered string (thousands, in a burst)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()
        self._by_prefix: dict[str, set[str]] = {}

    def add(self, *values: str | None) -> None:
        for value in values:
            for part in _parts(value):
                if part in self._items:
                    self._items.move_to_end(part)
                    continue
                self._items[part] = None
                self._by_prefix.setdefault(part[:_MIN_KNOWN], set()).add(part)
        while len(self._items) > self.capacity:
            old, _ = self._items.popitem(last=False)
            bucket = self._by_prefix.get(old[:_MIN_KNOWN])
            if bucket is not None:
                bucket.discard(old)
                if not bucket:
                    del self._by_prefix[old[:_MIN_KNOWN]]

    def within(self, text: str) -> list[str]:
        """The remembered strings that occur in `text`."""
        found: set[str] = set()
        index = self._by_prefix
        if not index:
            return []
        for i in range(len(text) - _MIN_KNOWN + 1):
            bucket = index.get(text[i : i + _MIN_KNOWN])
            if bucket:
                found.update(value for value in bucket if text.startswith(value, i))
        return list(found)

    def __iter__(self) -> Any:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


def _parts(value: str | None) -> list[str]:
    """The value and its lines and comma-separated pieces (an address is stored as typed,
    but may be quoted in part)."""
    if not value:
        return []
    text = value.strip()
    out = {text}
    for line in text.splitlines():
        out.add(line.strip())
        out.update(piece.strip() for piece in line.split(","))
    # As JSON with \u escapes (stored conversation data), and as Python's repr of that.
    for piece in list(out):
        escaped = json.dumps(piece)[1:-1]
        if escaped != piece:
            out.update((escaped, escaped.replace("\\", "\\\\")))
    return [p for p in out if len(p) >= _MIN_KNOWN]


def mask_text(text: str, known: Iterable[str] | KnownPersonalData = ()) -> str:
    """`text` with personal data replaced by ***."""
    if not text:
        return text
    text = _SQL_PARAMETERS.sub("[parameters: " + MASK + "]", text)
    text = _INPUT_VALUE.sub("input_value=" + MASK, text)
    values = known.within(text) if isinstance(known, KnownPersonalData) else known
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            # Whole words only ("An" in a name must not eat "An Hòa"); an escaped value may
            # end in a letter of an escape sequence, so only letters count as a boundary.
            text = re.sub(rf"(?<![^\W\d_]){re.escape(value)}(?![^\W\d_])", MASK, text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record before any handler formats it."""

    def __init__(self, known: KnownPersonalData) -> None:
        super().__init__()
        self.known = known

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_masked", False):
            return True
        known = self.known
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg = mask_text(message, known)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_text(text, known)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text, known)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, known)
        for key in _EXTRA_FIELDS:
            value = record.__dict__.get(key)
            if isinstance(value, str):
                record.__dict__[key] = mask_text(value, known)
        record._masked = True
        return True


# Fields our log lines add with `extra=` (JSON keys of their own).
_EXTRA_FIELDS = (
    "update_id",
    "update_type",
    "handler",
    "latency_ms",
    "outcome",
    "chat_kind",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, our extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    log_format: str = "text", level: str = "INFO", known: KnownPersonalData | None = None
) -> KnownPersonalData:
    """Root logging for a long-running process: one handler on stderr, masking first."""
    known = known if known is not None else KnownPersonalData()
    masking = PersonalDataFilter(known)
    root = logging.getLogger()
    if root.handlers:
        # Logging was set up by whoever runs us (a test runner, an embedding program): keep
        # their handlers, masked too.
        for existing in root.handlers:
            if not any(isinstance(f, PersonalDataFilter) for f in existing.filters):
                existing.addFilter(masking)
        return known
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(masking)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiogram writes its own "Update id=… is handled" line per update; ours carries the
    # handler and the outcome, so only aiogram's warnings and errors are kept.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines repeat every statement with its values.
    logging.getLogger("aiosqlite").setLevel(max(root.level, logging.INFO))
    return known
