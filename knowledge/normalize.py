"""Vietnamese text normalisation for search: Unicode forms, tone placement, folding, tokens.

People type Vietnamese in many ways: with or without diacritics, in decomposed Unicode (NFD,
common on macOS and in text pasted from PDFs), with the tone mark on either vowel of "oa", "oe",
"uy" (hoà / hòa), with "i" or "y" after a consonant (kí / ký), in chat abbreviations (ko, dc,
ntn) and sometimes in raw Telex or VNI keystrokes when the input method is off (ddawng kys).
Everything here is pure and deterministic; the search index and the queries go through the same
functions so both sides meet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

__all__ = [
    "ABBREVIATIONS",
    "analyze",
    "clean",
    "decode_telex",
    "decode_vni",
    "fold",
    "nfc",
    "normalize_tones",
    "syllables",
    "tokenize",
]

# Combining tone marks (NFD). The other combining marks used by Vietnamese (circumflex,
# breve, horn) belong to the vowel itself and stay where they are.
_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
_TONE_MARKS = frozenset((_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT))
_VOWELS = frozenset("aăâeêioôơuưy")
_SHAPED_VOWELS = frozenset("ăâêôơư")

# Look-alike letters seen in pasted text: Icelandic eth instead of Vietnamese đ.
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})

_WORD_RE = re.compile(r"[^\W_]+")
_SPACE_RE = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC with look-alike letters (Ð, ð) replaced by Đ, đ."""
    return unicodedata.normalize("NFC", text).translate(_LOOKALIKES)


def _tone_position(base: str) -> int | None:
    """Index of the vowel that carries the tone in the toneless syllable `base` (new rule).

    The rule (the one official documents use: hòa, thủy, khỏe): a shaped vowel (ă â ê ô ơ ư)
    takes the tone, the last one when there are two (ươ); otherwise a lone vowel takes it; in
    a closed syllable the last vowel of the nucleus; in an open one the middle of three vowels
    or the first of two. "qu" and "gi" before another vowel are onsets, not vowels.
    """
    low = base.lower()
    n = len(low)
    i = 0
    while i < n and low[i] not in _VOWELS:
        i += 1
    if i == n:
        return None
    start = i
    nxt_is_vowel = start + 1 < n and low[start + 1] in _VOWELS
    if nxt_is_vowel and (
        (low[start] == "u" and start > 0 and low[start - 1] == "q")
        or (low[start] == "i" and start == 1 and low[0] == "g")
    ):
        start += 1
    end = start
    while end < n and low[end] in _VOWELS:
        end += 1
    if any(ch in _VOWELS for ch in low[end:]):
        return None  # two vowel groups: not a single syllable
    shaped = [j for j in range(start, end) if low[j] in _SHAPED_VOWELS]
    if shaped:
        return shaped[-1]
    length = end - start
    if length == 1:
        return start
    if end < n:
        return end - 1
    if length >= 3:
        return start + 1
    return start


def _retone_syllable(word: str) -> str:
    """Move the tone mark of one NFC syllable onto the vowel the rule designates."""
    tone = ""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_MARKS:
            if tone and ch != tone:
                return word  # two different tones: not a syllable we understand
            tone = ch
        else:
            kept.append(ch)
    if not tone:
        return word
    base = unicodedata.normalize("NFC", "".join(kept))
    pos = _tone_position(base)
    if pos is None:
        return word
    return unicodedata.normalize("NFC", base[: pos + 1] + tone + base[pos + 1 :])


def normalize_tones(text: str) -> str:
    """Return NFC `text` with tone marks placed by rule (hoà→hòa, tuỳ→tùy, thuỷ→thủy)."""
    return _WORD_RE.sub(lambda m: _retone_syllable(m.group()), nfc(text))


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(code)
        stripped = "".join(
            c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
        )
        if stripped != ch and stripped.isascii():
            table[code] = stripped
    for code in range(0x0300, 0x0370):  # stray combining marks left after NFC
        table[code] = None
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    table[ord("\u00f0")] = "d"
    table[ord("\u00d0")] = "D"
    return table


