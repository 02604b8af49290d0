"""Tracking codes: short, readable, not sequential and not guessable (e.g. PA-7KQ4-2M)."""

from __future__ import annotations

import secrets

# Crockford-style alphabet without 0/O, 1/I/L, U: nothing a citizen can misread on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_code(prefix: str) -> str:
    """A fresh random code; 30**6 ≈ 7.3e8 values per prefix, so collisions are rare and retried."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def normalize_code(text: str) -> str:
    """Read a code the way citizens type it: any case, spaces or missing dashes."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(raw) == 8:
        return f"{raw[:2]}-{raw[2:6]}-{raw[6:]}"
    return text.strip().upper()
