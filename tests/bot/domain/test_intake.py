"""Pure checks of the intake conversation (NĐ 20/2008 Điều 7 as amended by 92/2017)."""

from __future__ import annotations

import unicodedata

import pytest

from bot.domain.codes import ALPHABET, new_tracking_code, normalize_code
from bot.domain.errors import UserFacingError
from bot.domain.intake import (
    content_fingerprint,
    looks_like_complaint,
    normalize_phone,
    parse_contact,
    validate_address,
    validate_content,
    validate_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("0283 8123 456", "02838123456"),
        ("0312345678", "0312345678"),
        ("12345", None),
        ("0112345678", None),
        ("091234567", None),
        ("09123456789", None),
        ("abc", None),
        ("+1 212 555 0100", None),
    ],
)
def test_vietnamese_phone_numbers(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_contact_phone_and_email_together() -> None:
    contact = parse_contact("0912 345 678, Lan.Nguyen@Example.vn")
    assert (contact.phone, contact.email) == ("0912345678", "lan.nguyen@example.vn")
    assert parse_contact("lan@example.vn").phone is None


@pytest.mark.parametrize("bad", ["", "   ", "abc@", "0912"])
def test_bad_contact_explains(bad: str) -> None:
    with pytest.raises(UserFacingError):
        parse_contact(bad)


def test_complaints_and_denunciations_are_detected_in_any_spelling() -> None:
    assert looks_like_complaint("Tôi muốn TỐ CÁO cán bộ xã")
    assert looks_like_complaint("toi khieu nai quyet dinh thu hoi dat")
    assert looks_like_complaint(unicodedata.normalize("NFD", "đơn khiếu nại"))
    assert not looks_like_complaint("Hồ sơ khai sinh trả chậm ba ngày")
    assert not looks_like_complaint("cáo phó đăng báo")  # "cáo" alone is not "tố cáo"


def test_content_limits_and_cleaning() -> None:
    assert validate_content(
        "  Hồ sơ\x00 bị trả chậm   nhiều ngày  ", min_chars=5, max_chars=100
    ) == ("Hồ sơ bị trả chậm nhiều ngày")
    for text, key in (
        ("", "intake.content_empty"),
        ("ngắn", "intake.content_short"),
        ("x" * 101, "intake.content_long"),
    ):
        with pytest.raises(UserFacingError) as err:
            validate_content(text, min_chars=5, max_chars=100)
        assert err.value.key == key


def test_names_and_addresses() -> None:
    assert validate_name(" Nguyễn  Thị Lan ") == "Nguyễn Thị Lan"
    assert validate_name(unicodedata.normalize("NFD", "Đỗ Văn Hải")) == "Đỗ Văn Hải"
    for bad in ("A", "Lan123", "<b>Lan</b>", "x" * 101):
        with pytest.raises(UserFacingError):
            validate_name(bad)
    assert validate_address("12 Lê Lợi\nphường Xuân Hương") == "12 Lê Lợi, phường Xuân Hương"
    with pytest.raises(UserFacingError):
        validate_address("123")


def test_fingerprint_ignores_accents_case_and_spacing() -> None:
    assert content_fingerprint("Hồ sơ  trả CHẬM") == content_fingerprint("ho so tra cham")
    assert content_fingerprint("hồ sơ trả chậm") != content_fingerprint("hồ sơ trả nhanh")


def test_tracking_codes_are_readable_and_not_sequential() -> None:
    codes = {new_tracking_code("PA") for _ in range(2000)}
    assert len(codes) == 2000  # no collisions in a day's worth
    for code in list(codes)[:50]:
        prefix, a, b = code.split("-")
        assert prefix == "PA" and len(a) == 4 and len(b) == 2
        assert set(a + b) <= set(ALPHABET) and not set(a + b) & set("01OIL")
    assert normalize_code(" pa 7kq4 2m ") == "PA-7KQ4-2M"