_FOLD_TABLE = _build_fold_table()


def fold(text: str) -> str:
    """Lowercase `text` and strip every diacritic (đ→d): "Đăng ký" → "dang ky"."""
    return nfc(text).lower().translate(_FOLD_TABLE)


def clean(text: str) -> str:
    """Return NFC, tone-normalised, lowercase text with punctuation/emoji removed."""
    text = normalize_tones(unicodedata.normalize("NFKC", text))
    return " ".join(_WORD_RE.findall(text.lower()))


# Spelling variants that mean the same syllable: "kí"/"ký", "lí"/"lý", "qui"/"quy".
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")
_I_TO_Y = str.maketrans("iíìỉĩị", "yýỳỷỹỵ")
_CONSONANT_Y_RE = re.compile(r"^(?:[bcdđghklmnprstvx]|ch|kh|nh|ph|th|tr|ng|ngh)[yýỳỷỹỵ]$")
_QUI_RE = re.compile(r"^qu[iíìỉĩị]$")


def _unify_spelling(syllable: str) -> str:
    if _CONSONANT_Y_RE.match(syllable):
        return syllable[:-1] + syllable[-1].translate(_Y_TO_I)
    if _QUI_RE.match(syllable):
        return syllable[:-1] + syllable[-1].translate(_I_TO_Y)
    if syllable.startswith("dz") and len(syllable) > 2:  # chat spelling: dzậy = vậy/dậy
        return "d" + syllable[2:]
    return syllable


# Chat spellings of onsets that Vietnamese does not have: fép = phép, wá = quá, jờ = giờ,
# zui = vui. Applied only to words that start with such a letter. ("kái" for "cái" is left
# alone: "kuyết" is more often "khuyết" with a dropped h, which the search repairs.)
_ONSET_FIXES: tuple[tuple[str, str], ...] = (("f", "ph"), ("w", "qu"), ("j", "gi"), ("z", "v"))


def _fix_onset(word: str) -> str:
    for wrong, right in _ONSET_FIXES:
        if word.startswith(wrong) and len(word) > 1 and word[1:2] not in "zw":
            return right + word[1:]
    return word


@lru_cache(maxsize=200_000)
def _syllable(word: str) -> tuple[str, str]:
    """(folded, accented) form of one lowercase word; cached, the vocabulary is small."""
    accented = _unify_spelling(_retone_syllable(word))
    return accented.translate(_FOLD_TABLE), accented


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    if "\u00f0" in text:  # str.translate is slow on long non-ASCII text; this char is rare
        text = text.replace("\u00f0", "đ")
    return _WORD_RE.findall(text)


def syllables(text: str) -> list[str]:
    """Split `text` into lowercase, tone-normalised syllables with diacritics kept."""
    return [_syllable(w)[1] for w in _words(text)]


