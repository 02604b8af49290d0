"""Every text value is cleaned before it is stored: PostgreSQL refuses NUL in `text` and
`jsonb` ("invalid byte sequence" / "unsupported Unicode escape sequence"), and control
characters have no place in what people read. One `before_flush` hook covers every ORM write,
so no handler or service can forget it."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.orm import Session

# Unicode category Cc is exactly C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F); line
# breaks and tabs are kept (carriage returns were made line breaks before).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without NUL and other control characters (Unicode category Cc), keeping line
    breaks and tabs; carriage returns become line breaks. Format characters (the zero-width
    joiner of emoji sequences) are kept."""
    if text.isprintable():
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def clean_value(value: Any) -> Any:
    """Strings cleaned; lists and dicts (JSON columns) cleaned recursively."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


@event.listens_for(Session, "before_flush")
def _clean_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        mapper = inspect(obj).mapper
        for column in mapper.columns:
            if not isinstance(column.type, String | JSON):
                continue
            key = mapper.get_property_by_column(column).key
            value = obj.__dict__.get(key)
            if value is None or isinstance(value, int | float | bool):
                continue
            cleaned = clean_value(value)
            if cleaned != value:
                setattr(obj, key, cleaned)
