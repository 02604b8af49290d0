"""Text as Telegram measures and stores it.

Telegram counts message lengths in UTF-16 code units (Bot API, "MessageEntity": offsets and
lengths are in UTF-16 code units; sendMessage text is 1-4096 characters *after entities
parsing*, counted the same way), so an emoji outside the Basic Multilingual Plane counts twice.
PostgreSQL refuses NUL in text values, and control characters have no place in what people read.
"""

from __future__ import annotations

import re

from storage.sanitize import strip_controls

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "index_at_units",
    "strip_controls",
    "truncate_utf16",
    "utf16_len",
]

# Bot API sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing".
TEXT_LIMIT = 4096
# Bot API sendPhoto/sendDocument: "Photo caption ..., 0-1024 characters after entities parsing".
CAPTION_LIMIT = 1024


# Characters outside the Basic Multilingual Plane: two UTF-16 units each (a surrogate pair).
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram text limit."""
    return len(text) + len(_ASTRAL.findall(text))


def index_at_units(text: str, units: int) -> int:
    """The largest index `i` such that `text[:i]` is at most `units` UTF-16 units long."""
    if units <= 0:
        return 0
    if len(text) * 2 <= units:
        return len(text)
    if _ASTRAL.search(text, 0, units) is None:
        return min(units, len(text))  # one unit per character up to there
    total = 0
    for i, ch in enumerate(text):
        total += 2 if ord(ch) > 0xFFFF else 1
        if total > units:
            return i
    return len(text)


def truncate_utf16(text: str, units: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `units` UTF-16 units (with `ellipsis` when it was cut)."""
    if utf16_len(text) <= units:
        return text
    return text[: index_at_units(text, units - utf16_len(ellipsis))].rstrip() + ellipsis