# Chat abbreviations and administrative acronyms, keyed by the folded token. Only tokens that
# are not themselves Vietnamese syllables belong here ("hong" could be "hỏng", so it is out).
ABBREVIATIONS: Mapping[str, str] = {
    # chat speak
    "k": "không",
    "ko": "không",
    "kg": "không",
    "kh": "không",
    "khg": "không",
    "khum": "không",
    "hok": "không",
    "hem": "không",
    "j": "gì",
    "dc": "được",
    "dk": "đăng ký",
    "dki": "đăng ký",
    "dky": "đăng ký",
    "ntn": "như thế nào",
    "vs": "với",
    "mk": "mình",
    "mik": "mình",
    "mjk": "mình",
    "ng": "người",
    "nc": "nước",
    "bn": "bao nhiêu",
    "bnhieu": "bao nhiêu",
    "bh": "bảo hiểm",
    "r": "rồi",
    "z": "vậy",
    "trc": "trước",
    "ak": "à",
    "uk": "ừ",
    "oke": "ok",
    "tg": "thời gian",
    "sd": "sử dụng",
    "sdt": "số điện thoại",
    "hs": "hồ sơ",
    "xn": "xác nhận",
    "cty": "công ty",
    "tp": "thành phố",
    "hcm": "hồ chí minh",
    "nhug": "những",
    "nhg": "những",
    "nhiu": "nhiêu",
    "lm": "làm",
    "ms": "mới",
    "mn": "mọi người",
    "e": "em",
    "v": "vậy",
    "cf": "cà phê",
    "cafe": "cà phê",
    "kd": "kinh doanh",
    "tk": "tài khoản",
    "cavet": "cà vẹt",
    "cavat": "cà vẹt",
    "ngta": "người ta",
    "tphcm": "thành phố hồ chí minh",
    "sg": "sài gòn",
    # administrative acronyms
    "tthc": "thủ tục hành chính",
    "dvc": "dịch vụ công",
    "ubnd": "ủy ban nhân dân",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh thư",
    "cccd": "căn cước công dân",
    "gks": "giấy khai sinh",
    "gplx": "giấy phép lái xe",
    "gpkd": "giấy phép kinh doanh",
    "gpxd": "giấy phép xây dựng",
    "gpld": "giấy phép lao động",
    "dkkd": "đăng ký kinh doanh",
    "gcn": "giấy chứng nhận",
    "gcnqsdd": "giấy chứng nhận quyền sử dụng đất",
    "qsdd": "quyền sử dụng đất",
    "qsd": "quyền sử dụng",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "bhtn": "bảo hiểm thất nghiệp",
    "tnld": "tai nạn lao động",
    "hkd": "hộ kinh doanh",
    "dn": "doanh nghiệp",
    "lltp": "lý lịch tư pháp",
    "pccc": "phòng cháy chữa cháy",
    "attp": "an toàn thực phẩm",
    "vsattp": "vệ sinh an toàn thực phẩm",
    "xkld": "xuất khẩu lao động",
    "nkt": "người khuyết tật",
    "nct": "người cao tuổi",
    "ldtbxh": "lao động thương binh và xã hội",
    "tnhh": "trách nhiệm hữu hạn",
    "mtv": "một thành viên",
    "1tv": "một thành viên",
    "thpt": "trung học phổ thông",
    "thcs": "trung học cơ sở",
    "bds": "bất động sản",
    "qd": "quyết định",
}


def _expand_table() -> dict[str, tuple[tuple[str, str], ...]]:
    table: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, value in ABBREVIATIONS.items():
        table[key] = tuple(_syllable(w) for w in _words(value))
    return table


_EXPANSIONS = _expand_table()


_CACHE_LIMIT = 300_000
# word → analysed pairs, one cache per `expand` flag; bounded so odd input cannot grow it forever
_CACHES: dict[bool, dict[str, tuple[tuple[str, str], ...]]] = {True: {}, False: {}}


def _analyze_word(word: str, expand: bool) -> tuple[tuple[str, str], ...]:
    folded, accented = _syllable(word)
    result: tuple[tuple[str, str], ...] = ((folded, accented),)
    if expand:
        expansion = _EXPANSIONS.get(folded)
        # only a token typed without tone marks is an abbreviation ("đc" is fine, "dé" is not)
        if expansion is not None and folded == accented.replace("đ", "d"):
            result = expansion
        elif folded[:1] in "fwjz" and folded.isalpha():
            fixed = _fix_onset(accented)
            if fixed != accented:
                result = (_syllable(fixed),)
    cache = _CACHES[expand]
    if len(cache) < _CACHE_LIMIT:
        cache[word] = result
    return result


def analyze(text: str, *, expand: bool = True) -> list[tuple[str, str]]:
    """Return (folded, accented) syllable pairs of `text`, abbreviations expanded if asked."""
    get = _CACHES[expand].get
    return [pair for word in _words(text) for pair in (get(word) or _analyze_word(word, expand))]


def tokenize(text: str, *, expand: bool = True) -> list[str]:
    """Return the folded syllable tokens of `text`: "Đăng kí được ko?" → [dang, ki, duoc, khong]."""
    return [f for f, _ in analyze(text, expand=expand)]


