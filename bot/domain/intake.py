"""Pure checks for the PAKN intake conversation (NĐ 20/2008 Điều 7 as amended by 92/2017):
clear content, the filer's name, address and a phone number or e-mail address."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from bot.domain.errors import UserFacingError
from bot.domain.text import utf16_len
from knowledge.normalize import fold

_SPACE = re.compile(r"\s+")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
# Vietnamese numbers after the 2018 mobile and 2017 landline renumbering:
# mobile 0 + (3|5|7|8|9) + 8 digits; landline 02 + 9 digits (area code + subscriber).
_MOBILE = re.compile(r"^0[35789]\d{8}$")
_LANDLINE = re.compile(r"^02\d{9}$")
# Words that mark a complaint or denunciation (Luật Khiếu nại 2011, Luật Tố cáo 2018): those
# are not PAKN (NĐ 20/2008/NĐ-CP Điều 2) and go to other channels.
_COMPLAINT_MARKERS = ("khieu nai", "to cao", "to giac", "khoi kien", "kien toa")


def clean_text(text: str) -> str:
    """NFC, no control characters, collapsed blank runs; what we store for the citizen."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def content_fingerprint(text: str) -> str:
    """Hash of the content as folded words: resubmitting the same text (any accents) matches."""
    return hashlib.sha256(" ".join(fold(text).split()).encode()).hexdigest()


def looks_like_complaint(text: str) -> bool:
    """True when the content reads as a khiếu nại / tố cáo rather than a PAKN."""
    folded = f" {' '.join(fold(text).split())} "
    return any(f" {marker} " in folded for marker in _COMPLAINT_MARKERS)


def validate_content(text: str | None, *, min_chars: int, max_chars: int) -> str:
    """The case content, cleaned; errors say what is wrong in plain words."""
    cleaned = clean_text(text or "")
    if not cleaned:
        raise UserFacingError("intake.content_empty")
    if len(cleaned) < min_chars:
        raise UserFacingError("intake.content_short", min=min_chars)
    # Telegram's limits count UTF-16 units (an emoji is two), and the content must still fit
    # in the summary and the case card, so the maximum is counted the same way.
    if utf16_len(cleaned) > max_chars:
        raise UserFacingError("intake.content_long", max=max_chars, length=utf16_len(cleaned))
    return cleaned


def validate_name(text: str | None) -> str:
    """A person's full name: letters, spaces, a few punctuation marks; 2–100 characters."""
    name = clean_text(text or "").replace("\n", " ")
    if len(name) < 2 or utf16_len(name) > 100:
        raise UserFacingError("intake.name_invalid")
    if any(ch.isdigit() for ch in name) or not any(ch.isalpha() for ch in name):
        raise UserFacingError("intake.name_invalid")
    if any(not (ch.isalpha() or ch in " .'-" or unicodedata.category(ch) == "Mn") for ch in name):
        raise UserFacingError("intake.name_invalid")
    return name


def validate_address(text: str | None) -> str:
    """A postal address: 5–300 characters with at least one letter."""
    address = clean_text(text or "").replace("\n", ", ")
    if len(address) < 5 or utf16_len(address) > 300 or not any(ch.isalpha() for ch in address):
        raise UserFacingError("intake.address_invalid")
    return address


def normalize_phone(raw: str) -> str | None:
    """A Vietnamese phone number in national form (0…), or None if it is not one."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not digits.isdigit():
        return None
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    return None


@dataclass
class Contact:
    phone: str | None = None
    email: str | None = None
    problems: list[str] = field(default_factory=list)


def parse_contact(text: str | None) -> Contact:
    """Phone and/or e-mail typed in one message, separated by spaces, commas or semicolons."""
    contact = Contact()
    raw = clean_text(text or "")
    if not raw:
        raise UserFacingError("intake.contact_empty")
    # Split on separators but keep phone numbers written with spaces ("0912 345 678") whole.
    chunks = [c.strip() for c in re.split(r"[,;\n]|\s(?=\S*@)|(?<=\.[a-z]{2})\s", raw) if c.strip()]
    for chunk in chunks:
        for piece in [chunk] if "@" not in chunk else chunk.split():
            if "@" in piece:
                if _EMAIL.match(piece) and contact.email is None:
                    contact.email = piece.lower()
                else:
                    raise UserFacingError("intake.email_invalid", value=piece)
            else:
                phone = normalize_phone(piece)
                if phone is None:
                    raise UserFacingError("intake.phone_invalid", value=piece)
                contact.phone = contact.phone or phone
    if not (contact.phone or contact.email):
        raise UserFacingError("intake.contact_empty")
    return contact
