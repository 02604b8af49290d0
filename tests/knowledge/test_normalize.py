from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.normalize import (
    analyze,
    clean,
    decode_telex,
    decode_vni,
    fold,
    nfc,
    normalize_tones,
    syllables,
    tokenize,
)

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđbcdghklmnpqrstvx"
)
vietnamese_text = st.text(
    alphabet=st.sampled_from(VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + " ,.?!"),
    max_size=60,
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("tuỳ", "tùy"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("hoá", "hóa"),
        ("uỷ", "ủy"),
        ("Uỷ ban", "Ủy ban"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
        ("xoá", "xóa"),
        ("loà", "lòa"),
    ],
)
def test_old_tone_placement_becomes_the_official_one(old: str, new: str) -> None:
    assert normalize_tones(old) == new
    assert normalize_tones(unicodedata.normalize("NFD", old)) == new


@pytest.mark.parametrize(
    "word",
    ["hòa", "hoàng", "người", "quý", "quyển", "giữa", "gì", "giấy", "thuở", "của", "khuỷu", "oái"],
)
def test_correct_tone_placement_is_kept(word: str) -> None:
    assert normalize_tones(word) == word


def test_normalize_tones_leaves_other_text_alone() -> None:
    text = "Mẫu CT07, email: abc@x.vn — 14 tuổi 🙂"
    assert normalize_tones(text) == text


@given(vietnamese_text)
def test_nfd_and_nfc_input_give_the_same_tokens(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert tokenize(nfd) == tokenize(text)
    assert fold(nfd) == fold(text)
    assert syllables(nfd) == syllables(text)


@given(vietnamese_text)
def test_normalize_tones_is_idempotent(text: str) -> None:
    once = normalize_tones(text)
    assert normalize_tones(once) == once
    assert fold(once) == fold(text)  # moving a tone mark never changes the letters


@given(vietnamese_text)
def test_fold_strips_every_diacritic(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert folded == folded.lower()


def test_nfc_replaces_lookalike_eth() -> None:
    assert nfc("\u00d0à Nẵng") == "Đà Nẵng"
    assert fold("\u00d0à Nẵng") == "da nang"


def test_fold() -> None:
    assert fold("Đăng Ký KHAI SINH") == "dang ky khai sinh"
    assert fold("Giấy chứng nhận quyền sử dụng đất") == "giay chung nhan quyen su dung dat"


def test_tokenize_drops_punctuation_and_emoji_and_collapses_space() -> None:
    assert tokenize("  Đăng   ký\tkhai-sinh!!! 🙏🙏 ở đâu???\n") == [
        "dang",
        "ki",
        "khai",
        "sinh",
        "o",
        "dau",
    ]
    assert tokenize("😂😂😂 ??? ...") == []
    assert tokenize("") == []


def test_i_and_y_spellings_meet() -> None:
    assert tokenize("đăng kí") == tokenize("đăng ký") == tokenize("dang ky")
    assert tokenize("lí lịch") == tokenize("lý lịch")
    assert tokenize("qui định") == tokenize("quy định")


@pytest.mark.parametrize(
    ("chat", "plain"),
    [
        ("ko", "không"),
        ("k", "không"),
        ("hok", "không"),
        ("j", "gì"),
        ("dc", "được"),
        ("đc", "được"),
        ("ntn", "như thế nào"),
        ("gplx", "giấy phép lái xe"),
        ("gcn", "giấy chứng nhận"),
        ("qsdđ", "quyền sử dụng đất"),
        ("bhyt", "bảo hiểm y tế"),
        ("bhxh", "bảo hiểm xã hội"),
        ("cccd", "căn cước công dân"),
        ("hkd", "hộ kinh doanh"),
        ("tthc", "thủ tục hành chính"),
        ("CCCD", "căn cước công dân"),
        ("fép", "phép"),
        ("wá", "quá"),
    ],
)
def test_chat_spellings_expand(chat: str, plain: str) -> None:
    assert tokenize(chat) == tokenize(plain)


def test_abbreviations_only_when_typed_bare() -> None:
    # "kế" is a real syllable; only the bare chat form "k" means "không"
    assert tokenize("kế") == ["ke"]
    assert tokenize("ke", expand=False) == ["ke"]
    assert tokenize("ko dc", expand=False) == ["ko", "dc"]


def test_analyze_keeps_accented_forms() -> None:
    assert analyze("Thủ tục đăng kí") == [
        ("thu", "thủ"),
        ("tuc", "tục"),
        ("dang", "đăng"),
        ("ki", "kí"),
    ]
    assert clean("  HOÀ,  bình!! ") == "hòa bình"


@pytest.mark.parametrize(
    ("keys", "word"),
    [
        ("ddawngs", "đắng"),
        ("kys", "ký"),
        ("tieengs", "tiếng"),
        ("dduwowngf", "đường"),
        ("huongw", "hương"),
        ("ddoocj", "độc"),
        ("truss", None),  # not a syllable after decoding
    ],
)
def test_decode_telex(keys: str, word: str | None) -> None:
    assert decode_telex(keys) == word


def test_decode_telex_rejects_plain_words() -> None:
    assert decode_telex("khai") is None
    assert decode_telex("sinh") is None
    assert decode_telex("hello!") is None


@pytest.mark.parametrize(
    ("keys", "word"),
    [("d9a8ng1", "đắng"), ("ky1", "ký"), ("duong7", "dương"), ("ho65", "hộ")],
)
def test_decode_vni(keys: str, word: str) -> None:
    assert decode_vni(keys) == word


def test_decode_vni_rejects_codes_and_numbers() -> None:
    assert decode_vni("ct07") is None
    assert decode_vni("14") is None
    assert decode_vni("khai") is None