# --- Raw keystrokes typed with the input method switched off --------------------------------

_TELEX_TONES = {"s": _ACUTE, "f": _GRAVE, "r": _HOOK, "x": _TILDE, "j": _DOT}
_TELEX_SHAPES = (
    ("uow", "ươ"),
    ("dd", "đ"),
    ("aa", "â"),
    ("aw", "ă"),
    ("ee", "ê"),
    ("oo", "ô"),
    ("ow", "ơ"),
    ("uw", "ư"),
)
_SYLLABLE_RE = re.compile(
    r"^(?:ngh|ng|nh|ch|tr|th|kh|ph|gh|gi|qu|[bcdđghklmnpqrstvx])?"
    r"[aăâeêioôơuưy]{1,3}(?:ng|nh|ch|[cmnpt])?$"
)


def is_syllable(folded: str) -> bool:
    """Whether a folded syllable is spelled like a Vietnamese one ("xang" yes, "tma" no)."""
    return bool(_SYLLABLE_RE.match(folded))


def _apply_tone(base: str, tone: str) -> str | None:
    if not _SYLLABLE_RE.match(base):
        return None
    if not tone:
        return base
    pos = _tone_position(base)
    if pos is None:
        return None
    return unicodedata.normalize("NFC", base[: pos + 1] + tone + base[pos + 1 :])


def decode_telex(token: str) -> str | None:
    """Decode one Telex-typed ASCII syllable ("ddawngs" → "đắng"); None if it is not Telex."""
    word = token.lower()
    if not word.isascii() or not word.isalpha() or len(word) < 2:
        return None
    tone = ""
    if word[-1] in _TELEX_TONES and any(c in "aeiouy" for c in word[:-1]):
        tone = _TELEX_TONES[word[-1]]
        word = word[:-1]
    base = word
    for pattern, repl in _TELEX_SHAPES:
        base = base.replace(pattern, repl)
    if base.endswith("w") and "w" not in base[:-1]:
        # "w" typed after the final consonant shapes the nucleus: huongw → hương
        stem = base[:-1]
        for plain, shaped in (("uo", "ươ"), ("u", "ư"), ("o", "ơ"), ("a", "ă")):
            if plain in stem:
                base = stem.replace(plain, shaped, 1)
                break
    if "w" in base:
        base = base.replace("w", "ư")
    if base == word and not tone:
        return None
    return _apply_tone(base, tone)


_VNI_TONES = {"1": _ACUTE, "2": _GRAVE, "3": _HOOK, "4": _TILDE, "5": _DOT}
_VNI_SHAPES = {
    ("a", "6"): "â",
    ("e", "6"): "ê",
    ("o", "6"): "ô",
    ("a", "8"): "ă",
    ("o", "7"): "ơ",
    ("u", "7"): "ư",
    ("d", "9"): "đ",
}


def decode_vni(token: str) -> str | None:
    """Decode one VNI-typed syllable ("d9a8ng1" → "đắng"); None if it is not VNI."""
    word = token.lower()
    if not word.isascii() or word.isalpha() or word.isdigit() or not word[0].isalpha():
        return None
    tone = ""
    letters: list[str] = []
    for ch in word:
        if ch in _VNI_TONES:
            tone = _VNI_TONES[ch]
        elif ch.isdigit():
            # shape digits may follow the final consonant (duong7 = dương): shape the last vowel
            targets = [i for i, c in enumerate(letters) if (c, ch) in _VNI_SHAPES]
            if not targets:
                return None
            idx = targets[-1] if ch != "7" else targets[0]
            if ch == "7" and idx + 1 < len(letters) and (letters[idx + 1], ch) in _VNI_SHAPES:
                letters[idx + 1] = _VNI_SHAPES[(letters[idx + 1], ch)]
            letters[idx] = _VNI_SHAPES[(letters[idx], ch)]
        else:
            letters.append(ch)
    return _apply_tone("".join(letters), tone)
